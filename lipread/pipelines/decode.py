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


def is_attention_model(model: torch.nn.Module) -> bool:
    """True for attention encoder-decoders (WLAS), which decode with :mod:`lipread.decoding.attention`."""
    return getattr(model, "objective", "ctc") == "attention"


def reads_audio(model: torch.nn.Module) -> bool:
    """True when the model has a Listen (audio) encoder."""
    return bool(getattr(model, "has_listen", False))


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


@torch.no_grad()
def decode_attention(model: torch.nn.Module, options, tokenizer, video: torch.Tensor | None,
                     video_lengths: torch.Tensor | None, audio: torch.Tensor | None = None,
                     audio_lengths: torch.Tensor | None = None, modality: str = "av",
                     time_offset: float | Sequence[float] = 0.0,
                     frame_shift: float = 1.0 / VIDEO_FPS, lips: dict | None = None) -> list[list[Hypothesis]]:
    """n-best hypotheses per clip from an attention model (greedy or beam search per ``options``), word
    times from the align head of the stream that times the words (the sound when it is read). ``lips``: a
    dict that receives ``"log_probs"``, the lip encoder's own CTC reading of the clips (``lip_reading``:
    for the reading-direction check, which would otherwise run the encoder again), when the lips were read."""
    from lipread.decoding.attention import GridGrammar, beam_search, greedy_search
    from lipread.decoding.greedy import offsets

    enc, extras = model.encode(video, video_lengths, audio, audio_lengths, modality,
                               flip_average=bool(getattr(options, "flip_average", False)))
    if lips is not None and "video_passes" in extras and hasattr(model, "lip_reading"):
        lips["log_probs"] = model.lip_reading(extras)
    sos, eos = tokenizer.sos_id, tokenizer.eos_id
    if options.decoder == "greedy":
        results = [[r] for r in greedy_search(model, enc, sos, eos)]
    else:
        ctc_weight = float(getattr(options, "ctc_weight", 0.0) or 0.0)
        ctc = model.frame_log_probs(extras, modality) if ctc_weight > 0 else None
        if ctc_weight > 0 and ctc is None:
            from lipread.errors import UsageError

            raise UsageError(f"this model has no CTC head for {modality} to decode jointly with",
                             fix="Leave out --ctc-weight (or use 0).")
        grammar = GridGrammar(tokenizer) if getattr(options, "grammar", None) == "grid" else None
        results = beam_search(model, enc, sos, eos, beam=options.beam_size, length_norm=options.length_norm,
                              ctc=None if ctc is None else (ctc[0].float().cpu(), ctc[1].cpu()),
                              ctc_weight=ctc_weight, grammar=grammar)
    timing = None if getattr(options, "word_timing", "auto") == "ctc" else model.frame_log_probs(extras, modality, align=True)
    timing = timing or model.frame_log_probs(extras, modality)
    offs = offsets(time_offset, len(results))
    out = []
    for b, nbest in enumerate(results):
        lp = None
        if timing is not None:
            lp = timing[0][b, : int(timing[1][b])].float().cpu().numpy()
        out.append([attention_hypothesis(r, tokenizer, lp, frame_shift, offs[b]) for r in nbest])
    return out


__all__ = ["attention_hypothesis", "decode_attention", "decode_batch", "decode_outputs", "is_attention_model",
           "reads_audio", "realign", "run_model"]
