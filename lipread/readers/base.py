"""The reader interface (:class:`Reader`, :class:`Reading`) and the family registry; see :mod:`lipread.readers`."""


from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from lipread.readers.options import DecodeOptions
from lipread.registry import Registry
from lipread.types import VIDEO_FPS, Hypothesis

if TYPE_CHECKING:  # annotations only: torch is imported where it runs
    import torch

READERS: Registry[type[Reader]] = Registry("model family")


@dataclass
class Reading:
    """What one batch read gives: ``nbests`` (per clip, best first) and ``lips``, the lip encoder's own CTC
    reading of the clips from the same pass (log-probs (B, T', V) float32 on the CPU, lengths (B,)), or None
    when the lips were not read (modality ``audio``)."""

    nbests: list[list[Hypothesis]]
    lips: tuple[Any, Any] | None = None


class Reader:
    """Reads batches of clips with one model of its family (see the module's docstring).

    ``model``: the network (eval mode); ``tokenizer``; ``options``: :class:`DecodeOptions` (checked here);
    ``stored``: the checkpoint's stored decoder settings (LM and lexicon files) for options that leave them out
    (a family that builds a decoder from them takes them in its own ``__init__``).
    """

    def __init__(self, model, tokenizer, options: DecodeOptions | None = None, stored: dict | None = None):
        self.model = model
        self.tokenizer = tokenizer
        self.options = options or DecodeOptions()
        self.check_options(self.options)

    # -- what the family takes and reads --------------------------------------------------------------
    @classmethod
    def check_options(cls, options: DecodeOptions) -> None:
        """A :class:`~lipread.errors.UsageError` for decode options this family does not take."""

    @property
    def reads_audio(self) -> bool:
        """True when the model reads sound (has a Listen encoder)."""
        return bool(getattr(self.model, "has_listen", False))

    @property
    def modalities(self) -> tuple[str, ...]:
        """The modalities the model can read."""
        return ("av", "video", "audio") if self.reads_audio else ("video",)

    @property
    def device(self):
        return next(self.model.parameters()).device

    # -- reading ----------------------------------------------------------------------------------------
    def read(self, video, video_lengths, audio=None, audio_lengths=None, modality: str = "video",
             time_offset: float | Sequence[float] = 0.0, frame_shift: float = 1.0 / VIDEO_FPS) -> Reading:
        """n-best hypotheses per clip of a padded batch (video (B, C, T, H, W) in [0, 1], lengths (B,); audio
        features (B, 4T, F) and lengths for the modalities with sound), word times in seconds from
        ``time_offset`` (one for all, or one per clip), and the lips' own reading (:class:`Reading`)."""
        raise NotImplementedError

    def read_batch(self, batch, modality: str = "video", time_offset: float | Sequence[float] = 0.0) -> Reading:
        """:meth:`read` on a :class:`~lipread.data.batch.Batch` (the sound only when ``modality`` reads it)."""
        sound = modality != "video"
        return self.read(batch.video, batch.video_lengths, batch.audio if sound else None,
                         batch.audio_lengths if sound else None, modality, time_offset)

    def lip_model(self):
        """The CTC lip reader whose greedy readings the out-of-domain checks compare (a CTC model itself,
        an attention model's lip encoder)."""
        raise NotImplementedError

    def lip_reading(self, video, lengths):
        """The lips' own CTC reading of a batch, as :attr:`Reading.lips` (with the options' flip averaging),
        for clips read only for the checks (reading them backwards, calibration)."""
        log_probs, out_lengths, _ = run_model(self.lip_model(), video, lengths, self.options.flip_average)
        return log_probs, out_lengths

    def clips_reading(self, mouths: Sequence[np.ndarray]):
        """:meth:`lip_reading` of mouth clips (T, H, W, C) uint8."""
        import torch

        from lipread.data.batch import collate_clips

        video, lengths, _, _ = collate_clips(mouths)
        with torch.no_grad():
            return self.lip_reading(video.to(self.device), lengths.to(self.device))

    def direction_scores(self, mouths: Sequence[np.ndarray], forward=None, backward=None) -> list[tuple[float, float]]:
        """``(forward, backward)`` greedy confidences of each mouth clip (T, H, W, C) uint8 read by the lips'
        CTC reader: ``forward`` is :attr:`Reading.lips` of the same clips when already read (else they are
        read here); ``backward`` the reading of the clips reversed in time, when already made
        (``clips_reading([m[::-1] for m in mouths])``), else it is made here."""
        if forward is None or forward[0] is None:
            forward = self.clips_reading(mouths)
        if backward is None:
            backward = self.clips_reading([m[::-1] for m in mouths])
        return [(greedy_confidence(forward[0][i], int(forward[1][i]), self.tokenizer),
                 greedy_confidence(backward[0][i], int(backward[1][i]), self.tokenizer)) for i in range(len(mouths))]


def run_model(model: torch.nn.Module, video: torch.Tensor, lengths: torch.Tensor, flip_average: bool = False):
    """(B, C, T, H, W), (B,) -> (log_probs (B, T', V), out_lengths (B,), align log-probs (B, T', V) or None),
    all float32 on the CPU. ``flip_average``: the posteriors are averaged with those of the mirrored
    clips (test-time augmentation; the models train with random flips)."""
    import torch

    if flip_average and len(video) == 1:  # one clip: it and its mirror image in one call (57 -> 41 ms, 2 threads)
        both = run_model(model, torch.cat([video, video.flip(-1)]), torch.cat([lengths, lengths]))
        mean = [None if x is None else log_mean_exp(x[:1], x[1:]) for x in (both[0], both[2])]
        return mean[0], both[1][:1], mean[1]
    if flip_average:  # a batch: the clips, then their mirror images (one call of 2B is slower at B = 4)
        a, b = run_model(model, video, lengths), run_model(model, video.flip(-1), lengths)
        mean = [None if x is None else log_mean_exp(x, y) for x, y in ((a[0], b[0]), (a[2], b[2]))]
        return mean[0], a[1], mean[1]
    if getattr(model, "has_align_head", False):
        log_probs, out_lengths, align = model(video, lengths, return_align=True)
        align = align.float().cpu()
    else:
        (log_probs, out_lengths), align = model(video, lengths), None
    return log_probs.float().cpu(), out_lengths.cpu(), align


def greedy_confidence(log_probs, length: int, tokenizer) -> float:
    """Utterance confidence of the greedy reading of one clip's (T, V) log-probs (0 when it reads nothing)."""
    from lipread.decoding.greedy import GreedyDecoder

    hyp = GreedyDecoder(tokenizer).decode(log_probs[None, :length], None)[0][0]
    return hyp.confidence if hyp.confidence is not None else 0.0


def log_mean_exp(a, b):
    """The log of the mean of two probabilities given as log-probs (flip averaging)."""
    import torch

    return torch.logaddexp(a, b) - math.log(2)


def family_of(model) -> str:
    """The family a model reads with: its ``objective`` class attribute (CTC when it has none)."""
    return getattr(model, "objective", "ctc")



__all__ = ["READERS", "Reader", "Reading", "family_of", "greedy_confidence", "log_mean_exp", "run_model"]
