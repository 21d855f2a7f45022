"""Corpus readers: each turns a corpus on disk into :class:`Entry` items (a Record plus its split).

Readers are registered by name in :data:`CORPORA` (``grid``, ``lrs2``, ``lrs3``, ``manifest``)
and called as ``read_corpus(name, root, **options)``; unknown options are a ConfigError.
"""

from __future__ import annotations

from lipread.data.corpora import grid, lrs, manifest  # noqa: F401  (register the readers)
from lipread.data.corpora.base import CORPORA, SPLITS, Entry, read_corpus

__all__ = ["CORPORA", "SPLITS", "Entry", "read_corpus"]
