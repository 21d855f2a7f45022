"""`lipread prepare`: dataset preparation."""

from lipread.cli._common import not_built_command

command = not_built_command("prepare", "dataset preparation", "Prepare a corpus (GRID, LRS2, LRS3, manifest) into a training cache.")
