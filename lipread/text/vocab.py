"""Character vocabularies and the tokenizer shared by CTC and attention models.

Id layout (one table for both kinds of model)::

    0            CTC blank (CTC models) / padding (attention models)
    1 .. S       the vocabulary's symbols, in order
    S+1          <sos>   (attention models only)
    S+2          <eos>   (attention models only)

A CTC model's output size is ``ctc_size`` (= S + 1: 28 for GRID); an attention decoder's is ``size``.
"""

from __future__ import annotations

import string
from dataclasses import dataclass

from lipread.errors import ConfigError
from lipread.registry import Registry

VOCABULARIES: Registry[str] = Registry("vocabulary")
VOCABULARIES.register("grid")(" " + string.ascii_lowercase)  # type: ignore[arg-type]
VOCABULARIES.register("english")(" " + string.ascii_lowercase + "'" + string.digits)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Tokenizer:
    """Encodes text to ids and back. ``symbols`` is the ordered character set (no specials)."""

    symbols: str
    name: str = "custom"

    def __post_init__(self):
        if len(set(self.symbols)) != len(self.symbols):
            raise ConfigError(f"vocabulary {self.name!r} repeats a symbol")
        object.__setattr__(self, "_index", {c: i + 1 for i, c in enumerate(self.symbols)})

    @classmethod
    def from_name(cls, name: str) -> Tokenizer:
        return cls(VOCABULARIES.get(name), name=name)

    blank_id = 0
    pad_id = 0

    @property
    def sos_id(self) -> int:
        return len(self.symbols) + 1

    @property
    def eos_id(self) -> int:
        return len(self.symbols) + 2

    @property
    def ctc_size(self) -> int:
        """Output size of a CTC model: blank + symbols."""
        return len(self.symbols) + 1

    @property
    def size(self) -> int:
        """Output size of an attention model: pad + symbols + sos + eos."""
        return len(self.symbols) + 3

    def clean(self, text: str) -> str:
        """Lower-case, map out-of-vocabulary characters to spaces, collapse spaces."""
        text = text.lower()
        text = "".join(c if c in self._index else " " for c in text)  # type: ignore[attr-defined]
        return " ".join(text.split())

    def encode(self, text: str, *, strict: bool = False, add_sos: bool = False, add_eos: bool = False) -> list[int]:
        """Text -> ids. With ``strict``, an unknown character is an error; else it is cleaned away."""
        index = self._index  # type: ignore[attr-defined]
        if strict:
            bad = sorted({c for c in text if c not in index})
            if bad:
                raise ConfigError(f"characters {bad} are not in vocabulary {self.name!r}")
        else:
            text = self.clean(text)
        ids = [index[c] for c in text]
        if add_sos:
            ids = [self.sos_id] + ids
        if add_eos:
            ids = ids + [self.eos_id]
        return ids

    def decode(self, ids) -> str:
        """Ids -> text; blank/pad, sos and eos are dropped (no CTC collapsing: see decoding)."""
        n = len(self.symbols)
        return "".join(self.symbols[i - 1] for i in (int(x) for x in ids) if 1 <= i <= n)

    def to_dict(self) -> dict:
        return {"name": self.name, "symbols": self.symbols}

    @classmethod
    def from_dict(cls, data: dict) -> Tokenizer:
        return cls(data["symbols"], name=data.get("name", "custom"))
