"""`lipread models [PATTERN]`: list registered models with parameter count and expected input.

Models are built on the ``meta`` device (shapes only, no memory, no initialisation), so listing the
138 M-parameter VGGs is instant.
"""

from __future__ import annotations

import json

import click

from lipread.cli._common import CONTEXT


def describe(name: str) -> dict:
    """``{"name", "params", "input", "description"}`` of registered model ``name`` (built on meta)."""
    import torch

    from lipread.models.registry import MODELS, create_model

    with torch.device("meta"):
        model = create_model(name)
    doc = (MODELS.get(name).__doc__ or "").strip().splitlines()
    return {
        "name": name,
        "params": sum(p.numel() for p in model.parameters()),
        "input": getattr(model, "input_spec", "?"),
        "description": doc[0] if doc else "",
    }


@click.command("models", context_settings=CONTEXT)
@click.argument("pattern", default="*")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list instead of a table.")
def command(pattern: str, as_json: bool):
    """List registered models matching PATTERN (shell-style, e.g. 'resnet*') with their parameter
    count and expected input shape (B batch, C channels, T frames, H, W)."""
    from lipread.errors import ConfigError
    from lipread.models.registry import list_models

    names = list_models(pattern)
    if not names:
        raise ConfigError(
            f"no registered model matches {pattern!r}", fix="Run `lipread models` to see them all."
        )
    rows = [describe(n) for n in names]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    widths = [max(len(h), *(len(str(v)) for v in col)) for h, col in zip(
        ("model", "params", "input"),
        ([r["name"] for r in rows], [f"{r['params']:,}" for r in rows], [r["input"] for r in rows]),
        strict=True,
    )]  # fmt: skip
    click.echo(f"{'model':<{widths[0]}}  {'params':>{widths[1]}}  {'input':<{widths[2]}}  description")
    for r in rows:
        params = f"{r['params']:,}"
        click.echo(
            f"{r['name']:<{widths[0]}}  {params:>{widths[1]}}  {r['input']:<{widths[2]}}  {r['description']}"
        )
