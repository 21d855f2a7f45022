"""Greedy decoding and word times."""

from __future__ import annotations

import torch

from lipread.decoding import build_decoder
from lipread.decoding.wordtimes import collapse, ctc_emissions, word_spans
from lipread.text import Tokenizer

TOK = Tokenizer.from_name("grid")
SP = 1  # " " is the first GRID symbol -> id 1


def one_hot_path(path: list[int], v: int = 28, peak: float = 0.9) -> torch.Tensor:
    """(T, V) log-probs whose argmax follows ``path``."""
    lp = torch.full((len(path), v), (1 - peak) / (v - 1))
    lp[torch.arange(len(path)), torch.tensor(path)] = peak
    return lp.log()


def ids(text: str) -> list[int]:
    return TOK.encode(text, strict=True)


def test_collapse_and_emissions():
    assert collapse([0, 3, 3, 0, 3, 1, 1, 0, 4]) == [3, 3, 1, 4]
    assert ctc_emissions([0, 3, 3, 0, 3]) == [(3, 1, 2), (3, 4, 4)]


def test_greedy_text_tokens_and_times():
    b, i, n, a, t = ids("binat")
    path = [0, b, b, i, 0, n, 0, SP, SP, a, 0, t, t, 0, 0]
    hyps = build_decoder("greedy", "grid").decode(one_hot_path(path)[None], torch.tensor([15]), time_offset=1.0)
    (h,) = hyps[0]
    assert h.text == "bin at" and h.tokens == ids("bin at")
    assert [(w.word, w.start, w.end) for w in h.words] == [("bin", 1.04, 1.24), ("at", 1.36, 1.52)]
    assert abs(h.score - 15 * torch.tensor(0.9).log().item()) < 1e-4


def test_greedy_respects_lengths_and_strips_spaces():
    a = ids("a")[0]
    path = [SP, a, SP, 0, a, a]
    lp = one_hot_path(path)[None].repeat(2, 1, 1)
    out = build_decoder("greedy", TOK).decode(lp, torch.tensor([6, 3]))
    assert [o[0].text for o in out] == ["a a", "a"]


def test_word_spans_fall_back_to_groups():
    # a path that does not spell the words letter for letter still yields one span per word group
    spans = word_spans([2, 0, SP, 3, 3], ["xy", "z"], separator=SP, frame_shift=0.1)
    assert [(s.word, s.start, s.end) for s in spans] == [("xy", 0.0, 0.1), ("z", 0.3, 0.5)]


def test_word_spans_ignore_an_unfinished_last_word():
    # letters b i n | w h : the lexicon search ended inside "white"; only "bin" is a word
    b, i, n, w, h = TOK.encode("binwh", strict=True)
    spans = word_spans([b, i, n, SP, w, h], ["bin"], separator=SP, frame_shift=1.0)
    assert [(s.word, s.start, s.end) for s in spans] == [("bin", 0.0, 3.0)]
