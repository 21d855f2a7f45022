"""Splitting long videos into decoding windows and joining the words back.

A model trained on 3-second GRID clips reads windows of about that length. With audio, windows
follow voice activity (speech regions, split where they run longer than a window); without
audio, fixed windows overlap by ``overlap`` seconds and each word is kept by the window whose
own stretch holds the word's midpoint, so no word is counted twice.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lipread.types import WordSpan


@dataclass(frozen=True)
class Window:
    """A stretch of the video to decode, [start, end) in seconds, and the part of it it owns."""

    start: float
    end: float
    own_start: float
    own_end: float


def fixed_windows(duration: float, length: float, overlap: float) -> list[Window]:
    """Windows of ``length`` s stepping by ``length - overlap``; each owns up to the overlap midpoints."""
    if duration <= length:
        return [Window(0.0, duration, 0.0, duration)]
    step = length - overlap
    if step <= 0:
        raise ValueError("overlap must be shorter than the window")
    starts = list(np.arange(0.0, max(duration - length, 0.0) + 1e-9, step))
    if starts[-1] + length < duration:
        starts.append(duration - length)
    wins = []
    for i, s in enumerate(starts):
        e = min(s + length, duration)
        own_s = 0.0 if i == 0 else (s + starts[i - 1] + length) / 2
        own_e = duration if i == len(starts) - 1 else (starts[i + 1] + e) / 2
        wins.append(Window(float(s), float(e), float(own_s), float(own_e)))
    return wins


def speech_windows(
    intervals: list[tuple[float, float]], duration: float, length: float, pad: float = 0.2, min_gap: float = 0.3
) -> list[Window]:
    """Windows around speech ``intervals`` (s): close gaps shorter than ``min_gap``, pad both sides,
    split regions longer than ``length`` into equal parts."""
    merged: list[list[float]] = []
    for s, e in sorted(intervals):
        if merged and s - merged[-1][1] < min_gap:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    wins = []
    for s, e in merged:
        s, e = max(0.0, s - pad), min(duration, e + pad)
        parts = max(1, int(np.ceil((e - s) / length)))
        edges = np.linspace(s, e, parts + 1)
        for a, b in zip(edges[:-1], edges[1:]):
            wins.append(Window(float(a), float(b), float(a), float(b)))
    return wins


def keep_owned(words: list[WordSpan], window: Window) -> list[WordSpan]:
    """The words (absolute times) whose midpoint lies in the window's own stretch."""
    return [w for w in words if window.own_start <= (w.start + w.end) / 2 < window.own_end
            or (window.own_end == window.end and (w.start + w.end) / 2 >= window.own_end)]
