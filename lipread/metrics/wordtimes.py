"""Word-time error against reference word alignments (GRID ``.align``, LRS word tables).

Hypothesis and reference words are aligned by edit distance (jiwer); on every word read correctly
the start and end errors ``|t_hyp - t_ref|`` are collected. The report gives their median and 90th
percentile in milliseconds and how many words were timed.
"""

from __future__ import annotations

from collections.abc import Sequence

import jiwer
import numpy as np


def matched_word_errors(ref_words: Sequence, hyp_words: Sequence) -> list[tuple[float, float]]:
    """``(start_error, end_error)`` in seconds for each correctly read word of one utterance.

    ``ref_words``: ``(word, start, end)`` triples (or objects with ``word/start/end``), times in
    seconds on the same clock as ``hyp_words``.
    """
    def triple(w):
        return (w.word, w.start, w.end) if hasattr(w, "word") else (str(w[0]), float(w[1]), float(w[2]))

    ref = [triple(w) for w in ref_words]
    hyp = [triple(w) for w in hyp_words]
    if not ref or not hyp:
        return []
    out = jiwer.process_words(" ".join(r[0] for r in ref), " ".join(h[0] for h in hyp))
    errors = []
    for chunk in out.alignments[0]:
        if chunk.type != "equal":
            continue
        for i, j in zip(range(chunk.ref_start_idx, chunk.ref_end_idx), range(chunk.hyp_start_idx, chunk.hyp_end_idx)):
            errors.append((abs(hyp[j][1] - ref[i][1]), abs(hyp[j][2] - ref[i][2])))
    return errors


def word_time_report(errors: Sequence[tuple[float, float]]) -> dict:
    """Median and 90th percentile of start and end errors (ms) over ``errors`` from all utterances."""
    if not errors:
        return {"words": 0}
    e = np.asarray(errors, dtype=np.float64) * 1000.0
    return {
        "words": int(len(e)),
        "start_median_ms": round(float(np.median(e[:, 0])), 1),
        "end_median_ms": round(float(np.median(e[:, 1])), 1),
        "start_p90_ms": round(float(np.percentile(e[:, 0], 90)), 1),
        "end_p90_ms": round(float(np.percentile(e[:, 1], 90)), 1),
    }


__all__ = ["matched_word_errors", "word_time_report"]
