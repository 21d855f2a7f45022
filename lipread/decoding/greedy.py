"""Greedy (best-path) CTC decoding: the most likely label per frame, collapsed.

Shape legend: B batch, T frames, V vocabulary + blank (id 0).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from lipread.decoding.confidence import group_confidences
from lipread.decoding.wordtimes import ctc_emissions, group_emissions, spans_from_groups
from lipread.text import Tokenizer
from lipread.types import Hypothesis, mean_confidence


def separator_id(tokenizer: Tokenizer) -> int | None:
    """The id of the word separator (space) in ``tokenizer``, or ``None`` if it has none."""
    return tokenizer.symbols.index(" ") + 1 if " " in tokenizer.symbols else None


def offsets(time_offset: float | Sequence[float], batch: int) -> list[float]:
    """A per-utterance list of time offsets from a scalar or a sequence."""
    if isinstance(time_offset, (int, float)):
        return [float(time_offset)] * batch
    values = [float(v) for v in time_offset]
    if len(values) != batch:
        raise ValueError(f"{len(values)} time offsets for {batch} utterances")
    return values


def check_inputs(log_probs: torch.Tensor, lengths: torch.Tensor | None) -> tuple[torch.Tensor, list[int]]:
    """(B, T, V) float32 CPU log-probs and a list of B lengths (default T)."""
    if log_probs.dim() != 3:
        raise ValueError(f"log_probs must be (B, T, V), got {tuple(log_probs.shape)}")
    lp = log_probs.detach().to("cpu", torch.float32).contiguous()
    if lengths is None:
        lens = [lp.shape[1]] * lp.shape[0]
    else:
        lens = [min(int(n), lp.shape[1]) for n in lengths]
    return lp, lens


def hypothesis_from_path(path: Sequence[int], score: float, tokenizer: Tokenizer, frame_shift: float,
                         time_offset: float, blank: int = 0, log_probs=None, words: list[str] | None = None
                         ) -> Hypothesis:
    """A :class:`Hypothesis` (text, collapsed token ids, score, word times) from a frame path.

    ``words``: the decoded words when a lexicon search gave them (default: the path's letters);
    ``log_probs`` (T, V) of the clip: adds word and utterance confidences."""
    return hypothesis_from_emissions(ctc_emissions(path, blank), len(path), score, tokenizer, frame_shift,
                                     time_offset, log_probs, words)


def hypothesis_from_emissions(emissions: list[tuple[int, int, int]], frames: int, score: float, tokenizer: Tokenizer,
                              frame_shift: float, time_offset: float, log_probs=None, words: list[str] | None = None
                              ) -> Hypothesis:
    """:func:`hypothesis_from_path` from the path's emissions (:func:`ctc_emissions`) over its ``frames``."""
    if words is None:
        words = tokenizer.decode([tok for tok, _, _ in emissions]).split()
    text = " ".join(words)
    groups = group_emissions(emissions, words, separator_id(tokenizer))
    spans = spans_from_groups(words, groups, frames, frame_shift, time_offset)
    confidence = None
    if log_probs is not None and groups is not None:
        for span, c in zip(spans, group_confidences(log_probs, groups)):
            span.confidence = c
        confidence = mean_confidence(spans)
    return Hypothesis(text=text, tokens=tokenizer.encode(text), score=float(score), words=spans,
                      confidence=confidence)


class GreedyDecoder:
    """Best-path decoding. ``decode`` returns one hypothesis per utterance (a 1-best list)."""

    def __init__(self, tokenizer: Tokenizer, blank: int = 0):
        self.tokenizer = tokenizer
        self.blank = blank

    def decode(
        self,
        log_probs: torch.Tensor,
        lengths: torch.Tensor | None = None,
        frame_shift: float = 0.04,
        time_offset: float | Sequence[float] = 0.0,
    ) -> list[list[Hypothesis]]:
        """log_probs (B, T, V), lengths (B,) -> ``[[Hypothesis], ...]`` (B lists of one).

        The score is the best path's log-probability (sum of per-frame maxima).
        """
        lp, lens = check_inputs(log_probs, lengths)
        best, ids = lp.max(dim=-1)  # (B, T)
        out = []
        for b, (n, off) in enumerate(zip(lens, offsets(time_offset, lp.shape[0]))):
            path = ids[b, :n].tolist()
            score = float(best[b, :n].sum())
            out.append([hypothesis_from_path(path, score, self.tokenizer, frame_shift, off, self.blank,
                                             log_probs=lp[b, :n].numpy())])
        return out
