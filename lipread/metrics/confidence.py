"""How well confidences separate right from wrong words: AUROC and a reliability table.

A hypothesis word is *right* when the edit-distance alignment with the reference (jiwer) pairs it
with an equal reference word, and *wrong* when it is a substitution or an insertion.
"""

from __future__ import annotations

from collections.abc import Sequence

import jiwer
import numpy as np


def labelled_words(reference: str, hyp_words: Sequence[tuple[str, float | None]]) -> list[tuple[bool, float]]:
    """``(right, confidence)`` for each hypothesis word with a confidence; ``hyp_words``: (word, confidence)."""
    if not hyp_words:
        return []
    right = [False] * len(hyp_words)
    if reference.split():
        out = jiwer.process_words(reference, " ".join(w for w, _ in hyp_words))
        for chunk in out.alignments[0]:
            if chunk.type == "equal":
                for j in range(chunk.hyp_start_idx, chunk.hyp_end_idx):
                    right[j] = True
    return [(r, float(c)) for r, (_, c) in zip(right, hyp_words) if c is not None]


def auroc(right: Sequence[bool], scores: Sequence[float]) -> float | None:
    """Probability that a random right word scores higher than a random wrong one (ties count half);
    None when either class is empty."""
    r = np.asarray(right, dtype=bool)
    s = np.asarray(scores, dtype=np.float64)
    pos, neg = s[r], s[~r]
    if len(pos) == 0 or len(neg) == 0:
        return None
    order = np.argsort(np.concatenate([pos, neg]), kind="mergesort")
    ranks = np.empty(len(order))
    values = np.concatenate([pos, neg])[order]
    # average ranks over ties
    i = 0
    while i < len(values):
        j = i
        while j + 1 < len(values) and values[j + 1] == values[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2 + 1
        i = j + 1
    u = ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2
    return float(u / (len(pos) * len(neg)))


def reliability(right: Sequence[bool], scores: Sequence[float], bins: int = 5) -> list[dict]:
    """Equal-width confidence bins: words, mean confidence and share of right words in each."""
    r = np.asarray(right, dtype=bool)
    s = np.asarray(scores, dtype=np.float64)
    edges = np.linspace(0.0, 1.0, bins + 1)
    rows = []
    for k in range(bins):
        hi_ok = s <= edges[k + 1] if k == bins - 1 else s < edges[k + 1]
        m = (s >= edges[k]) & hi_ok
        rows.append({"bin": f"{edges[k]:.1f}-{edges[k + 1]:.1f}", "words": int(m.sum()),
                     "mean_confidence": round(float(s[m].mean()), 3) if m.any() else None,
                     "accuracy": round(float(r[m].mean()), 3) if m.any() else None})
    return rows


__all__ = ["auroc", "labelled_words", "reliability"]
