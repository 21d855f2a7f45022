"""Length-bucketed batching by a frame budget, seeded per epoch (and split across ranks for DDP).

Clips of similar length are batched together so that little compute goes to padding, and a batch
holds as many clips as fit ``max_frames`` padded frames (``len(batch) * longest <= max_frames``),
capped at ``max_batch_size``. The batches of epoch ``e`` are a pure function of ``(seed, e)``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np


class FrameBudgetBatchSampler:
    """Yields lists of dataset indices.

    ``lengths``: frames per clip. ``max_frames``: padded-frame budget per batch (0 = no budget,
    then ``max_batch_size`` clips per batch). ``shuffle``: random order of clips of equal length and
    of the batches (else sorted by length, deterministic). ``num_replicas``/``rank``: each rank gets
    every ``num_replicas``-th batch, all ranks the same number. ``set_epoch(e, start=k)`` selects the
    epoch and skips its first ``k`` batches (resume mid-epoch).
    """

    def __init__(
        self,
        lengths: Sequence[int],
        max_frames: int = 0,
        max_batch_size: int = 0,
        shuffle: bool = True,
        seed: int = 0,
        drop_last: bool = False,
        num_replicas: int = 1,
        rank: int = 0,
    ):
        if max_frames <= 0 and max_batch_size <= 0:
            raise ValueError("give max_frames and/or max_batch_size")
        if lengths and max_frames > 0 and max(lengths) > max_frames:
            raise ValueError(f"a clip of {max(lengths)} frames exceeds the budget of {max_frames} frames per batch")
        self.lengths = np.asarray(lengths, dtype=np.int64)
        self.max_frames, self.max_batch_size = max_frames, max_batch_size
        self.shuffle, self.seed, self.drop_last = shuffle, seed, drop_last
        self.num_replicas, self.rank = num_replicas, rank
        self.epoch, self.start = 0, 0

    def set_epoch(self, epoch: int, start: int = 0) -> None:
        self.epoch, self.start = int(epoch), int(start)

    def _fits(self, count: int, longest: int) -> bool:
        if self.max_batch_size > 0 and count > self.max_batch_size:
            return False
        return self.max_frames <= 0 or count * longest <= self.max_frames

    def batches(self, epoch: int | None = None) -> list[list[int]]:
        """All batches of ``epoch`` for this rank (without the ``start`` skip)."""
        epoch = self.epoch if epoch is None else epoch
        rng = np.random.default_rng([self.seed, epoch])
        order = rng.permutation(len(self.lengths)) if self.shuffle else np.arange(len(self.lengths))
        order = order[np.argsort(self.lengths[order], kind="stable")]  # by length; ties in random order
        out: list[list[int]] = []
        current: list[int] = []
        for i in order.tolist():
            longest = max(int(self.lengths[i]), int(self.lengths[current[-1]]) if current else 0)
            if current and not self._fits(len(current) + 1, longest):
                out.append(current)
                current = []
            current.append(i)
        if current:
            full = self.max_batch_size > 0 and len(current) == self.max_batch_size
            if not self.drop_last or full:
                out.append(current)
        if self.shuffle:
            out = [out[k] for k in rng.permutation(len(out))]
        per_rank = len(out) // self.num_replicas if self.num_replicas > 1 else len(out)
        return out[self.rank :: self.num_replicas][:per_rank]

    def __iter__(self) -> Iterator[list[int]]:
        yield from self.batches()[self.start :]

    def __len__(self) -> int:
        return max(0, len(self.batches()) - self.start)
