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


def test_grammar_lm_accepts_exactly_the_grid_sentences(tmp_path):
    from flashlight.lib.text.decoder.kenlm import KenLM
    from flashlight.lib.text.dictionary import Dictionary

    from lipread.decoding.lm import write_grammar_arpa

    arpa = write_grammar_arpa(tmp_path / "g.arpa")
    assert arpa_order(arpa) == 2
    vocab = Dictionary([*grid_words(), UNK])
    lm = KenLM(str(arpa), vocab)

    def score(sentence):
        state, total = lm.start(False), 0.0
        for w in sentence.split():
            state, s = lm.score(state, vocab.get_index(w))
            total += s
        return total + lm.finish(state)[1]

    # uniform within each slot: 1 / (4 * 4 * 4 * 25 * 10 * 4)
    assert score("set green by q seven soon") == pytest.approx(-math.log10(64000), abs=1e-4)
    assert score("bin red at a zero now") == pytest.approx(-math.log10(64000), abs=1e-4)
    for bad in ("set green by q seven", "green set by q seven soon", "set green by q seven soon soon"):
        assert score(bad) < -90


def test_beam_decoder_with_the_grammar_reads_only_grid_sentences(tmp_path, monkeypatch):
    """Posteriors that spell "bin blue at f two" and then are unsure among all letters: the lexicon alone
    reads the last word as any lexicon word, the grammar LM as one of the four adverbs."""
    import torch

    from lipread.decoding import build_decoder
    from lipread.text import Tokenizer

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr("lipread.decoding.lm.GRID_LM_DIR", tmp_path / "no-checkout")
    tok = Tokenizer.from_name("grid")
    ids = tok.encode("bin blue at f two ") + [tok.encode("a b")[1]]
    t = 2 * len(ids) + 14
    logits = torch.zeros(1, t, tok.ctc_size)
    logits[0, :, 0] = 4.0  # blank between the letters
    for i, s in enumerate(ids):
        logits[0, 2 * i + 1, s], logits[0, 2 * i + 1, 0] = 4.0, 0.0
    for f in range(2 * len(ids) + 1, t, 2):  # then letters the model cannot tell apart
        logits[0, f, 1:], logits[0, f, 0] = 3.0, 0.0
    lp, n = logits.log_softmax(-1), torch.tensor([t])
    free = build_decoder("beam", tok, beam_size=50, lexicon="grid", lm=None).decode(lp, n)
    assert not is_grid_sentence(free[0][0].text), free[0][0].text
    ruled = build_decoder("beam", tok, beam_size=50, lexicon="grid", lm="grid-grammar", lm_weight=1.0).decode(lp, n)
    assert (tmp_path / "lipread" / "grid" / "grid_grammar.arpa").is_file()  # built into the user cache
    assert is_grid_sentence(ruled[0][0].text) and ruled[0][0].text.startswith("bin blue at f two "), ruled[0][0].text
