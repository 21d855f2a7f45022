"""Non-silent intervals in numpy: the same intervals as librosa.effects.split."""

from __future__ import annotations

import numpy as np
import pytest

from lipread.audio.activity import nonsilent_intervals


def cases():
    rng = np.random.default_rng(0)
    bursts = (rng.normal(size=48000) * np.repeat(rng.random(12) > 0.5, 4000)).astype(np.float32)
    tone = np.sin(np.arange(16000) / 5).astype(np.float32) * np.linspace(0, 1, 16000, dtype=np.float32) ** 4
    return [bursts, tone, np.zeros(3000, np.float32), np.ones(100, np.float32), np.zeros(0, np.float32)]


@pytest.mark.parametrize("i", range(5))
@pytest.mark.parametrize("top_db", [20, 35, 60])
def test_matches_librosa_split(i, top_db):
    librosa = pytest.importorskip("librosa")
    y = cases()[i]
    ours = nonsilent_intervals(y, top_db=top_db, frame_length=1024, hop_length=256)
    if len(y) == 0:
        assert ours.shape == (0, 2)
        return
    ref = librosa.effects.split(y, top_db=top_db, frame_length=1024, hop_length=256)
    assert np.array_equal(ours, ref)


@pytest.mark.grid
def test_matches_librosa_on_grid_audio(grid_clips):
    librosa = pytest.importorskip("librosa")
    from lipread.io.audio import read_audio

    for clip in grid_clips[:3]:
        y = read_audio(clip)
        assert np.array_equal(nonsilent_intervals(y, 35.0), librosa.effects.split(y, top_db=35, frame_length=1024,
                                                                                  hop_length=256))
