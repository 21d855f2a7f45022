"""Word and utterance confidence from a CTC model's frame posteriors, in [0, 1].

A word's letters are the emissions of the decoded CTC path (:func:`word_emissions`). A letter's
confidence is the highest posterior the model gave that letter over the frames it was emitted on
(its spike); a word's is the lowest of its letters' (one doubtful letter makes a doubtful word:
GRID's errors are single letters, ``t``/``g``, ``v``/``p``, and ``at``/``in``). Where a language
model chose a word the frames do not support, the path runs through letters of low posterior and
the confidence falls with them. The utterance's confidence is the mean of its words' (``mean_confidence``).

How well this separates right from wrong words is measured on the GRID validation clips by
``pipelines/grid/wordtimes.py`` (AUROC, reliability table) and recorded in ``RESULTS.md``.
Shape legend: T frames, V classes (blank = 0).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from lipread.decoding.wordtimes import word_emissions


def word_confidences(
    log_probs, path: Sequence[int], words: Sequence[str], separator: int | None, blank: int = 0,
) -> list[float] | None:
    """Confidence of each non-empty word of ``words`` decoded along ``path`` from ``log_probs`` (T, V)
    of one clip; None when the path does not spell the words."""
    groups = word_emissions(path, words, separator, blank)
    return None if groups is None else group_confidences(log_probs, groups)


def group_confidences(log_probs, groups: list[list[tuple[int, int, int]]]) -> list[float]:
    """Confidence of each word from its letters' emissions ``(token, first, last)`` (:func:`group_emissions`)
    over ``log_probs`` (T, V)."""
    item = np.asarray(log_probs).item  # plain floats: a few letters per word, no array operations worth it
    out = []
    for letters in groups:
        if not letters:
            out.append(0.0)
            continue
        low = math.inf
        for tok, first, last in letters:
            peak = item(first, tok)
            while first < last:
                first += 1
                value = item(first, tok)
                if value > peak:
                    peak = value
            if peak < low:
                low = peak
        out.append(round(math.exp(low), 4))
    return out


__all__ = ["group_confidences", "word_confidences"]
