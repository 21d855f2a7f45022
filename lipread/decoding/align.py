"""Word times by forced alignment on an align head's frame posteriors.

A CTC model's frame path is peaky: a bidirectional model may emit a word's letters frames or even
a second away from where the word is spoken, so word times read off the CTC path are unreliable.
An *align head* (``LipNetConfig.align_head``) is trained with frame-level targets instead: silence
(id 0) outside words, and each word's letters spread evenly over the frames the word is spoken.
Given the decoded words, a Viterbi pass over its log-posteriors finds the best segmentation

    [sil] w1 [sil] w2 ... [sil] wN [sil]

where each word is its letters in order, each letter one or more frames, and silence is optional
between words. A word spans from the first frame of its first letter to the last frame of its
last letter. Shape legend: T frames, V classes (blank/silence = 0), S alignment states.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from lipread.types import WordSpan

NEG = -1e30


def _states(words: Sequence[str], encode: Callable[[str], list[int]]) -> tuple[list[int], list[int], list[bool]]:
    """State labels, the word each state belongs to (-1 for silence), and whether it is silence."""
    labels, owner, silence = [0], [-1], [True]
    for i, w in enumerate(words):
        for tok in encode(w):
            if tok > 0:
                labels.append(tok)
                owner.append(i)
                silence.append(False)
        labels.append(0)
        owner.append(-1)
        silence.append(True)
    return labels, owner, silence


def viterbi_path(log_probs: np.ndarray, labels: Sequence[int], silence: Sequence[bool]) -> np.ndarray | None:
    """Best state per frame (T,) through ``labels`` (left to right, each state >= 1 frame, silence
    states optional), or None when the frames are too few for the letters."""
    lp = np.asarray(log_probs, dtype=np.float64)
    t_len, s_len = lp.shape[0], len(labels)
    sil = np.asarray(silence, dtype=bool)
    if t_len < int((~sil).sum()) or t_len == 0:
        return None
    emit = lp[:, np.asarray(labels)]  # (T, S)
    # a silence state may be skipped: state s may also be entered from s - 2 when s - 1 is silence
    skip = np.zeros(s_len, dtype=bool)
    skip[2:] = sil[1:-1]
    score = np.full(s_len, NEG)
    score[0] = emit[0, 0]
    if s_len > 1:
        score[1] = emit[0, 1]
    back = np.zeros((t_len, s_len), dtype=np.int8)  # 0 stay, 1 from s-1, 2 from s-2
    for t in range(1, t_len):
        stay = score
        step = np.concatenate([[NEG], score[:-1]])
        jump = np.where(skip, np.concatenate([[NEG, NEG], score[:-2]]), NEG)
        cand = np.stack([stay, step, jump])
        choice = cand.argmax(0)
        score = cand[choice, np.arange(s_len)] + emit[t]
        back[t] = choice
    finals = [s_len - 1] + ([s_len - 2] if s_len > 1 and sil[-1] else [])
    state = max(finals, key=lambda s: score[s])
    if score[state] <= NEG / 2:
        return None
    path = np.empty(t_len, dtype=np.int64)
    for t in range(t_len - 1, -1, -1):
        path[t] = state
        state -= int(back[t, state])
    return path


def align_words(
    log_probs: np.ndarray,
    words: Sequence[str],
    encode: Callable[[str], list[int]],
    frame_shift: float = 0.04,
    time_offset: float = 0.0,
) -> list[WordSpan] | None:
    """Times of ``words`` from an align head's log-posteriors (T, V) of one clip; None when the clip
    is too short for the words' letters (the caller keeps the CTC times)."""
    words = [w for w in words if w]
    if not words:
        return []
    labels, owner, silence = _states(words, encode)
    path = viterbi_path(log_probs, labels, silence)
    if path is None:
        return None
    frame_owner = np.asarray(owner)[path]
    spans = []
    for i, w in enumerate(words):
        frames = np.flatnonzero(frame_owner == i)
        first, last = int(frames[0]), int(frames[-1])
        spans.append(WordSpan(w, round(time_offset + first * frame_shift, 4),
                              round(time_offset + (last + 1) * frame_shift, 4)))
    return spans


__all__ = ["align_words", "viterbi_path"]
