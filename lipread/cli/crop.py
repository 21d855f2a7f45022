"""`lipread crop`: mouth-region cropping."""

from lipread.cli._common import not_built_command

command = not_built_command("crop", "mouth-region cropping", "Crop stable mouth regions from VIDEO files.")
