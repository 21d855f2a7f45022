"""Readers: one per model family, from a batch of clips to n-best hypotheses.

A reader is chosen once from the checkpoint (:func:`reader_for`, by the model's ``objective``) and is the only
code that knows how its family reads:

- ``ctc`` (:mod:`lipread.readers.ctc`: LipNet and other CTC lip readers): per-frame posteriors (averaged with
  the mirrored clips' when ``flip_average``), a CTC decoder (greedy, or beam with lexicon + LM), word times
  re-aligned on an align head when the model has one;
- ``attention`` (:mod:`lipread.readers.attention`: WLAS): the encoders a modality needs, then the attention
  decoder (greedy, or beam with the joint CTC score and the GRID grammar), word times by a forced alignment
  on a per-frame head.

Every reader checks the decode options it is given when it is made (an option of the other family is a
:class:`~lipread.errors.UsageError`), reads a batch with **one** model pass (:meth:`Reader.read`), and returns
with the hypotheses the lips' own CTC reading from that same pass (:attr:`Reading.lips`), which the
out-of-domain checks need (the reading-direction check compares it with the clips read backwards,
:meth:`Reader.direction_scores`). ``transcribe``, ``evaluate``, ``live``, the domain calibration, the
exports and training's validation all read through a reader and never branch on the model's kind.

Adding a family: a subclass of :class:`Reader` registered with ``@READERS.register(objective)``, where
``objective`` is the class attribute its models carry.
"""

from __future__ import annotations

from lipread.readers.base import READERS, Reader, Reading, family_of, greedy_confidence, log_mean_exp
from lipread.readers.options import DecodeOptions


def reader_for(model, tokenizer, options: DecodeOptions | None = None, stored: dict | None = None) -> Reader:
    """The reader of ``model``'s family (its ``objective``), with ``options`` checked for it."""
    import lipread.readers.attention  # noqa: F401  (each family registers itself)
    import lipread.readers.ctc  # noqa: F401

    return READERS.get(family_of(model))(model, tokenizer, options, stored)


__all__ = ["READERS", "Reader", "Reading", "family_of", "greedy_confidence", "log_mean_exp", "reader_for"]
