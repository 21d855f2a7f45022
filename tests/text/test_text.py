"""Vocabularies, tokenizer round trips, normalization."""

from __future__ import annotations

import pytest

from lipread.errors import ConfigError
from lipread.text import Normalizer, Tokenizer


def test_grid_vocabulary_sizes():
    tok = Tokenizer.from_name("grid")
    assert tok.ctc_size == 28  # blank + space + a-z
    assert tok.size == 30  # pad + 27 symbols + sos + eos
    assert tok.blank_id == 0 and tok.sos_id == 28 and tok.eos_id == 29


def test_english_vocabulary_has_apostrophe_and_digits():
    tok = Tokenizer.from_name("english")
    assert "'" in tok.symbols and "7" in tok.symbols
    assert tok.ctc_size == 1 + 27 + 1 + 10


@pytest.mark.parametrize("name,text", [("grid", "bin blue at f two now"), ("english", "don't say 42 words")])
def test_round_trip(name, text):
    tok = Tokenizer.from_name(name)
    ids = tok.encode(text)
    assert all(1 <= i < tok.ctc_size for i in ids)
    assert tok.decode(ids) == text
    framed = tok.encode(text, add_sos=True, add_eos=True)
    assert framed[0] == tok.sos_id and framed[-1] == tok.eos_id
    assert tok.decode(framed) == text


def test_clean_and_strict():
    tok = Tokenizer.from_name("grid")
    assert tok.decode(tok.encode("Bin, BLUE!  at")) == "bin blue at"
    with pytest.raises(ConfigError):
        tok.encode("bin 2", strict=True)


def test_serialization_round_trip():
    tok = Tokenizer.from_name("english")
    again = Tokenizer.from_dict(tok.to_dict())
    assert again == tok and again.encode("it's") == tok.encode("it's")


def test_duplicate_symbol_rejected():
    with pytest.raises(ConfigError):
        Tokenizer("abca")


def test_normalizer_options():
    assert Normalizer()("Hello,   World!") == "hello world"
    assert Normalizer(lowercase=False)("Hello, World!") == "Hello World"
    assert Normalizer(remove_punctuation=False)("Hi, there") == "hi, there"
