"""Forced alignment on align-head posteriors: exact on clean posteriors, equal to brute force on noisy ones."""

from __future__ import annotations

import itertools

import numpy as np

from lipread.data.augment import frame_labels
from lipread.decoding.align import _states, align_words, viterbi_path
from lipread.text import Tokenizer

TOK = Tokenizer.from_name("grid")


def _one_hot(labels: np.ndarray, v: int = 28, low: float = -20.0) -> np.ndarray:
    lp = np.full((len(labels), v), low)
    lp[np.arange(len(labels)), labels] = 0.0
    return lp


def test_clean_posteriors_give_the_labelled_times():
    words = [["bin", 0.30, 0.52], ["blue", 0.52, 0.80], ["at", 0.90, 1.04], ["f", 1.04, 1.30]]
    labels = frame_labels(words, 40, 25.0, TOK.encode)
    spans = align_words(_one_hot(labels), [w[0] for w in words], TOK.encode)
    assert [s.word for s in spans] == ["bin", "blue", "at", "f"]
    for span, (_, start, end) in zip(spans, words):
        # frames are 40 ms: a labelled word starts and ends within half a frame of its true time
        assert abs(span.start - start) <= 0.02 + 1e-9
        assert abs(span.end - end) <= 0.02 + 1e-9


def test_frame_labels_spread_letters_and_mark_silence():
    labels = frame_labels([["bin", 0.2, 0.44]], 15, 25.0, TOK.encode)
    ids = TOK.encode("bin")
    assert labels[:5].tolist() == [0] * 5 and labels[11:].tolist() == [0] * 4
    assert labels[5:11].tolist() == [ids[0]] * 2 + [ids[1]] * 2 + [ids[2]] * 2


def _brute_force(lp: np.ndarray, labels: list[int], silence: list[bool]) -> float:
    """Best score over every left-to-right path by enumeration (tiny cases only)."""
    t_len, s_len = lp.shape[0], len(labels)
    best = -np.inf
    for path in itertools.product(range(s_len), repeat=t_len):
        if path[0] not in (0, 1) or path[-1] not in (s_len - 1, s_len - 2):
            continue
        ok = True
        for a, b in zip(path, path[1:]):
            if not (b == a or b == a + 1 or (b == a + 2 and silence[a + 1])):
                ok = False
                break
        if not ok:
            continue
        letters = {s for s in path if not silence[s]}
        if len(letters) != sum(not s for s in silence):
            continue  # every letter state is visited
        best = max(best, sum(lp[t, labels[s]] for t, s in enumerate(path)))
    return best


def test_viterbi_equals_brute_force_on_random_posteriors():
    rng = np.random.default_rng(0)
    for trial in range(6):
        words = ["a", "b"] if trial % 2 else ["in", "a"]
        labels, _, silence = _states(words, TOK.encode)
        t_len = 6
        lp = np.log(rng.dirichlet(np.ones(28), size=t_len))
        path = viterbi_path(lp, labels, silence)
        got = sum(lp[t, labels[s]] for t, s in enumerate(path))
        assert np.isclose(got, _brute_force(lp, labels, silence))


def test_too_few_frames_gives_none():
    lp = np.log(np.full((3, 28), 1 / 28))
    assert align_words(lp, ["blue", "at"], TOK.encode) is None
    assert align_words(lp, [], TOK.encode) == []
