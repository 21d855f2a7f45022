"""The resumable, parallel driver behind ``lipread prepare``.

``prepare(entries, out, frontend_config, ...)`` runs a per-clip processor on every entry not yet
in the cache at ``out`` and writes the results as shards (see :mod:`lipread.data.cache`).
The processor is made in each worker by ``worker_factory`` (a ``"module:function"`` path, so it
can be imported in spawned processes): ``factory(frontend_config) -> process(record) -> result``,
where ``result`` has the attributes of ``FrontEndResult`` (mouth, valid, audio_features, fps,
start, duration). The default factory builds the real front end once per worker; tests pass a fast
fake one. Failures (reader errors, front-end errors, crashed workers) are collected, never dropped.
"""

from __future__ import annotations

import dataclasses
import importlib
import logging
import multiprocessing
import os
import re
import time
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from lipread.config import config_to_dict
from lipread.data.cache import (
    CacheReader,
    ClipData,
    ClipInfo,
    ShardWriter,
    ensure_cache_config,
    write_json_atomic,
)
from lipread.data.corpora import Entry
from lipread.data.splits import in_shard
from lipread.errors import ConfigError, DataError, DependencyError, LipreadError
from lipread.types import Record

log = logging.getLogger("lipread.data.prepare")

DEFAULT_FACTORY = "lipread.data.prepare:frontend_processor"


def frontend_processor(config) -> Callable[[Record], Any]:
    """The real front end, built once per worker: ``record -> FrontEndResult``."""
    from lipread.frontend import FrontEnd

    fe = FrontEnd(config)
    return lambda rec: fe.process(rec.video, rec.start, rec.end)


def load_factory(path: str) -> Callable:
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


def to_int16(wave: np.ndarray) -> np.ndarray:
    """float32 in [-1, 1] -> int16 (the cache stores 16 kHz sound at 2 bytes a sample)."""
    return np.clip(np.round(np.asarray(wave, dtype=np.float32) * 32767.0), -32768, 32767).astype(np.int16)


def to_clip(entry: Entry, result: Any) -> ClipData:
    """A front-end result plus its entry -> the ClipData the cache stores. Bad shapes raise DataError."""
    rec = entry.record
    mouth = np.asarray(result.mouth)
    if mouth.dtype != np.uint8 or mouth.ndim != 4 or mouth.shape[0] == 0:
        raise DataError(f"front end returned mouth {mouth.dtype} {mouth.shape}, expected (T, H, W, C) uint8", rec.video)
    valid = np.asarray(result.valid, dtype=bool).reshape(-1)
    if valid.shape[0] != mouth.shape[0]:
        raise DataError(f"valid mask has {valid.shape[0]} frames, mouth {mouth.shape[0]}", rec.video)
    audio = getattr(result, "audio_features", None)
    audio = None if audio is None else np.asarray(audio, dtype=np.float32)
    words = [[w.word, w.start, w.end] for w in rec.words] if rec.words else None
    info = ClipInfo(
        id=rec.id, text=rec.text, speaker=rec.speaker, split=entry.split, source=rec.video, shape=list(mouth.shape),
        fps=float(result.fps), start=rec.start, end=rec.end, duration=float(result.duration), words=words,
    )
    wave = getattr(result, "waveform", None)
    wave = None if wave is None or audio is None else to_int16(wave)
    return ClipData(info, mouth, valid, audio, wave)


# ---- worker side -----------------------------------------------------------------------------------
_PROCESSOR: Callable | None = None


def _init_worker(factory: str, config: Any, log_level: int) -> None:
    global _PROCESSOR
    logging.basicConfig(level=log_level, format="%(levelname)s %(name)s: %(message)s")
    _PROCESSOR = load_factory(factory)(config)


def _run_one(entry: Entry) -> tuple[str, ClipData | str]:
    """Process one entry: ``("ok", ClipData)`` or ``("fail", reason)``."""
    assert _PROCESSOR is not None, "worker not initialised"
    try:
        return "ok", to_clip(entry, _PROCESSOR(entry.record))
    except LipreadError as exc:
        return "fail", exc.message
    except Exception as exc:  # a bug or an unexpected library error: keep going, but report it in full
        log.debug("clip %s failed:\n%s", entry.record.id, traceback.format_exc())
        return "fail", f"{type(exc).__name__}: {exc}"


# ---- driver side -----------------------------------------------------------------------------------
@dataclass
class PrepareSummary:
    """What one ``prepare`` run did. ``failures`` maps clip id -> (source, reason)."""

    out: str
    total: int
    already_done: int = 0
    done: int = 0
    failures: dict[str, tuple[str, str]] = field(default_factory=dict)
    seconds: float = 0.0
    failures_file: str = ""

    @property
    def clips_per_second(self) -> float:
        return self.done / self.seconds if self.seconds > 0 else 0.0


def select_entries(entries: Sequence[Entry], shard: tuple[int, int] | None, limit: int | None) -> list[Entry]:
    """Entries of machine ``shard``, sorted by id, the first ``limit``; repeated ids are a DataError."""
    ids = [e.record.id for e in entries]
    if len(set(ids)) != len(ids):
        dup = next(i for i in ids if ids.count(i) > 1)
        raise DataError(f"the corpus yields clip id {dup!r} twice", fix="Clip ids must be unique.")
    chosen = sorted((e for e in entries if in_shard(e.record.id, shard)), key=lambda e: e.record.id)
    return chosen[:limit] if limit else chosen


def prepare(
    entries: Sequence[Entry],
    out: str | os.PathLike,
    frontend_config: Any,
    *,
    corpus: dict[str, Any] | None = None,
    workers: int = 1,
    shard: tuple[int, int] | None = None,
    limit: int | None = None,
    worker_factory: str = DEFAULT_FACTORY,
    shard_clips: int = 256,
    flush_seconds: float = 120.0,
    progress: bool = True,
) -> PrepareSummary:
    """Prepare ``entries`` into the cache at ``out``; returns a summary (failures included).

    ``corpus`` (name and split options) and ``frontend_config`` are stored in ``cache.json``; a
    rerun with different ones is a ConfigError. ``workers > 1`` uses a spawn-context process pool.
    """
    from lipread.progress import progress_bar

    t0 = time.perf_counter()
    out = Path(out)
    cfg_dict = config_to_dict(frontend_config) if dataclasses.is_dataclass(frontend_config) else dict(frontend_config)
    ensure_cache_config(out, {"frontend": cfg_dict, "corpus": corpus or {}})
    check_shard_count(out, shard)
    chosen = select_entries(entries, shard, limit)
    finished = {c.id for c in CacheReader(out).clips}
    summary = PrepareSummary(str(out), len(chosen))
    pending: list[Entry] = []
    for e in chosen:
        if e.record.id in finished:
            summary.already_done += 1
        elif e.error:
            summary.failures[e.record.id] = (e.record.video, e.error)
            log.error("clip %s (%s): %s", e.record.id, e.record.video, e.error)
        else:
            pending.append(e)
    log.info("%d clips: %d already prepared, %d to do, %d unreadable", len(chosen), summary.already_done,
             len(pending), len(summary.failures))
    tag = "all" if shard is None else f"s{shard[0]}of{shard[1]}"
    writer = ShardWriter(out, tag, max_clips=shard_clips, max_seconds=flush_seconds)
    bar = progress_bar(total=len(pending), desc="prepare", unit="clip", disable=not progress)

    def handle(entry: Entry, status: str, payload) -> None:
        if status == "ok":
            writer.add(payload)
            summary.done += 1
        else:
            summary.failures[entry.record.id] = (entry.record.video, payload)
            log.error("clip %s: %s", entry.record.id, payload)
        bar.update(1)
        bar.set_postfix(failed=len(summary.failures), refresh=False)

    try:
        if workers <= 1:
            _init_worker(worker_factory, frontend_config, log.getEffectiveLevel())
            for entry in pending:
                handle(entry, *_run_one(entry))
        else:
            _run_pool(pending, workers, worker_factory, frontend_config, handle)
    finally:
        writer.flush()  # on Ctrl-C too: what finished is kept
        bar.close()
    summary.seconds = time.perf_counter() - t0
    summary.failures_file = str(write_failures(out, tag, summary.failures))
    return summary


def _run_pool(pending: list[Entry], workers: int, factory: str, config: Any, handle) -> None:
    """Run entries on a forkserver/spawn pool, at most ``2 * workers`` in flight.

    A worker that dies (e.g. a native crash in a decoder) breaks the pool. The pool is rebuilt and
    the clips that were in flight are retried one at a time, so that a crash is pinned on one clip,
    which is then a failure. Pools that keep dying before finishing any clip stop the run.
    """
    method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    ctx = multiprocessing.get_context(method)
    queue = list(reversed(pending))
    suspects: list[Entry] = []  # in flight when a worker died: retried alone
    fruitless = 0  # pools in a row that broke before finishing any clip
    while queue or suspects:
        pool = ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init_worker,
                                   initargs=(factory, config, log.getEffectiveLevel()))
        inflight: dict[Future, Entry] = {}
        finished = 0
        try:
            alone = False  # a suspect is running by itself
            while queue or suspects or inflight:
                alone = alone and bool(inflight)
                if suspects and not inflight:
                    entry = suspects.pop()
                    inflight[pool.submit(_run_one, entry)] = entry
                    alone = True
                elif not suspects and not alone:
                    while queue and len(inflight) < 2 * workers:
                        entry = queue.pop()
                        inflight[pool.submit(_run_one, entry)] = entry
                done, _ = wait(inflight, return_when=FIRST_COMPLETED)
                for fut in done:
                    result = fut.result()  # raises BrokenProcessPool with the entry still in flight
                    handle(inflight.pop(fut), *result)
                    finished += 1
        except BrokenProcessPool:
            fruitless = 0 if finished else fruitless + 1
            if fruitless >= 5:
                raise DependencyError(
                    "the prepare worker processes die before finishing any clip (see the errors above)",
                    fix="Run with --workers 1 to see the error of the front end directly.",
                ) from None
            for fut in [f for f in inflight if f.done() and f.exception() is None]:
                handle(inflight.pop(fut), *fut.result())  # finished before the pool broke
            if len(inflight) == 1:
                handle(next(iter(inflight.values())), "fail", "the worker process crashed on this clip")
            else:
                log.warning("a worker process died; retrying the %d clips in flight one by one", len(inflight))
                suspects.extend(inflight.values())
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


def failures_path(out: str | os.PathLike, tag: str = "all") -> Path:
    return Path(out) / ("failures.tsv" if tag == "all" else f"failures-{tag}.tsv")


def write_failures(out: Path, tag: str, failures: dict[str, tuple[str, str]]) -> Path:
    """Write ``id<TAB>source<TAB>reason`` lines (header first) atomically; returns the path."""
    path = failures_path(out, tag)
    lines = ["id\tsource\treason"] + [
        "\t".join(s.replace("\t", " ").replace("\n", " ") for s in (cid, src, why))
        for cid, (src, why) in sorted(failures.items())
    ]
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("\n".join(lines) + "\n")
    os.replace(tmp, path)
    return path


def write_summary(out: Path, summary: PrepareSummary, tag: str = "all") -> None:
    """Record the last run's summary next to the cache (``summary.json`` / ``summary-TAG.json``)."""
    name = "summary.json" if tag == "all" else f"summary-{tag}.json"
    data = dataclasses.asdict(summary)
    data["failures"] = len(summary.failures)
    write_json_atomic(out / name, data)


# ---- machine shards: one count per cache, and a check that every shard is complete ---------------------
_SHARD_TAG = re.compile(r"^s(\d+)of(\d+)$")


def shard_counts(out: str | os.PathLike) -> dict[int, set[str]]:
    """``N -> {tags}`` of the ``--shard i/N`` runs that wrote into the cache at ``out`` (shards, summaries, failures)."""
    out = Path(out)
    names = [p.name.split("-", 1)[0] for p in (out / "shards").glob("*.json")]
    names += [p.stem.split("-", 1)[1] for p in out.glob("summary-*.json")]
    names += [p.stem.split("-", 1)[1] for p in out.glob("failures-*.tsv")]
    counts: dict[int, set[str]] = {}
    for name in names:
        m = _SHARD_TAG.match(name)
        if m:
            counts.setdefault(int(m.group(2)), set()).add(name)
    return counts


def check_shard_count(out: str | os.PathLike, shard: tuple[int, int] | None) -> None:
    """A ``--shard i/N`` run into a cache that other jobs filled with a different N is a ConfigError.

    Clip ids hash to ``id % N``: with two different N, some clips would be prepared twice and others
    by no job at all, and the completeness check could not tell.
    """
    if shard is None:
        return
    other = sorted(n for n in shard_counts(out) if n != shard[1])
    if other:
        raise ConfigError(
            f"the cache was prepared by --shard jobs of {other[0]} shards (e.g. {sorted(shard_counts(out)[other[0]])[0]}),"
            f" this run asks for --shard {shard[0]}/{shard[1]}",
            out,
            f"Use --shard i/{other[0]} as the other jobs did, or prepare into a new folder.",
        )


@dataclass
class ShardStatus:
    """One machine shard of a cache: clips it should hold, prepared, failed (listed), still missing."""

    index: int
    count: int
    expected: int
    prepared: int
    failed: int
    missing: list[str]
    finished: bool
    """Its job wrote ``summary-sIofN.json`` (ran to the end at least once)."""

    @property
    def complete(self) -> bool:
        return self.finished and not self.missing


def read_failures(path: Path) -> set[str]:
    if not path.is_file():
        return set()
    return {line.split("\t", 1)[0] for line in path.read_text().splitlines()[1:] if line.strip()}


def shard_status(entries: Sequence[Entry], out: str | os.PathLike, count: int) -> list[ShardStatus]:
    """The status of every shard ``0..count-1`` of the cache at ``out`` for the corpus ``entries``."""
    out = Path(out)
    if not (out / "cache.json").is_file():
        raise DataError("not a prepared cache (no cache.json)", out, "Run the `lipread prepare ... --shard i/N` jobs first.")
    check_shard_count(out, (0, count))
    done = {c.id for c in CacheReader(out).clips}
    status = []
    for i in range(count):
        tag = f"s{i}of{count}"
        chosen = select_entries(entries, (i, count), None)
        failed = read_failures(failures_path(out, tag)) | read_failures(failures_path(out))
        ids = [e.record.id for e in chosen]
        missing = [c for c in ids if c not in done and c not in failed]
        status.append(ShardStatus(i, count, len(ids), sum(c in done for c in ids), sum(c in failed and c not in done for c in ids),
                                  missing, (out / f"summary-{tag}.json").is_file()))
    return status
