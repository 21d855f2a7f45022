"""`lipread train RECIPE.yaml [key=value ...]`: train a model from a recipe."""

from __future__ import annotations

import click

from lipread.cli._common import CONTEXT


@click.command("train", context_settings=CONTEXT)
@click.argument("recipe", type=click.Path(dir_okay=False))
@click.argument("overrides", nargs=-1)
@click.option("--resume", is_flag=True, help="Continue from the newest checkpoint in the run folder.")
@click.option("--out", "out_dir", default=None, help="Run folder (overrides out_dir in the recipe).")
def command(recipe, overrides, resume, out_dir):
    """Train a model from RECIPE (YAML) with key.sub=value OVERRIDES.

    Writes config.yaml, metrics.jsonl, TensorBoard logs (tb/), resumable checkpoints
    (checkpoints/step_N/) and the best model by validation WER (best/) into the run folder.
    For several GPUs or machines, launch with torchrun:
    `torchrun --nproc_per_node=N -m lipread train RECIPE.yaml`.
    """
    from lipread.train.config import load_train_config
    from lipread.train.loop import Trainer

    overrides = list(overrides)
    if out_dir:
        overrides.append(f"out_dir={out_dir}")
    cfg = load_train_config(recipe, overrides)
    metrics = Trainer(cfg, resume=resume).fit()
    if metrics:
        click.echo(
            f"step {metrics['step']}: val WER {100 * metrics['val_wer']:.2f}%  CER {100 * metrics['val_cer']:.2f}%"
        )
