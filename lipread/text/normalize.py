"""Text normalization for scoring: case, punctuation, whitespace (each configurable)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Normalizer:
    """Normalizes transcripts before scoring.

    Defaults: lower-case, drop punctuation except apostrophes inside words, collapse whitespace.
    Unicode is NFC-normalized first so composed and decomposed accents compare equal.
    """

    lowercase: bool = True
    remove_punctuation: bool = True
    keep_apostrophes: bool = True
    collapse_whitespace: bool = True

    def __call__(self, text: str) -> str:
        text = unicodedata.normalize("NFC", text)
        if self.lowercase:
            text = text.lower()
        if self.remove_punctuation:
            text = "".join(self._strip_char(c) for c in text)
            if self.keep_apostrophes:
                # an apostrophe survives only between two word characters ("don't", not "'quoted'")
                text = re.sub(r"(?<!\w)'|'(?!\w)", " ", text)
        if self.collapse_whitespace:
            text = _SPACE.sub(" ", text).strip()
        return text

    def _strip_char(self, c: str) -> str:
        if c == "'" and self.keep_apostrophes:
            return c
        cat = unicodedata.category(c)
        if cat.startswith("P") or cat.startswith("S"):
            return " "
        return c


IDENTITY = Normalizer(lowercase=False, remove_punctuation=False, keep_apostrophes=True, collapse_whitespace=True)
"""Only collapses whitespace: scores text as written."""

DEFAULT = Normalizer()


def normalize(text: str, normalizer: Normalizer = DEFAULT) -> str:
    return normalizer(text)
