"""The attention family (WLAS): encoders -> attention decoder (greedy or beam, joint CTC, GRID grammar).

Word times come from a forced alignment on a per-frame head of the stream that times the words (the sound
when it is read, else the lips); a word's confidence is the lowest probability the decoder gave its letters.
The lips' own CTC reading (for the out-of-domain checks) is taken from the Watch states the decode pass
computed (``WLAS.lip_reading``), so the lip encoder is not run again for it.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from lipread.decoding.align import align_words
from lipread.readers.base import READERS, Reader, Reading
from lipread.readers.options import DecodeOptions
from lipread.types import VIDEO_FPS, Hypothesis


def attention_hypothesis(result, tokenizer, align_log_probs=None, frame_shift: float = 1.0 / VIDEO_FPS,
                         time_offset: float = 0.0, duration: float | None = None) -> Hypothesis:
    """An attention decoder's result -> :class:`Hypothesis` with word times and confidences.

    Word times come from a forced alignment of the words on a per-frame head's (T, V) log-probs (the align
    head, or the CTC branch); without one, or when the clip is too short, the words share ``duration``
    evenly. A word's confidence is the lowest probability the decoder gave any of its letters.
    """
    from lipread.decoding.greedy import separator_id
    from lipread.types import WordSpan, mean_confidence

    sep = separator_id(tokenizer)
    words: list[str] = []
    confs: list[float] = []
    current: list[int] = []
    probs: list[float] = []
    for tok, p in [*zip(result.tokens, result.token_probs), (sep, 1.0)]:
        if tok == sep:
            if current:
                words.append(tokenizer.decode(current))
                confs.append(round(min(probs), 4))
            current, probs = [], []
        else:
            current.append(tok)
            probs.append(p)
    spans = None
    if align_log_probs is not None and words:
        spans = align_words(align_log_probs, words, tokenizer.encode, frame_shift, time_offset)
    if spans is None:
        total = duration if duration is not None else (
            len(align_log_probs) * frame_shift if align_log_probs is not None else 0.0)
        step = total / max(1, len(words))
        spans = [WordSpan(w, round(time_offset + i * step, 4), round(time_offset + (i + 1) * step, 4))
                 for i, w in enumerate(words)]
    for span, conf in zip(spans, confs):
        span.confidence = conf
    return Hypothesis(" ".join(words), list(result.tokens), float(result.score), spans, mean_confidence(spans))


@READERS.register("attention")
class AttentionReader(Reader):
    """Reads with an attention encoder-decoder (WLAS) in the modality asked."""

    @classmethod
    def check_options(cls, options: DecodeOptions) -> None:
        """The attention decoder takes no CTC-only settings (LM, lexicon)."""
        from lipread.errors import UsageError

        given = [flag for flag, on in (("--lm", options.lm), ("--lexicon", options.lexicon)) if on]
        if given:
            raise UsageError(f"{', '.join(given)} apply only to CTC models; this model decodes with attention",
                             fix="Leave them out (the attention beam search takes --beam-size, --length-norm, "
                                 "--ctc-weight, --grammar and --flip-average).")

    def lip_model(self):
        return self.model.watch

    @torch.no_grad()
    def read(self, video, video_lengths, audio=None, audio_lengths=None, modality: str = "av",
             time_offset: float | Sequence[float] = 0.0, frame_shift: float = 1.0 / VIDEO_FPS) -> Reading:
        from lipread.decoding.attention import GridGrammar, beam_search, greedy_search
        from lipread.decoding.greedy import offsets

        model, options, tokenizer = self.model, self.options, self.tokenizer
        enc, extras = model.encode(video, video_lengths, audio, audio_lengths, modality,
                                   flip_average=bool(options.flip_average))
        lips = model.lip_reading(extras) if "video_passes" in extras else None
        sos, eos = tokenizer.sos_id, tokenizer.eos_id
        if options.decoder == "greedy":
            results = [[r] for r in greedy_search(model, enc, sos, eos)]
        else:
            ctc_weight = float(options.ctc_weight or 0.0)
            ctc = model.frame_log_probs(extras, modality) if ctc_weight > 0 else None
            if ctc_weight > 0 and ctc is None:
                from lipread.errors import UsageError

                raise UsageError(f"this model has no CTC head for {modality} to decode jointly with",
                                 fix="Leave out --ctc-weight (or use 0).")
            grammar = GridGrammar(tokenizer) if options.grammar == "grid" else None
            results = beam_search(model, enc, sos, eos, beam=options.beam_size, length_norm=options.length_norm,
                                  ctc=None if ctc is None else (ctc[0].float().cpu(), ctc[1].cpu()),
                                  ctc_weight=ctc_weight, grammar=grammar)
        timing = None if options.word_timing == "ctc" else model.frame_log_probs(extras, modality, align=True)
        timing = timing or model.frame_log_probs(extras, modality)
        offs = offsets(time_offset, len(results))
        out = []
        for b, nbest in enumerate(results):
            lp = None
            if timing is not None:
                lp = timing[0][b, : int(timing[1][b])].float().cpu().numpy()
            out.append([attention_hypothesis(r, tokenizer, lp, frame_shift, offs[b]) for r in nbest])
        return Reading(out, lips)


__all__ = ["AttentionReader", "attention_hypothesis"]
