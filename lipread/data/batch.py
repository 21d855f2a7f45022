"""Batches: pad a list of :class:`~lipread.data.dataset.Sample` into tensors.

Shape legend: B clips, C channels (3 RGB / 1 gray), T frames (the longest clip; shorter ones are
zero-padded at the end), H/W pixels, S target tokens, F audio features (4 rows per video frame).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields, replace

import numpy as np
import torch


@dataclass
class Batch:
    """A padded batch.

    ``video``: (B, C, T, H, W) float32 in [0, 1], zero-padded in T; ``video_lengths``: (B,) int64.
    ``targets``: (B, S) int64 token ids padded with 0; ``target_lengths``: (B,) int64.
    ``audio``: (B, 4T, F) float32 zero-padded, or None; ``audio_lengths``: (B,) int64 or None.
    ``frame_labels``: (B, T) int64 align-head targets padded with -100 (ignored), or None.
    """

    ids: list[str]
    texts: list[str]
    speakers: list[str]
    video: torch.Tensor
    video_lengths: torch.Tensor
    targets: torch.Tensor
    target_lengths: torch.Tensor
    audio: torch.Tensor | None = None
    audio_lengths: torch.Tensor | None = None
    frame_labels: torch.Tensor | None = None

    def __len__(self) -> int:
        return len(self.ids)

    def _map(self, fn) -> Batch:
        return replace(self, **{f.name: fn(getattr(self, f.name)) for f in fields(self)
                                if isinstance(getattr(self, f.name), torch.Tensor)})

    def to(self, device: torch.device | str, non_blocking: bool = False) -> Batch:
        """The batch with every tensor on ``device``."""
        return self._map(lambda t: t.to(device, non_blocking=non_blocking))

    def pin_memory(self) -> Batch:
        """Used by ``DataLoader(pin_memory=True)``."""
        return self._map(lambda t: t.pin_memory())


def collate_clips(clips: Sequence[np.ndarray], features: Sequence[np.ndarray] | None = None):
    """Mouth clips (each (T, H, W, C) uint8) and optional audio features (each (4T, F) float32), padded:
    ``(video (B, C, T, H, W) float32 in [0, 1], video_lengths (B,), audio (B, 4T, F) or None, audio_lengths or
    None)``, as :func:`collate` pads them (what a reader needs to read clips that are not a dataset's)."""
    from types import SimpleNamespace

    batch = collate([SimpleNamespace(id=str(i), text="", speaker="", video=np.ascontiguousarray(c), targets=[],
                                     audio=None if features is None else features[i])
                     for i, c in enumerate(clips)])
    return batch.video, batch.video_lengths, batch.audio, batch.audio_lengths


def collate(samples: Sequence) -> Batch:
    """Pad ``samples`` (each with ``video`` (T, H, W, C) uint8, ``targets``, optional ``audio``) into a Batch."""
    if not samples:
        raise ValueError("cannot collate an empty list of samples")
    b = len(samples)
    t_max = max(s.video.shape[0] for s in samples)
    _, h, w, c = samples[0].video.shape
    video = np.zeros((b, c, t_max, h, w), dtype=np.uint8)
    for i, s in enumerate(samples):
        if s.video.shape[1:] != (h, w, c):
            raise ValueError(f"clip {s.id} has frames {s.video.shape[1:]}, the batch {(h, w, c)}")
        video[i, :, : s.video.shape[0]] = s.video.transpose(3, 0, 1, 2)  # (T, H, W, C) -> (C, T, H, W)
    video_t = torch.from_numpy(video).float().div_(255.0)  # uint8 -> float32 in [0, 1]
    s_max = max((len(s.targets) for s in samples), default=0)
    targets = torch.zeros((b, s_max), dtype=torch.int64)
    for i, s in enumerate(samples):
        targets[i, : len(s.targets)] = torch.as_tensor(s.targets, dtype=torch.int64)
    audio = audio_lengths = None
    if all(getattr(s, "audio", None) is not None for s in samples):
        a_max = max(s.audio.shape[0] for s in samples)
        feat = samples[0].audio.shape[1]
        padded = np.zeros((b, a_max, feat), dtype=np.float32)
        for i, s in enumerate(samples):
            padded[i, : s.audio.shape[0]] = s.audio
        audio = torch.from_numpy(padded)
        audio_lengths = torch.tensor([s.audio.shape[0] for s in samples], dtype=torch.int64)
    labels = None
    if all(getattr(s, "frame_labels", None) is not None for s in samples):
        labels = torch.full((b, t_max), -100, dtype=torch.int64)
        for i, s in enumerate(samples):
            labels[i, : len(s.frame_labels)] = torch.as_tensor(s.frame_labels, dtype=torch.int64)
    return Batch(
        ids=[s.id for s in samples],
        texts=[s.text for s in samples],
        speakers=[s.speaker for s in samples],
        video=video_t,
        video_lengths=torch.tensor([s.video.shape[0] for s in samples], dtype=torch.int64),
        targets=targets,
        target_lengths=torch.tensor([len(s.targets) for s in samples], dtype=torch.int64),
        audio=audio,
        audio_lengths=audio_lengths,
        frame_labels=labels,
    )
