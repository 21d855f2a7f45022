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
    from fnmatch import fnmatchcase

    from lipread.errors import ConfigError
    from lipread.models.registry import list_models
    from lipread.models.zoo import zoo_entries

    names = list_models(pattern)
    zoo = [e for e in zoo_entries() if fnmatchcase(e.name, pattern)]
    if not names and not zoo:
        raise ConfigError(
            f"no registered model matches {pattern!r}", fix="Run `lipread models` to see them all."
        )
    rows = [describe(n) for n in names]
    if as_json:  # the registered architectures; zoo models are in the table (and lipread.models.zoo)
        click.echo(json.dumps(rows, indent=2))
        return
    if rows:
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
    if zoo:  # trained models loadable by name (-m NAME), and where each was found
        click.echo(("\n" if rows else "") + "zoo models (by name; found in $LIPREAD_MODELS, the checkout's models/, the package, ~/.cache)")
        width = max(len(e.name) for e in zoo)
        for e in zoo:
            click.echo(f"{e.name:<{width}}  {e.source:<8}  {e.path}")
