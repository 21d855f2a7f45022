"""`lipread train RECIPE.yaml [key=value ...]`: train a model from a recipe."""

from __future__ import annotations

import click

from lipread.cli._common import CONTEXT


@click.command("train", context_settings=CONTEXT, short_help="Train a model from a YAML recipe.")
@click.argument("recipe", type=click.Path(dir_okay=False))
@click.argument("overrides", nargs=-1, metavar="[KEY=VALUE]...")
@click.option("--resume", is_flag=True, help="Continue the run in the run folder from its newest checkpoint.")
@click.option("-o", "--output-dir", "--out", "out_dir", metavar="DIR", default=None, type=click.Path(),
              help="Run folder (same as out_dir=DIR; created if missing; checked before any work starts). "
                   "[default: out_dir of the recipe]")
def command(recipe, overrides, resume, out_dir):
    """Train a model from RECIPE (YAML) with key.sub=value OVERRIDES (e.g. max_steps=500 data.batch_size=4).

    Every override is checked against the recipe's keys, types and ranges before training starts.
    Writes config.yaml, metrics.jsonl, TensorBoard logs (tb/), resumable checkpoints
    (checkpoints/step_N/) and the best model by validation WER (best/) into the run folder; a folder
    that already holds a run is refused unless --resume continues it.
    For several GPUs or machines, launch with torchrun:
    `torchrun --nproc_per_node=N -m lipread train RECIPE.yaml`.
    """
    from lipread.train.config import load_train_config

    cfg = load_train_config(recipe, list(overrides))
    if out_dir:
        cfg.out_dir = out_dir

    from lipread.train.loop import Trainer

    metrics = Trainer(cfg, resume=resume).fit()
    if metrics:
        click.echo(
            f"step {metrics['step']}: val WER {100 * metrics['val_wer']:.2f}%  CER {100 * metrics['val_cer']:.2f}%"
        )
