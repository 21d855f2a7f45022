"""`lipread prepare`: run the front end on every clip of a corpus into a resumable prepared cache."""

from __future__ import annotations

import logging

import click

from lipread.cli._common import CONTEXT, OUTPUT_DIR_HELP, batch_result

log = logging.getLogger("lipread.cli.prepare")

CORPUS_NAMES = ["grid", "lrs2", "lrs3", "manifest"]


def _parse_options(items: tuple[str, ...]) -> dict:
    import yaml

    from lipread.errors import ConfigError

    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"--option {item!r} is not key=value", fix="E.g. --option max_seconds=10.")
        out[key.strip().replace("-", "_")] = yaml.safe_load(value) if value else ""
    return out


def corpus_settings(corpus: str, options: dict) -> dict:
    """The corpus reader's options with its defaults filled in (what ``cache.json`` records)."""
    import inspect

    from lipread.data.corpora import CORPORA

    params = inspect.signature(CORPORA.get(corpus)).parameters
    settings = {k: p.default for k, p in params.items() if k != "root"}
    settings.update({k: v for k, v in options.items() if v is not None})
    return {"name": corpus, **settings}


@click.command(
    "prepare",
    context_settings=CONTEXT,
    short_help="A resumable training cache of mouth crops from a corpus.",
    help="""Prepare a corpus into a training cache: crop the mouth of every clip (and compute audio
features with --audio) and write them as memory-mappable shards in the output folder (-o; the old
positional OUT still works).

CORPUS is grid, lrs2, lrs3 or manifest (ROOT is then a .csv/.jsonl file with path,text[,speaker,start,end]).
A rerun into the same folder skips the clips already there, so an interrupted run just continues.
Clips that fail are reported, listed with the reason in failures.tsv in the cache, and the exit code is 1.

\b
Examples:
  lipread prepare grid data/grid -o cache/grid --workers 2 --audio
  lipread prepare grid data/grid -o cache/grid_ovl --split overlapped --val-fraction 0
  lipread prepare lrs3 data/lrs3 -o cache/lrs3 --preset aligned96 --gray --option max_seconds=10 --shard 3/16
""",
)
@click.argument("corpus", type=click.Choice(CORPUS_NAMES))
@click.argument("root", type=click.Path())
@click.argument("out", type=click.Path(), required=False)
@click.option("-o", "--output-dir", metavar="DIR", default=None, type=click.Path(),
              help=OUTPUT_DIR_HELP + " [default: cache/CORPUS]")
@click.option("--preset", type=click.Choice(["lipnet", "aligned96", "aligned48"]), default="lipnet",
              help="Mouth crop: lipnet = 100x50 RGB (LipNet), aligned96 = 96x96 aligned (auto_avsr).")
@click.option("--gray", is_flag=True, help="Store grayscale crops (1 channel).")
@click.option("--audio", is_flag=True, help="Also compute and store audio features (4 per video frame).")
@click.option("--landmarks", default="mediapipe", type=click.Choice(["mediapipe", "opencv"]),
              help="Landmark backend (mediapipe falls back to opencv on a clip where it finds no face).")
@click.option("--workers", type=click.IntRange(min=1), default=1, help="Parallel worker processes.")
@click.option("--shard", "shard_spec", metavar="I/N", default=None,
              help="Only the clips whose id hashes to shard I of N (for cluster job arrays; 0-based).")
@click.option("--split", "protocol", type=click.Choice(["random", "overlapped", "unseen"]), default=None,
              help="GRID split: random (val only), overlapped (255 sentences per speaker to test), "
                   "unseen (speakers 1, 2, 20, 22 to test). Default: random.")
@click.option("--val-fraction", type=click.FloatRange(0.0, 1.0, max_open=True), default=None,
              help="Fraction of training clips held out as val (seeded). Default: grid 0.1, others 0.")
@click.option("--split-seed", type=int, default=0, help="Seed of the random splits.")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Only the first N clips (by id).")
@click.option("--option", "options", multiple=True, metavar="KEY=VALUE",
              help="Corpus reader option, e.g. max_seconds=10 (lrs), subsets=main (lrs2), speakers=s1,s2 (grid).")
@click.option("--shard-clips", type=click.IntRange(min=1), default=256, help="Clips per shard file of the cache.")
@click.option("--check-shards", type=click.IntRange(min=1), default=None, metavar="N",
              help="Prepare nothing: check that the N --shard jobs into OUT are complete (every clip prepared "
                   "or listed as failed); exit 1 and name the shards to rerun if not.")
@click.option("--processor", default=None, hidden=True,
              help="module:function making the per-clip processor from the front-end config (tests, custom front ends).")
def command(corpus, root, out, output_dir, preset, gray, audio, landmarks, workers, shard_spec, protocol, val_fraction,
            split_seed, limit, options, shard_clips, check_shards, processor):
    from pathlib import Path

    from lipread.errors import UsageError
    from lipread.io.output import ensure_output_dir

    if out and output_dir and Path(out) != Path(output_dir):
        raise UsageError(f"two output folders given: OUT {out} and -o {output_dir}", fix="Give only -o DIR.")
    out = output_dir or out or str(Path("cache") / corpus)

    from lipread.data.corpora import read_corpus
    from lipread.data.prepare import DEFAULT_FACTORY, prepare, write_summary
    from lipread.data.splits import parse_shard
    from lipread.frontend import FrontEndConfig

    shard = parse_shard(shard_spec)
    reader_options = _parse_options(options)
    ensure_output_dir(out, "-o")
    if "seed" in corpus_settings(corpus, {}):
        reader_options.setdefault("seed", split_seed)
    if protocol is not None:
        reader_options["split"] = protocol
    if val_fraction is not None:
        reader_options["val_fraction"] = val_fraction
    entries = read_corpus(corpus, root, **reader_options)
    settings = corpus_settings(corpus, reader_options)
    if check_shards:
        return _check_shards(entries, out, check_shards, settings)
    config = FrontEndConfig(preset=preset, gray=gray, audio=audio, landmarks=landmarks)
    summary = prepare(entries, out, config, corpus=settings, workers=workers, shard=shard, limit=limit,
                      shard_clips=shard_clips, worker_factory=processor or DEFAULT_FACTORY)
    tag = "all" if shard is None else f"s{shard[0]}of{shard[1]}"
    write_summary(Path(out), summary, tag)
    click.echo(
        f"prepared {summary.done} clips in {summary.seconds:.1f} s ({summary.clips_per_second:.2f} clips/s), "
        f"{summary.already_done} already in the cache, {len(summary.failures)} failed, of {summary.total} -> {out}",
        err=True,
    )
    if summary.failures:
        click.echo(f"failures listed in {summary.failures_file}", err=True)
    batch_result({cid: why for cid, (_, why) in summary.failures.items()}, summary.total, noun="clip")


def _check_shards(entries, out, count: int, settings: dict) -> int:
    """``--check-shards N``: one line per shard; exit code 1 while any shard is incomplete."""
    import json
    from pathlib import Path

    from lipread.data.cache import read_cache_config
    from lipread.data.prepare import shard_status
    from lipread.errors import ConfigError

    if (Path(out) / "cache.json").is_file():
        stored = read_cache_config(out).get("corpus", {})
        differ = sorted(k for k in set(stored) | set(settings) if stored.get(k) != settings.get(k))
        if differ:
            raise ConfigError(f"the cache was prepared with other corpus options ({', '.join(differ)}: "
                              f"{json.dumps({k: stored.get(k) for k in differ})})", out,
                              "Check with the options the prepare jobs used.")
    status = shard_status(entries, out, count)
    for s in status:
        state = "complete" if s.complete else ("not finished" if not s.finished else f"{len(s.missing)} missing")
        click.echo(f"shard {s.index}/{count}: {s.prepared} prepared, {s.failed} failed (listed), "
                   f"{len(s.missing)} missing of {s.expected}: {state}")
    todo = [s.index for s in status if not s.complete]
    if todo:
        click.echo(f"incomplete shards: {' '.join(str(i) for i in todo)}; rerun their jobs "
                   f"(lipread prepare ... --shard I/{count}: a rerun continues where it stopped)", err=True)
        return 1
    total = sum(s.prepared for s in status)
    click.echo(f"all {count} shards complete: {total} clips prepared, {sum(s.failed for s in status)} failed", err=True)
    return 0
