"""lipread.data: corpus readers, the prepared cache, and the loaders that read it for training.

- ``corpora``: ``read_corpus("grid" | "lrs2" | "lrs3" | "manifest", root, **options)`` -> entries
- ``prepare``: the resumable parallel driver of ``lipread prepare``; ``cache``: the on-disk format
- ``PreparedDataset`` -> ``Sample``; ``collate`` -> ``Batch`` (in ``batch``); ``FrameBudgetBatchSampler``; ``augment``

Names are imported lazily so that ``import lipread.data.corpora`` (in prepare workers) stays light.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "PreparedDataset": "lipread.data.dataset",
    "Sample": "lipread.data.dataset",
    "Batch": "lipread.data.batch",
    "collate": "lipread.data.batch",
    "FrameBudgetBatchSampler": "lipread.data.sampler",
    "AugmentConfig": "lipread.data.augment",
    "VideoAugment": "lipread.data.augment",
    "CacheReader": "lipread.data.cache",
    "read_corpus": "lipread.data.corpora",
    "Entry": "lipread.data.corpora",
}

__all__ = list(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'lipread.data' has no attribute {name!r}")
