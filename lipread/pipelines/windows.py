"""Long videos: where the utterances are, the windows a model reads them in, and the words each keeps.

A model trained on 3-second GRID clips has only ever seen a sentence with a stretch of silence before
and after it (about 0.55 s before the first word and 1.0 s after the last). A long recording is read
the same way: a per-frame speech activity (the sound's energy, or the mouth's motion when there is no
sound; :func:`lipread.audio.activity.speech_activity`, :func:`lipread.face.motion.mouth_activity`) is
cut into utterances at sentence-length pauses (:func:`utterances`), and each utterance is read in a
window of the training clips' length placed around it as the training clips place their sentence
(:func:`context_windows`). A window owns the stretch from the middle of the pause before its
utterance to the middle of the pause after it; of the words it reads, it keeps those whose midpoint
lies in what it owns (:func:`keep_owned`), so a neighbour's words seen in the context are not
written twice. Frames are 25 fps; every function here works in frame indices unless it says seconds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lipread.types import VIDEO_FPS, WordSpan


@dataclass(frozen=True)
class Window:
    """A stretch of the video to decode, [start, end) in seconds, and the part of it it owns."""

    start: float
    end: float
    own_start: float
    own_end: float
    speech: tuple[float, float] | None = None
    """The utterance (seconds) the window was placed around, when it was found by :func:`utterances`."""
    face: dict | None = None
    """The face it reads (see :attr:`lipread.types.Segment.face`)."""


@dataclass(frozen=True)
class SegmentConfig:
    """How activity becomes utterances (seconds): runs of activity closer than ``bridge`` join, runs
    shorter than ``min_speech`` are dropped, a pause of ``pause`` or more ends an utterance, an
    utterance shorter than ``short`` joins its nearer neighbour when the pause between them is under
    ``join`` (a closure before a word such as "please" is a pause of its own), and an utterance longer
    than ``max_speech`` is split at its longest pause (its quietest frame when it has none). ``lead`` is
    the share of a window's silence placed before its utterance: GRID's clips have 0.55 s of their 1.6 s
    before the sentence (0.35), but 0.25 read the lips best on the dev recordings of
    ``benchmarks/long_video.py`` (0.1 to 0.45 tried): the mouth starts to move, and a quiet first
    consonant sounds, before or after where the activity finds the utterance's start."""

    bridge: float = 0.12
    min_speech: float = 0.2
    pause: float = 0.3
    short: float = 0.8
    join: float = 1.0
    max_speech: float = 2.6
    lead: float = 0.25


def active_runs(active: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) frame runs where ``active`` (T,) bool is True."""
    padded = np.concatenate([[False], np.asarray(active, dtype=bool), [False]])
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2])]


def utterances(activity: np.ndarray, threshold: float, config: SegmentConfig | None = None,
               fps: float = VIDEO_FPS) -> list[tuple[int, int]]:
    """Utterances, [start, end) frames, in a per-frame ``activity`` (T,) where ``> threshold`` is speech."""
    cfg = config or SegmentConfig()
    activity = np.asarray(activity, dtype=np.float64)
    runs = active_runs(activity > threshold)
    joined: list[list[int]] = []
    for a, b in runs:  # close the short gaps inside a word or between two words
        if joined and a - joined[-1][1] < cfg.bridge * fps:
            joined[-1][1] = b
        else:
            joined.append([a, b])
    runs = [(a, b) for a, b in joined if b - a >= cfg.min_speech * fps]
    groups: list[list[tuple[int, int]]] = []
    for run in runs:  # a pause of `pause` or more ends an utterance
        if groups and run[0] - groups[-1][-1][1] < cfg.pause * fps:
            groups[-1].append(run)
        else:
            groups.append([run])
    groups = _join_short(groups, cfg.short * fps, cfg.join * fps, cfg.max_speech * fps)
    out: list[tuple[int, int]] = []
    for group in groups:
        out += _split_long(group, activity, cfg.max_speech * fps)
    return out


def _join_short(groups: list[list[tuple[int, int]]], short: float, join: float,
                max_len: float) -> list[list[tuple[int, int]]]:
    """Join each utterance (a list of runs) shorter than ``short`` frames to its nearer neighbour when
    the pause to it is under ``join`` frames and the two together are at most ``max_len`` long."""
    groups = [list(g) for g in groups]
    i = 0
    while i < len(groups):
        g = groups[i]
        if g[-1][1] - g[0][0] >= short:
            i += 1
            continue
        gaps = {j: (g[0][0] - groups[j][-1][1] if j < i else groups[j][0][0] - g[-1][1]) for j in (i - 1, i + 1)
                if 0 <= j < len(groups)}
        fits = {j: gap for j, gap in gaps.items() if gap < join
                and max(g[-1][1], groups[j][-1][1]) - min(g[0][0], groups[j][0][0]) <= max_len}
        if not fits:
            i += 1
            continue
        j = min(fits, key=fits.get)
        a, b = min(i, j), max(i, j)
        groups[a:b + 1] = [groups[a] + groups[b]]
        i = a
    return groups


def _split_long(runs: list[tuple[int, int]], activity: np.ndarray, max_len: float) -> list[tuple[int, int]]:
    """One utterance made of ``runs``, split at its longest pause (recursively) until none is longer
    than ``max_len`` frames; a single run that is still too long is cut at its quietest frame."""
    start, end = runs[0][0], runs[-1][1]
    if end - start <= max_len:
        return [(start, end)]
    if len(runs) > 1:
        gaps = [runs[i + 1][0] - runs[i][1] for i in range(len(runs) - 1)]
        i = int(np.argmax(gaps)) + 1
        return _split_long(runs[:i], activity, max_len) + _split_long(runs[i:], activity, max_len)
    lo, hi = start + int(max_len // 3), end - int(max_len // 3)
    cut = lo + int(np.argmin(activity[lo:hi])) if hi > lo else (start + end) // 2
    return _split_long([(start, cut)], activity, max_len) + _split_long([(cut, end)], activity, max_len)


@dataclass(frozen=True)
class FrameWindow:
    """One utterance's window in frames of a block: ``[start, end)`` may reach past the block's edges;
    only ``[real_start, real_end)`` is shown as it is (the utterance and the pauses around it, up to its
    neighbours' speech), the rest repeats the edge frames (and is quiet in the sound), as the still
    lead-in and tail of a training clip. It owns ``[own_start, own_end)``."""

    start: int
    end: int
    real_start: int
    real_end: int
    own_start: int
    own_end: int

    def frame_index(self) -> np.ndarray:
        """(end - start,) indices into the block's frames: the real ones, edges repeated outside them."""
        return np.clip(np.arange(self.start, self.end), self.real_start, self.real_end - 1)


def context_windows(utts: list[tuple[int, int]], n_frames: int, length: int, lead: float = 0.25,
                    own_from: int = 0, own_to: int | None = None, still: bool = True) -> list[FrameWindow]:
    """One :class:`FrameWindow` of ``length`` frames per utterance, with ``lead`` of its silence before
    it (an utterance longer than that gets its own length plus a fifth of a window each side). What is
    shown stops at the block's edges and, when ``still``, where the neighbouring utterances begin (else
    the neighbours are shown as they are). Consecutive windows own up to the middle of the pause between
    their utterances; the first owns from ``own_from``, the last up to ``own_to`` (default ``n_frames``)."""
    own_to = n_frames if own_to is None else own_to
    out = []
    for i, (s, e) in enumerate(utts):
        span = e - s
        if span + 2 * (length // 5) > length:
            a, b = s - length // 5, e + length // 5
        else:
            a = s - int(round((length - span) * lead))
            b = a + length
        prev_end = utts[i - 1][1] if i > 0 and still else 0
        next_start = utts[i + 1][0] if i + 1 < len(utts) and still else n_frames
        real_a, real_b = max(a, prev_end, 0), min(b, next_start, n_frames)
        own_a = own_from if i == 0 else (utts[i - 1][1] + s) // 2
        own_b = own_to if i == len(utts) - 1 else (e + utts[i + 1][0]) // 2
        out.append(FrameWindow(a, b, min(real_a, s), max(real_b, e), own_a, own_b))
    return out


def keep_owned(words: list[WordSpan], window: Window) -> list[WordSpan]:
    """The words (absolute times) whose midpoint lies in the window's own stretch."""
    return [w for w in words if window.own_start <= (w.start + w.end) / 2 < window.own_end
            or (window.own_end == window.end and (w.start + w.end) / 2 >= window.own_end)]
