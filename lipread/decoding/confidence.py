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

from collections.abc import Sequence

import numpy as np

from lipread.decoding.wordtimes import word_emissions


def word_confidences(
    log_probs, path: Sequence[int], words: Sequence[str], separator: int | None, blank: int = 0,
) -> list[float] | None:
    """Confidence of each non-empty word of ``words`` decoded along ``path`` from ``log_probs`` (T, V)
    of one clip; None when the path does not spell the words."""
    groups = word_emissions(path, words, separator, blank)
    if groups is None:
        return None
    lp = np.asarray(log_probs, dtype=np.float64)
    out = []
    for letters in groups:
        peaks = [float(np.exp(lp[first : last + 1, tok].max())) for tok, first, last in letters]
        out.append(round(min(peaks), 4) if peaks else 0.0)
    return out


__all__ = ["word_confidences"]
