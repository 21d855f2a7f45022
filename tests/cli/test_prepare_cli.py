"""`lipread prepare`: options, summary, failures file and exit code; a real run on a few GRID clips."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from lipread.cli.main import main
from lipread.data import CacheReader, PreparedDataset, collate

DATA_TESTS = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture
def fake_frontend(monkeypatch):
    """Make tests/data/fake_frontend importable (here and in spawned workers) and return its factory path."""
    monkeypatch.syspath_prepend(str(DATA_TESTS))
    return "fake_frontend:make_fake"


def make_tree(root: Path, n: int) -> None:
    sys.path.insert(0, str(DATA_TESTS))
    try:
        from trees import make_grid
    finally:
        sys.path.remove(str(DATA_TESTS))
    make_grid(root, {"s1": n})


def test_prepare_fake_summary_failures_and_resume(tmp_path, capsys, caplog, fake_frontend):
    make_tree(tmp_path / "grid", 8)
    (tmp_path / "grid/s1/broken.mpg").write_bytes(b"")
    out = tmp_path / "cache"
    args = ["prepare", "grid", str(tmp_path / "grid"), str(out), "--processor", fake_frontend, "--val-fraction", "0.25"]
    assert main(args) == 1  # one clip has no GRID transcript
    err = capsys.readouterr().err
    assert "prepared 8 clips" in err and "1 failed, of 9" in err and "s1/broken" in caplog.text
    failures = (out / "failures.tsv").read_text().splitlines()
    assert len(failures) == 2 and failures[1].startswith("s1/broken\t")
    assert json.loads((out / "summary.json").read_text())["done"] == 8
    assert main(args) == 1
    assert "prepared 0 clips" in capsys.readouterr().err and len(CacheReader(out)) == 8
    assert main([*args[:-2], "--val-fraction", "0.5"]) == 1  # another split into the same cache
    assert "different settings" in capsys.readouterr().err
    assert main([*args, "--preset", "aligned96"]) == 1  # another crop into the same cache
    assert "frontend.preset" in capsys.readouterr().err


def test_prepare_bad_options_are_one_line_errors(tmp_path, capsys, fake_frontend):
    make_tree(tmp_path / "grid", 2)
    base = ["prepare", "grid", str(tmp_path / "grid"), str(tmp_path / "c"), "--processor", fake_frontend]
    assert main([*base, "--shard", "5/4"]) == 1
    assert "--shard" in capsys.readouterr().err
    assert main([*base, "--option", "subsets=main"]) == 1
    assert "no option 'subsets'" in capsys.readouterr().err
    assert main(["prepare", "lrs2", str(tmp_path), str(tmp_path / "c2"), "--val-fraction", "0.1"]) == 1
    assert "no option 'val_fraction'" in capsys.readouterr().err


@pytest.mark.grid
def test_prepare_real_grid_clips_end_to_end(tmp_path, grid_dir, grid_clips, capsys):
    """The real front end with 2 workers on 3 GRID clips (with alignments and audio) -> a loadable cache."""
    root = tmp_path / "grid"
    (root / "s1").mkdir(parents=True)
    (root / "alignments/s1").mkdir(parents=True)
    for clip in grid_clips[:3]:
        shutil.copy(clip, root / "s1" / clip.name)
        shutil.copy(grid_dir / "alignments/s1" / f"{clip.stem}.align", root / "alignments/s1")
    (root / "s1/bbzzzz.mp4").write_bytes(b"not a video")  # a valid GRID name, an unreadable file
    out = tmp_path / "cache"
    code = main(["prepare", "grid", str(root), str(out), "--audio", "--workers", "2", "--val-fraction", "0"])
    assert code == 1 and "bbzzzz" in (out / "failures.tsv").read_text()
    ds = PreparedDataset(out, "train")
    assert sorted(c.id for c in ds.clips) == [f"s1/{c.stem}" for c in grid_clips[:3]]
    for info in ds.clips:
        assert info.shape[1:] == [50, 100, 3] and 70 <= info.frames <= 76 and info.valid_frames > 60
        assert info.words and info.audio_shape == [4 * info.frames, 13]
    batch = collate([ds[i] for i in range(len(ds))])
    assert batch.video.shape[:2] == (3, 3) and batch.audio.shape[0] == 3
    assert 0.1 < float(batch.video.mean()) < 0.9 and np.isfinite(batch.audio.numpy()).all()
