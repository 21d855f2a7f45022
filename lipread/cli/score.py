"""`lipread score REF HYP`: corpus WER/CER of a hypothesis file against a reference file."""

from __future__ import annotations

import json
import logging

import click

from lipread.cli._common import CONTEXT, JSON_HELP

log = logging.getLogger("lipread.score")


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


@click.command("score", context_settings=CONTEXT, short_help="WER/CER of a hypothesis file against a reference.")
@click.argument("ref", type=click.Path(dir_okay=False, allow_dash=True))
@click.argument("hyp", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("-o", "--output-dir", metavar="DIR", default=None, type=click.Path(),
              help="Also write the full report (with every utterance) to score.json in this folder "
                   "(created if missing; checked before any work starts).")
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP + " (the full report, with every utterance)")
@click.option("--no-normalize", is_flag=True, help="Score text as written (only whitespace is collapsed).")
def command(ref, hyp, output_dir, as_json, no_normalize):
    """Score HYP against REF: corpus WER and CER.

    Each file holds `id text` lines, `id<TAB>text` lines (what `lipread transcribe` prints) or JSONL
    with `id` and `text`; `-` reads stdin, so `lipread transcribe *.mp4 | lipread score ref.txt -`
    works. Lines are matched by id; a video path matches the id that is its file name without
    extension. Text is lower-cased and stripped of punctuation before scoring unless --no-normalize.
    """
    from lipread.errors import UsageError
    from lipread.metrics import score
    from lipread.metrics.files import match_ids, read_transcripts

    if ref == "-" and hyp == "-":
        raise UsageError("REF and HYP cannot both be stdin (-)", fix="Give at least one of them as a file.")
    if output_dir:
        from lipread.io.output import ensure_output_dir

        ensure_output_dir(output_dir, "-o")
    refs, hyps = read_transcripts(ref), read_transcripts(hyp)
    ids = match_ids(refs, hyps, ref, hyp)
    report = score([refs[i] for i in ids], [hyps[i] for i in ids], ids=ids, normalizer=_norm(no_normalize))
    click.echo(json.dumps(report.to_dict(), indent=2) if as_json else format_report(report))
    if output_dir:
        from pathlib import Path

        out = Path(output_dir) / "score.json"
        out.write_text(json.dumps(report.to_dict(), indent=2) + "\n", encoding="utf-8")
        log.info("report written to %s", out)


def _norm(no_normalize: bool):
    from lipread.text.normalize import DEFAULT, IDENTITY

    return IDENTITY if no_normalize else DEFAULT
