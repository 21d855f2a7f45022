"""The CTC family (LipNet and other CTC lip readers): per-frame posteriors -> a CTC decoder.

``run_model`` runs the model on a padded batch (averaging the posteriors with the mirrored clips' when asked),
``decode_outputs`` decodes them (words, CTC word times, confidences) and, when the model has an align head,
replaces the word times by a forced alignment on that head (:mod:`lipread.decoding.align`). Shape legend:
B clips, C channels, T frames, H/W pixels, V classes.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from lipread.decoding.align import align_words
from lipread.readers.base import READERS, Reader, Reading, run_model
from lipread.readers.options import DecodeOptions
from lipread.types import VIDEO_FPS, Hypothesis


def realign(hyp: Hypothesis, align_log_probs, tokenizer, frame_shift: float, time_offset: float) -> Hypothesis:
    """``hyp`` with its word times from a forced alignment on the align head's (T, V) log-probs (in
    place; unchanged when the clip is too short for its letters)."""
    spans = align_words(align_log_probs, [w.word for w in hyp.words], tokenizer.encode, frame_shift, time_offset)
    if spans is not None:
        for word, span in zip(hyp.words, spans):
            word.start, word.end = span.start, span.end
    return hyp


def decode_outputs(outputs, decoder, tokenizer, time_offset: float | Sequence[float] = 0.0,
                   frame_shift: float = 1.0 / VIDEO_FPS) -> list[list[Hypothesis]]:
    """:func:`run_model`'s outputs -> n-best hypotheses per clip (word times realigned on an align head)."""
    from lipread.decoding.greedy import offsets

    log_probs, out_lengths, align = outputs
    nbests = decoder.decode(log_probs, out_lengths, frame_shift=frame_shift, time_offset=time_offset)
    if align is not None:
        offs = offsets(time_offset, len(nbests))
        for b, nbest in enumerate(nbests):
            for hyp in nbest:
                realign(hyp, align[b, : int(out_lengths[b])].numpy(), tokenizer, frame_shift, offs[b])
    return nbests


@READERS.register("ctc")
class CTCReader(Reader):
    """Reads with a CTC model: its posteriors (the lips' own reading, too) decoded by the options' decoder."""

    def __init__(self, model, tokenizer, options: DecodeOptions | None = None, stored: dict | None = None):
        super().__init__(model, tokenizer, options, stored)
        self.decoder = self.options.build(tokenizer, stored)

    @classmethod
    def check_options(cls, options: DecodeOptions) -> None:
        """A CTC model takes no attention-only settings (joint CTC weight, length normalisation)."""
        from lipread.errors import UsageError

        given = [flag for flag, on in (("--ctc-weight", options.ctc_weight), ("--length-norm", options.length_norm))
                 if on]
        if given:
            raise UsageError(f"{', '.join(given)} apply only to attention models (WLAS); this model decodes with CTC",
                             fix="Leave them out.")

    def lip_model(self):
        return self.model

    @torch.no_grad()
    def read(self, video, video_lengths, audio=None, audio_lengths=None, modality: str = "video",
             time_offset: float | Sequence[float] = 0.0, frame_shift: float = 1.0 / VIDEO_FPS) -> Reading:
        outputs = run_model(self.model, video, video_lengths, self.options.flip_average)
        nbests = decode_outputs(outputs, self.decoder, self.tokenizer, time_offset, frame_shift)
        return Reading(nbests, (outputs[0], outputs[1]))


__all__ = ["CTCReader", "decode_outputs", "realign", "run_model"]
