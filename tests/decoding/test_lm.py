"""The ARPA writer (Witten-Bell), the GRID grammar and its shipped LM/lexicon."""

from __future__ import annotations

import math
import subprocess
import sys

import pytest

from lipread.decoding.lm import (
    BOS,
    EOS,
    REPO,
    UNK,
    _prob,
    arpa_order,
    build_grid_lm,
    grid_lm_files,
    load_lexicon,
    ngram_counts,
    witten_bell,
)
from lipread.text.grid import GRID_GRAMMAR, grid_sentences, grid_words, is_grid_sentence

TOY = [("a", "b", "c"), ("a", "b", "b"), ("b", "c"), ("c",)]


def test_grid_grammar():
    assert len(grid_words()) == 51 and "w" not in GRID_GRAMMAR["letter"] and len(GRID_GRAMMAR["letter"]) == 25
    assert sum(1 for _ in grid_sentences()) == 64_000
    assert is_grid_sentence("place white with z nine soon") and not is_grid_sentence("place white with z nine")


@pytest.mark.parametrize("history", [(BOS, "a"), ("a", "b"), ("c", "c"), (BOS,), ("b",), ("zzz", "a")])
def test_witten_bell_is_normalised(history):
    probs, backoffs = witten_bell(ngram_counts(TOY, 3))
    vocab = [g[0] for g in probs[1]]  # includes </s> and <unk>
    total = sum(_prob(probs, backoffs, (*history, w)) for w in vocab)
    assert total == pytest.approx(1.0, abs=1e-9)


def test_witten_bell_values():
    probs, backoffs = witten_bell(ngram_counts(TOY, 2))
    # after "a": seen once each... "a b" twice, 1 distinct follower: lambda = 2 / (2 + 1)
    p_b = 2 / 3 * 1.0 + 1 / 3 * probs[1][("b",)]
    assert probs[2][("a", "b")] == pytest.approx(p_b)
    assert backoffs[1][("a",)] == pytest.approx(1 / 3)


def test_grid_arpa_matches_kenlm(tmp_path):
    from flashlight.lib.text.decoder.kenlm import KenLM
    from flashlight.lib.text.dictionary import Dictionary

    arpa, lexicon = build_grid_lm(tmp_path, order=3)
    assert arpa_order(arpa) == 3
    words = sorted(load_lexicon(lexicon))
    vocab = Dictionary([*words, UNK])
    lm = KenLM(str(arpa), vocab)
    state = lm.start(False)
    ours = 0.0
    probs, backoffs = witten_bell(ngram_counts(grid_sentences(), 3))
    sentence = "set green by q seven soon".split()
    history = (BOS,)
    for w in sentence:
        state, score = lm.score(state, vocab.get_index(w))
        ours_w = math.log10(_prob(probs, backoffs, (*history[-2:], w)))
        assert score == pytest.approx(ours_w, abs=1e-4)
        history = (*history, w)
        ours += ours_w
    _, end = lm.finish(state)
    assert end == pytest.approx(math.log10(_prob(probs, backoffs, (*history[-2:], EOS))), abs=1e-4)
    # a grammatical sentence is far likelier than an ungrammatical one
    state, bad = lm.start(False), 0.0
    for w in "soon seven q by green set".split():
        state, s = lm.score(state, vocab.get_index(w))
        bad += s
    assert ours > bad + 5


def test_shipped_grid_lm_is_what_the_script_writes(tmp_path):
    shipped_arpa, shipped_lexicon = grid_lm_files()
    assert shipped_arpa.parent == REPO / "pipelines" / "grid", "the GRID LM is not committed under pipelines/grid"
    subprocess.run([sys.executable, str(REPO / "pipelines" / "grid" / "make_lm.py"), "--out-dir", str(tmp_path)],
                   check=True, capture_output=True)
    assert (tmp_path / "grid_3gram.arpa").read_text() == shipped_arpa.read_text()
    assert (tmp_path / "lexicon.txt").read_text() == shipped_lexicon.read_text()
