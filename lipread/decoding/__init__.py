"""CTC decoding: greedy best path and beam search (flashlight-text) with lexicon and n-gram LM.

Every decoder is built by name with ``build_decoder(name, tokenizer, **options)`` and offers
``decode(log_probs (B, T, V), lengths (B,), frame_shift=0.04, time_offset=0.0)
-> list[list[Hypothesis]]`` (n-best per utterance, best first, with word times in seconds).
"""

from __future__ import annotations

from typing import Any

from lipread.decoding.greedy import GreedyDecoder
from lipread.registry import Registry
from lipread.text import Tokenizer

DECODERS: Registry[Any] = Registry("decoder")
DECODERS.register("greedy")(GreedyDecoder)


@DECODERS.register("beam")
def _beam(tokenizer: Tokenizer, **options: Any):
    from lipread.decoding.beam import BeamDecoder  # flashlight is only needed for beam search

    return BeamDecoder(tokenizer, **options)


def build_decoder(name: str, tokenizer: Tokenizer | str, **options: Any):
    """Build decoder ``name`` ("greedy" | "beam") for ``tokenizer`` (or a vocabulary name)."""
    if isinstance(tokenizer, str):
        tokenizer = Tokenizer.from_name(tokenizer)
    return DECODERS.get(name)(tokenizer, **options)


__all__ = ["DECODERS", "GreedyDecoder", "build_decoder"]
