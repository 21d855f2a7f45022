"""`lipread score REF HYP`: corpus WER/CER of a hypothesis file against a reference file."""

from __future__ import annotations

import json

import click

from lipread.cli._common import CONTEXT


def format_report(report) -> str:
    """A small summary table of a :class:`~lipread.metrics.ScoreReport`."""
    rows = [("", "WER", "CER")]
    fmt = lambda x: "n/a" if x == float("inf") else f"{100 * x:.2f}%"  # noqa: E731
    rows.append(("rate", fmt(report.wer), fmt(report.cer)))
    for key in ("substitutions", "deletions", "insertions", "hits", "ref_len"):
        rows.append((key, str(getattr(report.words, key)), str(getattr(report.chars, key))))
    width = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = ["  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(r, width))) for r in rows]
    lines.append(f"utterances: {len(report.utterances)}")
    return "\n".join(lines)


@click.command("score", context_settings=CONTEXT)
@click.argument("ref", type=click.Path(dir_okay=False))
@click.argument("hyp", type=click.Path(dir_okay=False))
@click.option("--json", "json_out", type=click.Path(dir_okay=False), help="Write the full report (JSON) here.")
@click.option("--no-normalize", is_flag=True, help="Score text as written (only whitespace is collapsed).")
def command(ref, hyp, json_out, no_normalize):
    """Score HYP against REF: corpus WER and CER.

    Each file holds `utterance-id text` lines, or JSONL with `id` and `text`; lines are matched
    by id. Text is lower-cased and stripped of punctuation before scoring unless --no-normalize.
    """
    from lipread.metrics import score
    from lipread.metrics.files import match_ids, read_transcripts

    refs, hyps = read_transcripts(ref), read_transcripts(hyp)
    ids = match_ids(refs, hyps, ref, hyp)
    report = score([refs[i] for i in ids], [hyps[i] for i in ids], ids=ids, normalizer=_norm(no_normalize))
    click.echo(format_report(report))
    if json_out:
        with open(json_out, "w", encoding="utf-8") as f:
            json.dump(report.to_dict(), f, indent=2)


def _norm(no_normalize: bool):
    from lipread.text.normalize import DEFAULT, IDENTITY

    return IDENTITY if no_normalize else DEFAULT
