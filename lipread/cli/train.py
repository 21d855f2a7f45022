"""`lipread train`: model training."""

from lipread.cli._common import not_built_command

command = not_built_command("train", "model training", "Train a model from a YAML recipe.")
