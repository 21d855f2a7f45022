"""The training loop's view of the data: seeded, resumable batches from a prepared cache.

The batches of epoch ``e`` and every augmentation in them are a pure function of ``(seed, e)``
(see ``FrameBudgetBatchSampler`` and ``PreparedDataset``), so resuming at ``(epoch, batch)``
replays exactly the batches an uninterrupted run would have seen.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch.utils.data

from lipread.data import FrameBudgetBatchSampler, PreparedDataset, collate
from lipread.errors import ConfigError
from lipread.train.config import TrainConfig
from lipread.train.distributed import DistInfo
from lipread.types import VIDEO_FPS


class TrainData:
    def __init__(self, cfg: TrainConfig, tokenizer, dist: DistInfo):
        d = cfg.data
        if not d.cache:
            raise ConfigError("no prepared cache given", fix="Set data.cache=PATH (made by `lipread prepare`).")
        self.cfg = cfg
        if d.noise and not d.audio_features:
            raise ConfigError("data.noise needs data.audio_features (noise is mixed into the sound, and the "
                              "features are then computed from it)", fix="Set data.audio_features, e.g. {kind: mfcc}.")
        if d.voice and not d.audio_features:
            raise ConfigError("data.voice needs data.audio_features (the voice is changed in the sound, and the "
                              "features are then computed from it)", fix="Set data.audio_features, e.g. {kind: mfcc}.")
        wave = dict(audio_features=d.audio_features or None) if d.audio_features else {}
        self.train_set = PreparedDataset(d.cache, split=d.train_split, tokenizer=tokenizer,
                                         augment=d.augment or None, train=True, seed=cfg.seed,
                                         frame_labels=cfg.align_weight > 0, noise=d.noise or None,
                                         voice=d.voice or None, **wave)
        self.val_set = (PreparedDataset(d.cache, split=d.val_split, tokenizer=tokenizer, train=False, **wave)
                        if d.val_split else None)
        self.sampler = FrameBudgetBatchSampler(
            self.train_set.lengths, max_frames=d.max_frames, max_batch_size=d.batch_size, shuffle=True, seed=cfg.seed, drop_last=True,
            num_replicas=dist.world_size, rank=dist.rank,
        )
        # how clips were cropped, plus the clip length the model learns on (transcribe reads windows of it)
        fps = self.train_set.clips[0].fps or VIDEO_FPS
        self.preprocess = {**self.train_set.preprocess, "clip_seconds": max(self.train_set.lengths) / fps}
        if self.train_set.audio_features is not None:  # transcribe/evaluate compute the same features
            from lipread.config import config_to_dict

            self.preprocess["audio_features"] = config_to_dict(self.train_set.audio_features)

    def train_batches(self, epoch: int, start: int, accumulate: int) -> Iterator[list]:
        """Groups of ``accumulate`` batches of ``epoch``, skipping its first ``start`` batches."""
        self.train_set.set_epoch(epoch)
        self.sampler.set_epoch(epoch, start)
        loader = torch.utils.data.DataLoader(
            self.train_set, batch_sampler=self.sampler, collate_fn=collate, num_workers=self.cfg.data.num_workers,
            # its own generator: creating the iterator must not draw from the global RNG (dropout), or a
            # resumed run, which creates its iterator at a different point, would diverge
            generator=torch.Generator().manual_seed(self.cfg.seed * 100_003 + epoch),
        )
        group: list = []
        for batch in loader:
            group.append(batch)
            if len(group) == accumulate:
                yield group
                group = []

    def val_batches(self) -> Iterator:
        if self.val_set is None:
            return
        n = len(self.val_set)
        if self.cfg.data.val_limit:
            n = min(n, self.cfg.data.val_limit)
        bs = self.cfg.data.batch_size
        for start in range(0, n, bs):
            yield collate([self.val_set[i] for i in range(start, min(n, start + bs))])
