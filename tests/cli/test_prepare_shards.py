"""`lipread prepare` as a job array: --shard i/N jobs, --check-shards N, a shard count that does not
match the cache, and LRS trees with a missing or malformed transcript (fast fake front end)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from lipread.cli.main import main
from lipread.data import CacheReader

DATA_TESTS = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture
def fake_frontend(monkeypatch):
    monkeypatch.syspath_prepend(str(DATA_TESTS))
    return "fake_frontend:make_fake"


@pytest.fixture
def lrs3_tree(tmp_path):
    sys.path.insert(0, str(DATA_TESTS))
    try:
        from trees import lrs_txt, make_lrs3, timed
    finally:
        sys.path.remove(str(DATA_TESTS))
    root = tmp_path / "lrs3"
    make_lrs3(root)
    for k in range(2, 9):  # more trainval clips, so that both shards get some
        stem = root / "trainval" / "vidE" / f"{k:05d}"
        stem.parent.mkdir(parents=True, exist_ok=True)
        stem.with_suffix(".mp4").write_bytes(b"")
        stem.with_suffix(".txt").write_text(lrs_txt("MORE WORDS HERE", timed("MORE WORDS HERE")))
    return root


def run(args: list[str]) -> int:
    return main(args)


def test_job_array_then_check_shards(tmp_path, lrs3_tree, fake_frontend, capsys):
    out = tmp_path / "cache"
    base = ["prepare", "lrs3", str(lrs3_tree), str(out), "--processor", fake_frontend]
    run(base + ["--shard", "0/2"])  # exit 1 when the orphan transcript (no video) falls in this shard
    capsys.readouterr()
    assert run(base + ["--check-shards", "2"]) == 1  # shard 1 has not run
    captured = capsys.readouterr()
    assert "shard 1/2: 0 prepared" in captured.out and "not finished" in captured.out
    assert "incomplete shards: 1" in captured.err
    run(base + ["--shard", "1/2"])
    capsys.readouterr()
    assert run(base + ["--check-shards", "2"]) == 0
    captured = capsys.readouterr()
    assert captured.out.count(": complete") == 2 and "all 2 shards complete" in captured.err
    ids = {c.id for c in CacheReader(out).clips}
    assert "trainval/vidE/00002" in ids and not any(i.startswith("trainval/vidC/00009") for i in ids)


def test_shard_count_that_does_not_match_the_cache_is_an_error(tmp_path, lrs3_tree, fake_frontend, capsys):
    out = tmp_path / "cache"
    base = ["prepare", "lrs3", str(lrs3_tree), str(out), "--processor", fake_frontend]
    run(base + ["--shard", "0/2"])
    capsys.readouterr()
    assert run(base + ["--shard", "1/3"]) == 1
    err = capsys.readouterr().err
    assert "--shard jobs of 2 shards" in err and "--shard 1/3" in err and "Use --shard i/2" in err
    assert run(base + ["--check-shards", "4"]) == 1
    assert "--shard jobs of 2 shards" in capsys.readouterr().err


def test_missing_and_malformed_transcripts_are_named_skipped_and_listed(tmp_path, lrs3_tree, fake_frontend, caplog):
    (lrs3_tree / "trainval" / "vidE" / "00003.txt").unlink()  # a clip without its transcript
    (lrs3_tree / "trainval" / "vidE" / "00004.txt").write_text("BIN BLUE AT F TWO NOW\n")  # not LRS format
    (lrs3_tree / "trainval" / "vidE" / "00005.txt").write_text("Text:  A B\n\nWORD START END ASDSCORE\nA zero 1.0 2\n")
    out = tmp_path / "cache"
    assert run(["prepare", "lrs3", str(lrs3_tree), str(out), "--processor", fake_frontend]) == 1
    err = caplog.text  # the batch summary lists every failed clip with its reason
    failures = (out / "failures.tsv").read_text()
    assert "trainval/vidE/00003\t" in failures and "00003.txt" in failures  # the missing file is named
    assert "trainval/vidE/00004\t" in failures and "neither a 'Key: value' header nor a word table" in failures
    assert "trainval/vidE/00005\t" in failures and "word times are not numbers" in failures
    for clip in ("00003", "00004", "00005"):
        assert f"clip trainval/vidE/{clip} (" in err and f"vidE/{clip}.txt" in err
    ids = {c.id for c in CacheReader(out).clips}
    assert "trainval/vidE/00002" in ids and "trainval/vidE/00004" not in ids  # the rest is prepared
