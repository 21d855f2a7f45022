"""Decoding options: what turns a model's outputs into text.

``DecodeOptions`` (the settings), ``stored_decoder`` (a checkpoint's own settings), ``resolve_decode_options``
(stored settings with a caller's overrides, checked) and ``check_modality``. Which options a model family
takes is checked by its reader (:mod:`lipread.readers`). Shared by ``transcribe``, ``evaluate``, ``live``,
the domain calibration and the exports, which import it and not each other for it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class DecodeOptions:
    """How to turn log-probs into text (shared by evaluate and transcribe)."""

    decoder: str = "greedy"
    beam_size: int = 10
    lm: str | None = None
    lexicon: str | None = None
    lm_weight: float = 0.5
    word_score: float = 0.0
    flip_average: bool = False
    """Test-time augmentation: average the model's posteriors on the clip and its mirror image."""
    length_norm: float = 0.0
    """Attention beam search: hypotheses are ranked by ``log-prob / length ** length_norm`` (0 = none)."""
    ctc_weight: float = 0.0
    """Attention beam search: weight of the CTC head's prefix score (joint CTC/attention decoding; 0 = none)."""
    grammar: str | None = None
    """``"grid"``: only sentences of the GRID grammar (attention beam: a constraint on the characters; CTC beam:
    the grammar as the LM, with the GRID lexicon)."""
    word_timing: str = "auto"
    """Attention models' word times: ``auto`` = a forced alignment on the align head (the CTC branch when
    there is none); ``ctc`` = on the CTC branch."""
    beam_threshold: float = 10.0
    """CTC beam: the pruning (:class:`lipread.decoding.beam.BeamOptions`, whose defaults these are): hypotheses
    this far below the best are dropped,"""
    token_min_logp: float | None = -5.0
    """tokens below this log-prob are not expanded (None: all),"""
    blank_skip: float | None = 0.999
    """and runs of frames whose blank probability exceeds this are decoded as one (0 or None: off)."""

    def build(self, tokenizer, stored: dict[str, Any] | None = None):
        """The decoder; ``lm``/``lexicon`` fall back to ``stored`` (see :func:`stored_decoder`)."""
        from lipread.decoding import build_decoder

        if self.decoder == "greedy":
            return build_decoder("greedy", tokenizer)
        stored = stored or {}
        lm, lexicon = self.lm or stored.get("lm"), self.lexicon or stored.get("lexicon")
        if self.grammar == "grid":
            lm, lexicon = "grid-grammar", lexicon or "grid"
        return build_decoder(
            "beam",
            tokenizer,
            beam_size=self.beam_size,
            lm=lm,
            lexicon=lexicon,
            lm_weight=self.lm_weight,
            word_score=self.word_score,
            beam_threshold=self.beam_threshold,
            token_min_logp=self.token_min_logp,
            blank_skip=self.blank_skip,
        )


def stored_decoder(config: dict[str, Any], model_path: str | os.PathLike) -> dict[str, Any]:
    """The decoder settings saved in a model's config.json, as :class:`DecodeOptions` fields.

    LM and lexicon files are stored relative to the model folder (``"grid"`` names the shipped GRID
    files); they come back as paths that work from any working directory.
    """
    saved = dict(config.get("decoder") or {})
    out: dict[str, Any] = {"decoder": saved.get("name", "greedy")}
    for key in ("lm", "lexicon"):
        value = saved.get(key)
        if value and value != "grid" and not os.path.isabs(value):
            value = str(Path(model_path) / value)
        out[key] = value
    for key in ("beam_size", "lm_weight", "word_score", "flip_average", "length_norm", "ctc_weight", "grammar",
                "beam_threshold", "token_min_logp", "blank_skip"):
        if key in saved:
            out[key] = saved[key]
    return out


DECODE_KEYS = ("decoder", "beam_size", "lm", "lexicon", "lm_weight", "word_score", "flip_average", "length_norm",
               "word_timing", "ctc_weight", "grammar", "beam_threshold", "token_min_logp", "blank_skip")
BEAM_ONLY = {"beam_size": "--beam-size", "lm": "--lm", "lexicon": "--lexicon", "lm_weight": "--lm-weight",
             "word_score": "--word-score", "length_norm": "--length-norm", "ctc_weight": "--ctc-weight",
             "grammar": "--grammar", "beam_threshold": "beam_threshold", "token_min_logp": "token_min_logp",
             "blank_skip": "blank_skip"}


def resolve_decode_options(stored: dict[str, Any], **overrides: Any) -> DecodeOptions:
    """``stored`` decoder settings with ``overrides`` on top (None keeps the stored value), checked:
    a known decoder, a beam of at least 1, and no beam-only setting given to the greedy decoder."""
    from lipread.errors import UsageError

    unknown = [k for k in overrides if k not in DECODE_KEYS]
    if unknown:
        raise UsageError(f"unknown decoder setting {unknown[0]!r}", fix=f"Use {', '.join(DECODE_KEYS)}.")
    given = {k: v for k, v in overrides.items() if v is not None}
    opts = {**stored, **given}
    if opts.get("decoder", "greedy") not in ("greedy", "beam"):
        raise UsageError(f"unknown decoder {opts['decoder']!r}", fix="Use greedy or beam.")
    if opts.get("grammar") == "none":
        opts["grammar"] = None
    if opts.get("grammar") not in (None, "grid"):
        raise UsageError(f"unknown grammar {opts['grammar']!r}", fix="Use --grammar grid or --grammar none.")
    if not 0.0 <= float(opts.get("ctc_weight", 0.0)) < 1.0:
        raise UsageError(f"--ctc-weight must be in [0, 1), not {opts['ctc_weight']}", fix="Use e.g. --ctc-weight 0.3.")
    if given.get("grammar") and given.get("lm"):
        raise UsageError("--grammar and --lm both choose the LM", fix="Give one of them.")
    if opts.get("grammar") == "grid" and "lm" not in given:
        opts["lm"] = None  # the grammar is the LM (CTC beam), so the stored one is not reported as used
    if int(opts.get("beam_size", 1)) < 1:
        raise UsageError(f"beam size must be at least 1, not {opts['beam_size']}", fix="Use --beam-size 1 or more.")
    if opts.get("decoder", "greedy") == "greedy":
        beam_only = [flag for key, flag in BEAM_ONLY.items() if key in given]
        if beam_only:
            verb = "applies" if len(beam_only) == 1 else "apply"
            raise UsageError(f"{', '.join(beam_only)} {verb} only to the beam decoder, but the decoder is greedy",
                             fix="Add --decoder beam (decoder='beam' in Python), or leave those options out.")
    return DecodeOptions(**opts)


def check_modality(modality: str | None, reads_audio: bool, model_path, noise: str | None = None,
                   snr: float | None = None) -> str:
    """``auto`` -> av for a model that reads sound (``reads_audio``: :attr:`lipread.readers.Reader.reads_audio`),
    else video; a modality the model cannot read, or noise on a modality without sound, is a UsageError."""
    from lipread.audio.noise import check_noise_args
    from lipread.errors import UsageError

    check_noise_args(noise, snr)
    listens = bool(reads_audio)
    modality = modality or "auto"
    if modality == "auto":
        modality = "av" if listens else "video"
    if modality not in ("av", "video", "audio"):
        raise UsageError(f"unknown modality {modality!r}", fix="Use auto, av, video or audio.")
    if modality != "video" and not listens:
        raise UsageError(f"--modality {modality} needs a model that reads sound, but {model_path} reads lips only",
                         fix="Use --modality video, or an audio-visual model such as wlas-grid-s1.")
    if noise and modality == "video":
        raise UsageError("--noise mixes noise into the sound, but --modality video reads no sound",
                         fix="Use --modality av or audio with --noise.")
    return modality


__all__ = ["BEAM_ONLY", "DECODE_KEYS", "DecodeOptions", "check_modality", "resolve_decode_options",
           "stored_decoder"]
