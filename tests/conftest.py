"""Shared fixtures. Tests that need the real GRID clips use ``grid_dir`` and skip when absent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
GRID_DIR = Path(os.environ.get("LIPREAD_GRID_DIR", REPO.parent / "shared" / "data" / "grid"))


def grid_available() -> bool:
    return (GRID_DIR / "s1").is_dir() and any((GRID_DIR / "s1").glob("*.mp4"))


@pytest.fixture(scope="session")
def grid_dir() -> Path:
    """Root of the shared GRID clips (``s1/*.mp4``, ``alignments/s1/*.align``, ``original_mpg/``)."""
    if not grid_available():
        pytest.skip(f"real GRID clips not found at {GRID_DIR} (set LIPREAD_GRID_DIR to run these tests)")
    return GRID_DIR


@pytest.fixture(scope="session")
def grid_clips(grid_dir) -> list[Path]:
    """The GRID speaker-1 mp4 clips, sorted."""
    return sorted((grid_dir / "s1").glob("*.mp4"))


@pytest.fixture(scope="session")
def grid_cache(grid_dir, tmp_path_factory) -> Path:
    """A prepared cache (lipnet preset, real front end) of the first 16 real GRID clips (about a quarter of them in the val split)."""
    from lipread.data import read_corpus
    from lipread.data.prepare import prepare
    from lipread.frontend import FrontEndConfig

    out = tmp_path_factory.mktemp("grid_cache")
    entries = read_corpus("grid", grid_dir, val_fraction=0.25, seed=0)
    summary = prepare(entries, out, FrontEndConfig(preset="lipnet"), corpus={"name": "grid"}, limit=16,
                      progress=False)
    assert summary.done == 16 and not summary.failures, summary.failures
    return out


@pytest.fixture(scope="session")
def grid_av_cache(grid_dir, tmp_path_factory) -> Path:
    """5 real GRID clips prepared with --audio (mouth crops, MFCC and the 16 kHz sound), all in one split:
    for the models that listen too."""
    from lipread.data import read_corpus
    from lipread.data.prepare import prepare
    from lipread.frontend import FrontEndConfig

    out = tmp_path_factory.mktemp("grid_av_cache")
    entries = read_corpus("grid", grid_dir, val_fraction=0.0, seed=0)
    summary = prepare(entries, out, FrontEndConfig(preset="lipnet", audio=True), corpus={"name": "grid"}, limit=5,
                      progress=False)
    assert summary.done == 5 and not summary.failures, summary.failures
    return out
