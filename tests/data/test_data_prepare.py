"""prepare + cache with a fast fake front end: contents, resume, failures, config checks, kill -9."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from fake_frontend import FACTORY, expected_mouth
from trees import make_grid

from lipread.data.cache import SHARDS, CacheReader
from lipread.data.corpora import read_corpus
from lipread.data.prepare import prepare
from lipread.errors import ConfigError, DependencyError

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]


def run(entries, out, config=None, **kw):
    kw.setdefault("progress", False)
    return prepare(entries, out, config or {}, corpus={"name": "grid"}, worker_factory=FACTORY, **kw)


def shard_ids(out: Path) -> Counter:
    """How often each clip id appears across all committed shard indexes (raw, no dedup)."""
    counts: Counter = Counter()
    for index in (out / SHARDS).glob("*.json"):
        counts.update(c["id"] for c in json.loads(index.read_text())["clips"])
    return counts


def check_cache(out: Path, ids: list[str], channels: int = 3) -> CacheReader:
    """Every id present exactly once, readable, with the fake front end's content."""
    counts = shard_ids(out)
    assert sorted(counts) == sorted(ids) and set(counts.values()) == {1}
    reader = CacheReader(out)
    assert reader.duplicates == 0 and [c.id for c in reader.clips] == sorted(ids)
    for info in reader.clips:
        np.testing.assert_array_equal(reader.mouth(info), expected_mouth(info.id, channels))
        assert reader.valid(info).shape == (info.frames,)
    leftovers = [p.name for p in (out / SHARDS).iterdir() if p.name.endswith(".tmp")]
    assert not leftovers
    return reader


def test_prepare_writes_every_clip_with_metadata(tmp_path):
    ids = make_grid(tmp_path / "grid", {"s1": 10}, aligned={"s1"})
    entries = read_corpus("grid", tmp_path / "grid", val_fraction=0.2)
    summary = run(entries, tmp_path / "out", {"audio": True}, shard_clips=4)
    assert (summary.done, summary.already_done, summary.failures) == (10, 0, {})
    reader = check_cache(tmp_path / "out", ids)
    assert len(reader.shards) == 3  # 4 + 4 + 2 clips
    info = reader.clips[0]
    assert (info.speaker, info.fps, info.source.endswith(".mpg")) == ("s1", 25.0, True)
    assert info.id == "s1/bbaf1a" and info.text == "bin blue at f one again" and info.words[0][0] == "bin"
    assert info.valid_frames == int(np.count_nonzero(np.arange(info.frames) % 5 != 0))
    assert reader.audio(info).shape == (4 * info.frames, 5)
    assert Counter(c.split for c in reader.clips) == {"train": 8, "val": 2}
    assert json.loads((tmp_path / "out/cache.json").read_text())["frontend"] == {"audio": True}


def test_rerun_skips_finished_clips_and_retries_failures(tmp_path):
    ids = make_grid(tmp_path / "grid", {"s1": 6})
    entries = read_corpus("grid", tmp_path / "grid")
    first = run(entries, tmp_path / "out", {"fail": ["zn"]})
    assert set(first.failures) == {"s1/bbafzn"} and first.done == 5
    lines = Path(first.failures_file).read_text().splitlines()
    assert lines[0] == "id\tsource\treason" and lines[1].startswith("s1/bbafzn\t") and "fake decode failure" in lines[1]
    # the same settings: nothing to do but the failed clip, which fails again and is listed again
    again = run(entries, tmp_path / "out", {"fail": ["zn"]})
    assert (again.done, again.already_done, set(again.failures)) == (0, 5, {"s1/bbafzn"})
    check_cache(tmp_path / "out", [i for i in ids if i != "s1/bbafzn"])


def test_reader_errors_are_failures_not_drops(tmp_path):
    make_grid(tmp_path / "grid", {"s1": 2})
    (tmp_path / "grid/s1/oops.mpg").write_bytes(b"")
    summary = run(read_corpus("grid", tmp_path / "grid"), tmp_path / "out")
    assert summary.done == 2 and list(summary.failures) == ["s1/oops"]


def test_different_front_end_config_is_an_error(tmp_path):
    make_grid(tmp_path / "grid", {"s1": 2})
    entries = read_corpus("grid", tmp_path / "grid")
    run(entries, tmp_path / "out", {"channels": 3})
    with pytest.raises(ConfigError, match="different settings"):
        run(entries, tmp_path / "out", {"channels": 1})


def test_shards_limit_and_parallel_workers(tmp_path):
    ids = make_grid(tmp_path / "grid", {"s1": 12})
    entries = read_corpus("grid", tmp_path / "grid")
    done = []
    for i in range(3):
        summary = run(entries, tmp_path / "out", shard=(i, 3), workers=2 if i == 0 else 1)
        done += [c for c in summary.failures] + [None] * summary.done
        assert (tmp_path / f"out/failures-s{i}of3.tsv").is_file()
    assert len(done) == 12
    check_cache(tmp_path / "out", ids)
    limited = run(entries, tmp_path / "out2", limit=5)
    assert limited.done == 5 and [c.id for c in CacheReader(tmp_path / "out2").clips] == sorted(ids)[:5]


def test_orphan_data_files_are_ignored_and_cleaned(tmp_path):
    ids = make_grid(tmp_path / "grid", {"s1": 4})
    entries = read_corpus("grid", tmp_path / "grid")
    run(entries[:2], tmp_path / "out")
    shards = tmp_path / "out" / SHARDS
    (shards / "all-0000000000001-deadbeef.mouth.npy").write_bytes(b"garbage")  # a killed write
    (shards / "all-0000000000002-deadbeef.json.tmp").write_text("{")
    assert len(CacheReader(tmp_path / "out")) == 2
    run(entries, tmp_path / "out")
    assert not list(shards.glob("*deadbeef*"))
    check_cache(tmp_path / "out", ids)


def test_truncated_shard_is_skipped_and_redone(tmp_path):
    ids = make_grid(tmp_path / "grid", {"s1": 4})
    entries = read_corpus("grid", tmp_path / "grid")
    run(entries, tmp_path / "out", shard_clips=2)
    victim = sorted((tmp_path / "out" / SHARDS).glob("*.mouth.npy"))[0]
    victim.write_bytes(victim.read_bytes()[:-10])  # damaged after the fact
    assert len(CacheReader(tmp_path / "out")) == 2
    for p in (tmp_path / "out" / SHARDS).glob(victim.name.split(".")[0] + ".*"):
        p.unlink()
    assert run(entries, tmp_path / "out").done == 2
    check_cache(tmp_path / "out", ids)


def test_kill_9_midway_then_rerun_completes(tmp_path):
    """SIGKILL a 2-worker prepare (and its workers) at random moments; the reruns end complete."""
    ids = make_grid(tmp_path / "grid", {"s1": 60})
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), str(REPO), os.environ.get("PYTHONPATH", "")])}
    cmd = [sys.executable, str(HERE / "fake_frontend.py"), str(tmp_path / "grid"), str(out), "2", "0.02"]
    rng = random.Random(0)
    for attempt in range(3):
        proc = subprocess.Popen(cmd, env=env, start_new_session=True)
        deadline = time.monotonic() + 60
        while len(list((out / SHARDS).glob("*.json"))) < 2 * (attempt + 1) and time.monotonic() < deadline:
            if proc.poll() is not None:
                break
            time.sleep(0.02)
        time.sleep(rng.uniform(0.0, 0.3))
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        partial = shard_ids(out)
        assert set(partial.values()) <= {1}  # never twice, even after a kill
        assert len(partial) < len(ids), "the run finished before it was killed; nothing was tested"
        CacheReader(out)  # what is there reads as good
    done = subprocess.run(cmd, env=env, timeout=120)
    assert done.returncode == 0
    check_cache(out, ids)


def test_worker_crash_is_a_failure_and_broken_workers_stop_the_run(tmp_path):
    ids = make_grid(tmp_path / "grid", {"s1": 6})
    entries = read_corpus("grid", tmp_path / "grid")
    summary = prepare(entries, tmp_path / "out", {}, corpus={"name": "grid"}, workers=2, progress=False,
                      worker_factory="fake_frontend:make_crashy")
    assert list(summary.failures) == ["s1/bbafzn"] and "crashed" in summary.failures["s1/bbafzn"][1]
    check_cache(tmp_path / "out", [i for i in ids if i != "s1/bbafzn"])
    with pytest.raises(DependencyError, match="die before finishing"):
        prepare(entries, tmp_path / "out2", {}, corpus={"name": "grid"}, workers=2, progress=False,
                worker_factory="fake_frontend:make_broken")
