"""`lipread evaluate`: model evaluation."""

from lipread.cli._common import not_built_command

command = not_built_command("evaluate", "model evaluation", "Evaluate a checkpoint on a prepared dataset: WER and CER.")
