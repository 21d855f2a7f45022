"""`lipread models [PATTERN]`: the zoo's trained models and the registered architectures.

Trained models (what ``-m NAME`` loads) show the WER their card records, their size and the folder
they were found in. Architectures show their parameter count and expected input; they are built on the
``meta`` device (shapes only, no memory, no initialisation), so listing the 138 M-parameter VGGs is instant.
"""

from __future__ import annotations

import fnmatch
import json

import click

from lipread.cli._common import CONTEXT, JSON_HELP


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


def describe_trained(entry) -> dict:
    """``{"name", "architecture", "wer", "cer", "modality", "wer_by_modality", "evaluated_on", "default",
    "size_bytes", "source", "path"}`` of a zoo entry (:class:`lipread.models.zoo.ZooEntry`); ``source`` says
    where it was found; ``modality`` what the recorded ``wer`` read (video = the lips); ``wer_by_modality``
    each modality an audio-visual model's card records (else just ``modality``)."""
    from lipread.models.zoo import DEFAULT_MODEL

    name, path = entry.name, entry.path
    try:
        config = json.loads((path / "config.json").read_text())
    except (OSError, ValueError):
        config = {}
    evaluation = config.get("evaluation") or {}
    metrics = config.get("metrics") or {}
    wer = evaluation.get("wer", metrics.get("val_wer"))
    modality = evaluation.get("modality", "video")
    by_modality = {m: r.get("wer") for m, r in (evaluation.get("by_modality") or {}).items()}
    if not by_modality and wer is not None:
        by_modality = {modality: wer}
    size = sum(p.stat().st_size for p in path.glob("*.safetensors"))
    return {
        "name": name,
        "architecture": (config.get("model") or {}).get("name", "?"),
        "wer": wer,
        "cer": evaluation.get("cer", metrics.get("val_cer")),
        "modality": modality,
        "wer_by_modality": by_modality,
        "default": name == DEFAULT_MODEL,
        "evaluated_on": evaluation.get("data") or (f"{evaluation.get('clips')} clips" if evaluation else None),
        "size_bytes": size,
        "source": entry.source,
        "path": str(path.resolve()),
    }


READS = {"video": "lips", "av": "lips+sound", "audio": "sound"}


def _wers(t: dict) -> str:
    """``8.33% lips, 0.00% lips+sound``: the card's WER for each modality it records."""
    wers = t["wer_by_modality"]
    order = [m for m in READS if m in wers] + [m for m in wers if m not in READS]
    return ", ".join(f"{100 * wers[m]:.2f}% {READS.get(m, m)}" for m in order if wers[m] is not None) or "?"


def _table(headers: tuple[str, ...], rows: list[tuple[str, ...]], right: set[int]) -> list[str]:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]

    def line(cells):
        return "  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths)))

    return [line(headers).rstrip()] + [line(r).rstrip() for r in rows]


@click.command("models", context_settings=CONTEXT, short_help="Trained models (the zoo) and architectures.")
@click.argument("pattern", default="*")
@click.option("--json", "as_json", is_flag=True,
              help=JSON_HELP + ' ({"trained": [...], "architectures": [...]})')
def command(pattern: str, as_json: bool):
    """List the trained models of the zoo (name for -m, WER on its card, size, where it was found) and
    the registered architectures (parameter count, expected input shape: B batch, C channels, T frames,
    H, W) whose names match PATTERN (shell-style, e.g. 'resnet*')."""
    from lipread.errors import ConfigError
    from lipread.models.registry import list_models
    from lipread.models.zoo import zoo_entries

    trained = [describe_trained(e) for e in zoo_entries() if fnmatch.fnmatch(e.name, pattern)]
    names = list_models(pattern)
    if not names and not trained:
        raise ConfigError(f"no trained model or registered architecture matches {pattern!r}",
                          fix="Run `lipread models` to see them all.")
    rows = [describe(n) for n in names]
    if as_json:
        click.echo(json.dumps({"trained": trained, "architectures": rows}, indent=2))
        return
    if trained:
        click.echo("trained models (use with -m NAME):")
        table = [(t["name"] + (" (default)" if t["default"] else ""), t["architecture"], _wers(t),
                  f"{t['size_bytes'] / 1e6:.1f} MB", t["source"], t["path"]) for t in trained]
        for line in _table(("model", "architecture", "WER (reading)", "size", "found in", "folder"), table, {3}):
            click.echo("  " + line)
    if rows:
        if trained:
            click.echo("")
        click.echo("architectures (train them with a recipe):")
        table = [(r["name"], f"{r['params']:,}", r["input"], r["description"]) for r in rows]
        for line in _table(("model", "params", "input", "description"), table, {1}):
            click.echo("  " + line)
