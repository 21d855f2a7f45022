"""Seeded, reproducible splits and machine shards.

Everything here depends only on clip ids, speakers and a seed, never on file order or on
Python's salted ``hash``, so a split or a ``--shard i/N`` is identical on every machine and run.
"""

from __future__ import annotations

import hashlib
import random
from collections import defaultdict
from collections.abc import Iterable, Sequence

from lipread.errors import ConfigError

GRID_UNSEEN_TEST_SPEAKERS = ("s1", "s2", "s20", "s22")
"""Held-out speakers of the GRID "unseen speakers" protocol (Assael et al. 2016)."""
GRID_OVERLAPPED_TEST_PER_SPEAKER = 255
"""Sentences held out per speaker in the GRID "overlapped speakers" protocol."""


def stable_hash(text: str) -> int:
    """A 64-bit hash of ``text`` that is the same in every process and on every machine."""
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "big")


def parse_shard(spec: str | None) -> tuple[int, int] | None:
    """``"i/N"`` -> ``(i, N)`` with ``0 <= i < N``; ``None`` stays ``None``."""
    if spec is None or spec == "":
        return None
    try:
        i_text, n_text = spec.split("/")
        i, n = int(i_text), int(n_text)
    except ValueError:
        raise ConfigError(f"--shard {spec!r} is not of the form i/N", fix="Use e.g. --shard 0/8.") from None
    if n < 1 or not 0 <= i < n:
        raise ConfigError(f"--shard {spec!r}: need 0 <= i < N", fix="Shards are numbered from 0 to N-1.")
    return i, n


def in_shard(clip_id: str, shard: tuple[int, int] | None) -> bool:
    """Whether ``clip_id`` belongs to machine shard ``(i, N)`` (all clips when ``shard`` is None)."""
    if shard is None:
        return True
    i, n = shard
    return stable_hash(clip_id) % n == i


def val_fraction_split(ids: Sequence[str], fraction: float, seed: int = 0) -> dict[str, str]:
    """Hold out ``round(fraction * len(ids))`` ids as ``val`` (seeded), the rest ``train``.

    The choice depends on the sorted ids and the seed only, not on the order given.
    """
    if not 0.0 <= fraction < 1.0:
        raise ConfigError(f"val fraction {fraction} must be in [0, 1)")
    ordered = sorted(set(ids))
    n_val = int(round(fraction * len(ordered)))
    held = set(random.Random(seed).sample(ordered, n_val)) if n_val else set()
    return {i: ("val" if i in held else "train") for i in ordered}


def per_speaker_holdout(
    items: Iterable[tuple[str, str]], n_test: int, seed: int = 0, name: str = "test"
) -> dict[str, str]:
    """For ``(id, speaker)`` pairs, hold out ``n_test`` random ids per speaker as ``name``.

    A speaker with ``n_test`` or fewer clips is an error (it would have no training data).
    """
    by_speaker: dict[str, list[str]] = defaultdict(list)
    for clip_id, speaker in items:
        by_speaker[speaker].append(clip_id)
    out: dict[str, str] = {}
    for speaker in sorted(by_speaker):
        ids = sorted(by_speaker[speaker])
        if len(ids) <= n_test:
            raise ConfigError(
                f"speaker {speaker} has {len(ids)} clips, cannot hold out {n_test}",
                fix="Use --split val-fraction for small or single-speaker data.",
            )
        rng = random.Random(f"{seed}:{speaker}")
        held = set(rng.sample(ids, n_test))
        out.update({i: (name if i in held else "train") for i in ids})
    return out


def speaker_split(items: Iterable[tuple[str, str]], test_speakers: Iterable[str]) -> dict[str, str]:
    """``test`` for the clips of ``test_speakers``, ``train`` for the others."""
    test = set(test_speakers)
    return {clip_id: ("test" if speaker in test else "train") for clip_id, speaker in items}
