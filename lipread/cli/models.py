"""`lipread models`: the model registry listing."""

from lipread.cli._common import not_built_command

command = not_built_command("models", "the model registry listing", "List registered models with parameter counts and inputs.")
