"""The corpus registry (:data:`CORPORA`) and :class:`Entry`; the readers register themselves here."""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable
from dataclasses import dataclass

from lipread.errors import ConfigError
from lipread.registry import Registry
from lipread.types import Record

SPLITS = ("train", "val", "test")


@dataclass
class Entry:
    """One clip to prepare: the corpus record and the split it belongs to (train | val | test).

    ``error`` is set when the reader found the clip but cannot use it (e.g. an unreadable
    transcript); ``lipread prepare`` then lists it in the failures file instead of dropping it.
    """

    record: Record
    split: str
    error: str = ""


CORPORA: Registry[Callable[..., list[Entry]]] = Registry("corpus")


def read_corpus(name: str, root: str | os.PathLike, **options) -> list[Entry]:
    """Read corpus ``name`` at ``root``. Options that are ``None`` take the reader's defaults."""
    reader = CORPORA.get(name)
    params = inspect.signature(reader).parameters
    options = {k: v for k, v in options.items() if v is not None}
    unknown = [k for k in options if k not in params]
    if unknown:
        known = ", ".join(p for p in params if p != "root")
        raise ConfigError(f"corpus {name!r} has no option {unknown[0]!r}", fix=f"Its options: {known}.")
    return reader(root, **options)
