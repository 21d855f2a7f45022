"""Model outputs to hypotheses, shared by ``transcribe`` and ``evaluate`` so both decode alike.

``decode_batch`` runs the model on a padded batch, decodes its CTC log-probs with the given decoder
(words, CTC word times, confidences) and, when the model has an align head, replaces the word times
by a forced alignment on that head (:mod:`lipread.decoding.align`). Shape legend: B clips, C
channels, T frames, H/W pixels, V classes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from lipread.decoding.align import align_words
from lipread.types import VIDEO_FPS, Hypothesis


def run_model(model: torch.nn.Module, video: torch.Tensor, lengths: torch.Tensor, flip_average: bool = False):
    """(B, C, T, H, W), (B,) -> (log_probs (B, T', V), out_lengths (B,), align log-probs (B, T', V) or None),
    all float32 on the CPU. ``flip_average``: the posteriors are averaged with those of the mirrored
    clips (test-time augmentation; the models train with random flips)."""
    if flip_average:
        a, b = run_model(model, video, lengths), run_model(model, video.flip(-1), lengths)
        mean = [None if x is None else torch.logaddexp(x, y) - math.log(2) for x, y in ((a[0], b[0]), (a[2], b[2]))]
        return mean[0], a[1], mean[1]
    if getattr(model, "has_align_head", False):
        log_probs, out_lengths, align = model(video, lengths, return_align=True)
        align = align.float().cpu()
    else:
        (log_probs, out_lengths), align = model(video, lengths), None
    return log_probs.float().cpu(), out_lengths.cpu(), align


def realign(hyp: Hypothesis, align_log_probs, tokenizer, frame_shift: float, time_offset: float) -> Hypothesis:
    """``hyp`` with its word times from a forced alignment on the align head's (T, V) log-probs (in
    place; unchanged when the clip is too short for its letters)."""
    spans = align_words(align_log_probs, [w.word for w in hyp.words], tokenizer.encode, frame_shift, time_offset)
    if spans is not None:
        for word, span in zip(hyp.words, spans):
            word.start, word.end = span.start, span.end
    return hyp


@torch.no_grad()
def decode_batch(model: torch.nn.Module, decoder, tokenizer, video: torch.Tensor, lengths: torch.Tensor,
                 time_offset: float | Sequence[float] = 0.0, frame_shift: float = 1.0 / VIDEO_FPS,
                 flip_average: bool = False) -> list[list[Hypothesis]]:
    """n-best hypotheses per clip of the batch, with word times (in seconds) and confidences."""
    outputs = run_model(model, video, lengths, flip_average)
    return decode_outputs(outputs, decoder, tokenizer, time_offset, frame_shift)


def decode_outputs(outputs, decoder, tokenizer, time_offset: float | Sequence[float] = 0.0,
                   frame_shift: float = 1.0 / VIDEO_FPS) -> list[list[Hypothesis]]:
    """:func:`run_model`'s outputs -> n-best hypotheses per clip (word times realigned on an align head)."""
    log_probs, out_lengths, align = outputs
    nbests = decoder.decode(log_probs, out_lengths, frame_shift=frame_shift, time_offset=time_offset)
    if align is not None:
        offsets = [time_offset] * len(nbests) if isinstance(time_offset, (int, float)) else list(time_offset)
        for b, nbest in enumerate(nbests):
            for hyp in nbest:
                realign(hyp, align[b, : int(out_lengths[b])].numpy(), tokenizer, frame_shift, offsets[b])
    return nbests


__all__ = ["decode_batch", "decode_outputs", "realign", "run_model"]
