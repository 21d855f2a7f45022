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


def frame_energy_db(audio: np.ndarray, n_frames: int, samples_per_frame: int) -> np.ndarray:
    """Energy of each video frame's stretch of ``audio`` (S,) in dB: ``(n_frames,)`` float64; frames past
    the end of the audio are as quiet as silence can be (-100 dB)."""
    out = np.full(n_frames, -100.0)
    n = min(n_frames, len(audio) // samples_per_frame)
    if n > 0:
        x = np.asarray(audio[: n * samples_per_frame], dtype=np.float64).reshape(n, samples_per_frame)
        out[:n] = 10 * np.log10(np.maximum((x * x).mean(axis=1), 1e-10))
    return out


def adaptive_threshold(values: np.ndarray, low: float = 10.0, high: float = 90.0, fraction: float = 0.5,
                       min_range: float = 0.0) -> float | None:
    """A threshold between a signal's quiet and busy levels: the ``low`` percentile plus ``fraction`` of
    the way to the ``high`` one. None when the two are less than ``min_range`` apart (no contrast to cut
    on: all silence, or all speech)."""
    values = np.asarray(values, dtype=np.float64)
    if values.size == 0:
        return None
    lo, hi = np.percentile(values, [low, high])
    if hi - lo < min_range:
        return None
    return float(lo + fraction * (hi - lo))


SILENT_DB = -60.0
"""Frames quieter than this (dB re full scale) are digital silence: a muted track, not a quiet room."""


def is_silent(audio: np.ndarray, samples_per_frame: int = 640) -> bool:
    """True when no video frame's stretch of ``audio`` (S,) is louder than :data:`SILENT_DB` (a sound track
    that carries nothing, as a muted phone video keeps)."""
    n = len(audio) // samples_per_frame
    return n == 0 or float(frame_energy_db(audio, n, samples_per_frame).max()) < SILENT_DB
