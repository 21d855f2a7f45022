"""Where there is sound: energy-based non-silent intervals of mono audio, in plain numpy.

The same rule as ``librosa.effects.split`` (frame RMS with centred zero padding, in dB below the
loudest frame, ``> -top_db`` is sound), without importing librosa: that import and its numba
compilation took most of a long video's start-up (tens of seconds, ~250 MB) for one loop of numpy.
"""

from __future__ import annotations

import numpy as np


def frame_power(audio: np.ndarray, frame_length: int = 1024, hop_length: int = 256) -> np.ndarray:
    """Mean square of each centred frame: ``audio`` (S,) -> (1 + S // hop_length,) float64."""
    pad = frame_length // 2
    y = np.pad(np.asarray(audio, dtype=np.float64), pad)
    n = 1 + (len(y) - frame_length) // hop_length
    if n <= 0:
        return np.zeros(0)
    sq = np.concatenate([[0.0], np.cumsum(y * y)])
    starts = np.arange(n) * hop_length
    return (sq[starts + frame_length] - sq[starts]) / frame_length


def nonsilent_intervals(audio: np.ndarray, top_db: float = 35.0, frame_length: int = 1024,
                        hop_length: int = 256) -> np.ndarray:
    """``(k, 2)`` sample intervals [start, end) whose frames are within ``top_db`` of the loudest one."""
    power = frame_power(audio, frame_length, hop_length) if len(audio) else np.zeros(0)
    if power.size == 0:
        return np.zeros((0, 2), dtype=np.int64)
    amin = 1e-10
    db = 10 * np.log10(np.maximum(amin, power)) - 10 * np.log10(max(amin, float(power.max())))
    loud = db > -top_db
    edges = [np.flatnonzero(np.diff(loud.astype(int))) + 1]
    if loud[0]:
        edges.insert(0, np.array([0]))
    if loud[-1]:
        edges.append(np.array([len(loud)]))
    samples = np.minimum(np.concatenate(edges) * hop_length, len(audio))
    return samples.reshape(-1, 2).astype(np.int64)
