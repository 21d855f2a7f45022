"""The GRID corpus grammar (Cooke et al. 2006).

Every GRID sentence is six words, one from each slot in order::

    command     bin lay place set
    colour      blue green red white
    preposition at by in with
    letter      a-z without w (25)
    digit       zero .. nine
    adverb      again now please soon

e.g. "bin blue at f two now". 4 * 4 * 4 * 25 * 10 * 4 = 64,000 sentences, 51 distinct words.
"""

from __future__ import annotations

import itertools
import string
from collections.abc import Iterator

GRID_GRAMMAR: dict[str, tuple[str, ...]] = {
    "command": ("bin", "lay", "place", "set"),
    "colour": ("blue", "green", "red", "white"),
    "preposition": ("at", "by", "in", "with"),
    "letter": tuple(c for c in string.ascii_lowercase if c != "w"),
    "digit": ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"),
    "adverb": ("again", "now", "please", "soon"),
}
"""Slot name -> its words, slots in sentence order."""


def grid_words() -> list[str]:
    """The 51 GRID words, sorted."""
    return sorted({w for words in GRID_GRAMMAR.values() for w in words})


def grid_sentences() -> Iterator[tuple[str, ...]]:
    """Every sentence the grammar allows (64,000), as word tuples, in slot order."""
    return itertools.product(*GRID_GRAMMAR.values())


def is_grid_sentence(text: str) -> bool:
    """Whether ``text`` (lower-case, space-separated) is a sentence of the GRID grammar."""
    words = text.split()
    return len(words) == len(GRID_GRAMMAR) and all(w in slot for w, slot in zip(words, GRID_GRAMMAR.values()))
