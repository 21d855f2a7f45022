"""AUROC against a brute-force pair count; right/wrong labelling through the edit alignment."""

from __future__ import annotations

import itertools

import numpy as np

from lipread.metrics.confidence import auroc, labelled_words, reliability


def test_auroc_equals_pair_counting_with_ties():
    rng = np.random.default_rng(0)
    for _ in range(20):
        right = rng.random(30) < 0.7
        scores = rng.integers(0, 6, 30) / 5.0  # many ties
        pairs = [(1.0 if a > b else 0.5 if a == b else 0.0)
                 for a, b in itertools.product(scores[right], scores[~right])]
        assert np.isclose(auroc(right, scores), np.mean(pairs))
    assert auroc([True, True], [0.1, 0.2]) is None


def test_labelled_words_marks_substitutions_and_insertions_wrong():
    got = labelled_words("bin blue at f two now", [("bin", 0.9), ("blue", 0.8), ("in", 0.3), ("f", 0.7),
                                                   ("two", 0.6), ("now", 0.9), ("please", 0.2)])
    assert [r for r, _ in got] == [True, True, False, True, True, True, False]
    assert labelled_words("", [("a", 0.5)]) == [(False, 0.5)]


def test_reliability_bins_cover_every_word():
    rows = reliability([True, False, True, True], [0.05, 0.15, 0.95, 1.0], bins=5)
    assert sum(r["words"] for r in rows) == 4
    assert rows[-1]["accuracy"] == 1.0 and rows[0]["accuracy"] == 0.5 and rows[0]["words"] == 2
