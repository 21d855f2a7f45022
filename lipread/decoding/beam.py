"""CTC beam search with flashlight-text: optional lexicon, optional KenLM n-gram LM.

Shape legend: B batch, T frames, V vocabulary + blank (id 0).

Token indices passed to flashlight are the tokenizer's ids (0 = blank), so no remapping is needed;
the word separator (space) is flashlight's silence token. Configurations:

- no lexicon, no LM: lexicon-free prefix search (ZeroLM);
- no lexicon, an LM: lexicon-free search with a *token* (character) LM whose units are the
  vocabulary's symbols, ``|`` standing for the space;
- a lexicon, with or without a word LM: every output word is a lexicon word (KenLM or ZeroLM).
  Spellings end with the separator (as in torchaudio's lexicons); the decoder appends one certain
  separator frame to each utterance so that its last word completes. If no hypothesis in the beam
  can finish its last word there, flashlight returns the best unfinished one (the partial word is
  dropped) with a score near -1e4: widen the beam.

Pruning, as pyctcdecode prunes (its defaults ``beam_prune_logp=-10``, ``token_min_logp=-5``) unless told
otherwise, so that the search gives up nothing that pyctcdecode keeps:

- ``token_min_logp``: in each frame only the tokens whose log-prob is at least this (and the frame's best)
  are expanded; the others are set to -1e30 before flashlight sees them, and flashlight ranks only as many
  tokens per frame as the utterance's busiest frame keeps (one flashlight decoder per such count, sharing
  the trie and the LM; flashlight has no per-frame count, so in the other frames pruned tokens fill the
  rest and are dropped by the threshold at once, a separator last so that no LM score is computed for them);
- ``blank_skip``: a frame whose blank probability exceeds this is one where pyctcdecode's token pruning
  leaves only the blank (every other token is below log(1 - blank_skip) < -5 for blank_skip >= 0.9933).
  A run of such frames does what one blank frame does (a blank between two equal letters keeps them
  apart; more blanks change nothing but the score, alike for every hypothesis), so each run is decoded
  as its first frame and the others are dropped before flashlight sees them; the path is mapped back to
  the clip's frames (word times) and the dropped frames' blank log-probs are added to the score;
- ``beam_threshold``: hypotheses scoring more than this below the best are dropped. flashlight's score is
  the acoustic log-prob (natural log) + ``lm_weight`` * LM (log10) + word scores, so the threshold is in
  nats with the LM weighted by ``lm_weight / ln 10`` in nats (``lm_weight=1`` is pyctcdecode's
  ``alpha=0.43``); pyctcdecode's ``beam_prune_logp`` is the same cut on its score (acoustic nats + alpha *
  LM nats + beta per word), so ``beam_threshold=10`` is its ``beam_prune_logp=-10``.

The LM may be ARPA (order >= 2: flashlight's KenLM refuses unigram-only files) or KenLM binary.
flashlight scores the LM in log10; ``lm_weight`` scales it and ``word_score`` is added per word.
By default (``log_add=False``, as torchaudio) hypotheses that meet in the same state keep the best
path's score (Viterbi), which stays exact when an n-gram LM merges histories by LM state. With
``log_add=True`` their probabilities are summed, the CTC prefix probability of a labelling; exact
without an LM, an approximation with one (different labellings that share an LM state merge).
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from lipread.decoding.greedy import check_inputs, hypothesis_from_emissions, offsets, separator_id
from lipread.decoding.lm import (
    GRID_GRAMMAR_LM,
    arpa_unigrams,
    check_lm_file,
    grid_grammar_file,
    grid_lm_files,
    is_arpa,
    load_lexicon,
)
from lipread.decoding.wordtimes import ctc_emissions
from lipread.errors import ConfigError, DependencyError
from lipread.native import native_stderr_to
from lipread.text import Tokenizer
from lipread.types import Hypothesis

BLANK_NAME, SEP_NAME, UNK = "<blank>", "|", "<unk>"
PRUNED = -1e30
"""The log-prob a pruned token is given: below any beam threshold, finite so that sums stay defined (float32:
2 * PRUNED is finite too)."""


@dataclass
class BeamOptions:
    """Beam search settings (``build_decoder("beam", tok, **options)`` takes these as keywords)."""

    beam_size: int = 50
    beam_size_token: int | None = None
    """At most this many tokens considered per frame (the most likely); ``None`` = no fixed cap."""
    token_min_logp: float | None = -5.0
    """Per frame, tokens whose log-prob is below this are not expanded (the frame's best always is), as
    pyctcdecode's ``token_min_logp`` (default -5); ``None`` = all tokens."""
    blank_skip: float | None = 0.999
    """Frames whose blank probability exceeds this are merged, each run of them decoded as its first frame
    (see the module notes); ``None`` or 0 = every frame is decoded."""
    beam_threshold: float = 10.0
    """Drop hypotheses scoring this much below the best (nats; see the module notes on the LM's units)."""
    lexicon: str | os.PathLike | Sequence[str] | None = None
    """Lexicon file, word-list file, a list of words, or "grid" (the shipped GRID lexicon)."""
    lm: str | os.PathLike | None = None
    """KenLM file (ARPA / binary), "grid" (the shipped GRID word trigram) or "grid-grammar" (the exact GRID
    grammar as a bigram: only its sentences)."""
    lm_weight: float = 2.0
    word_score: float = 0.0
    unk_score: float = -math.inf
    sil_score: float = 0.0
    log_add: bool = False
    nbest: int = 1


def _number(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        raise ConfigError(f"beam decoder option {name} must be a number, not {value!r}")
    return float(value)


def check_options(opts: BeamOptions) -> None:
    """ConfigError for settings the search cannot use."""
    if opts.beam_size < 1 or opts.nbest < 1:
        raise ConfigError("beam_size and nbest must be at least 1")
    if opts.beam_size_token is not None and opts.beam_size_token < 1:
        raise ConfigError(f"beam_size_token must be at least 1 or None (all), not {opts.beam_size_token!r}")
    if _number(opts.beam_threshold, "beam_threshold") <= 0:
        raise ConfigError(f"beam_threshold must be positive, not {opts.beam_threshold!r}",
                          fix="Use e.g. 10 (pyctcdecode's beam_prune_logp -10).")
    if opts.token_min_logp is not None and _number(opts.token_min_logp, "token_min_logp") > 0:
        raise ConfigError(f"token_min_logp is a log-probability (<= 0) or None, not {opts.token_min_logp!r}",
                          fix="Use e.g. -5 (pyctcdecode's default), or None to expand every token.")
    if opts.blank_skip is not None and not 0.0 <= _number(opts.blank_skip, "blank_skip") < 1.0:
        raise ConfigError(f"blank_skip is a probability in [0, 1) (0 or None: off), not {opts.blank_skip!r}",
                          fix="Use e.g. 0.999: frames where blank is at least that likely are merged.")


def blank_runs(log_probs: np.ndarray, threshold: float | None, blank: int = 0) -> np.ndarray | None:
    """(..., T, V) log-probs -> (..., T) True on the frames that ``blank_skip=threshold`` drops: those whose
    blank probability exceeds ``threshold`` and whose previous frame's does too (each run of such frames
    keeps its first). None when the threshold is None or 0 (nothing is dropped)."""
    if not threshold:
        return None
    certain = log_probs[..., blank] > math.log(threshold)
    dropped = np.zeros_like(certain)
    dropped[..., 1:] = certain[..., 1:] & certain[..., :-1]
    return dropped


def prune_tokens(log_probs: np.ndarray, min_logp: float | None, fill: float | np.ndarray = PRUNED
                 ) -> tuple[np.ndarray, np.ndarray | None]:
    """(..., T, V) log-probs with the tokens below ``min_logp`` set to ``fill`` (:data:`PRUNED`, or one value per
    token), each frame keeping its best, and the number of tokens each frame keeps (..., T). ``min_logp``
    None: unchanged, None."""
    if min_logp is None:
        return log_probs, None
    keep = log_probs >= np.float32(min_logp)
    counts = keep.sum(-1)
    if counts.size and counts.min() == 0:  # a frame with no token that good keeps its best
        keep |= log_probs == log_probs.max(-1, keepdims=True)
        counts = keep.sum(-1)
    return np.where(keep, log_probs, np.asarray(fill, np.float32)), counts


def _flashlight():
    try:
        from flashlight.lib.text import decoder, dictionary
        from flashlight.lib.text.decoder.kenlm import KenLM
    except ImportError as exc:  # pragma: no cover - flashlight-text is a pinned dependency
        raise DependencyError(f"beam search needs flashlight-text ({exc})",
                              fix="pip install flashlight-text==0.0.7") from None
    return decoder, dictionary, KenLM


def _load_kenlm(cls, path: Path, dictionary):
    """Load a KenLM, keeping its ARPA-reading progress bar (C++ stderr) off the terminal."""
    with tempfile.TemporaryFile() as sink:
        try:
            with native_stderr_to(sink):
                return cls(str(path), dictionary)
        except Exception as exc:
            sink.seek(0)
            detail = sink.read().decode(errors="replace").strip().splitlines()[-1:] or [str(exc)]
            raise ConfigError(f"KenLM could not load the LM ({detail[0]})", path,
                              "Give an ARPA (order >= 2) or KenLM binary file.") from None


class BeamDecoder:
    """Beam search over CTC log-probs. ``decode`` returns up to ``nbest`` hypotheses per utterance."""

    def __init__(self, tokenizer: Tokenizer, blank: int = 0, **options):
        unknown = set(options) - set(BeamOptions.__dataclass_fields__)
        if unknown:
            raise ConfigError(f"unknown beam decoder option(s) {sorted(unknown)}",
                              fix=f"Known: {', '.join(BeamOptions.__dataclass_fields__)}.")
        self.options = opts = BeamOptions(**options)
        check_options(opts)
        self.tokenizer, self.blank = tokenizer, blank
        self.sep = separator_id(tokenizer)
        if self.sep is None:
            raise ConfigError(f"vocabulary {tokenizer.name!r} has no space to separate words")
        fl, fld, KenLM = _flashlight()
        self.vocab = tokenizer.ctc_size
        names = [BLANK_NAME] + [SEP_NAME if c == " " else c for c in tokenizer.symbols]
        self.token_dict = fld.Dictionary(names)
        lexicon, lm_path = opts.lexicon, opts.lm
        if isinstance(lexicon, str) and lexicon == "grid":
            lexicon = grid_lm_files()[1]
        if isinstance(lm_path, str) and lm_path == "grid":
            lm_path = grid_lm_files()[0]
        elif isinstance(lm_path, str) and lm_path == "grid-grammar":
            lm_path = grid_grammar_file()
        if lm_path is not None:
            lm_path = check_lm_file(lm_path)
        self.token_beam = min(opts.beam_size_token or self.vocab, self.vocab)
        self.word_dict = None
        self._decoders: dict[int, object] = {}  # flashlight decoders by tokens ranked per frame
        if lexicon is None:
            if lm_path is not None:
                self._check_token_lm(lm_path, names)
            lm = _load_kenlm(KenLM, lm_path, self.token_dict) if lm_path is not None else fl.ZeroLM()

            def make(tokens: int):
                options_ = fl.LexiconFreeDecoderOptions(
                    beam_size=opts.beam_size, beam_size_token=tokens, beam_threshold=opts.beam_threshold,
                    lm_weight=opts.lm_weight, sil_score=opts.sil_score, log_add=opts.log_add,
                    criterion_type=fl.CriterionType.CTC,
                )
                return fl.LexiconFreeDecoder(options_, lm, self.sep, blank, [])
        else:
            words = self._lexicon(lexicon)
            self.word_dict = fld.Dictionary(sorted(words) + [UNK])
            lm = _load_kenlm(KenLM, lm_path, self.word_dict) if lm_path is not None else fl.ZeroLM()
            trie = fl.Trie(self.vocab, self.sep)
            # The trie's look-ahead scores each word from the sentence start. The grammar LM allows only
            # commands there, which would prune every later word: it looks ahead with unigram scores.
            grammar = lm_path is not None and Path(lm_path).name == GRID_GRAMMAR_LM
            start = lm.start(grammar)
            for word, spellings in words.items():
                index = self.word_dict.get_index(word)
                _, score = lm.score(start, index)
                for spelling in spellings:
                    trie.insert([self.token_dict.get_index(t) for t in spelling], index, score)
            trie.smear(fl.SmearingMode.MAX)
            unk = self.word_dict.get_index(UNK)

            def make(tokens: int):
                options_ = fl.LexiconDecoderOptions(
                    beam_size=opts.beam_size, beam_size_token=tokens, beam_threshold=opts.beam_threshold,
                    lm_weight=opts.lm_weight, word_score=opts.word_score, unk_score=opts.unk_score,
                    sil_score=opts.sil_score, log_add=opts.log_add, criterion_type=fl.CriterionType.CTC,
                )
                return fl.LexiconDecoder(options_, trie, lm, self.sep, blank, unk, [], False)
        self._make = make
        self._lm, self._trie = lm, (trie if lexicon is not None else None)  # keep alive
        self._close = np.full(self.vocab, PRUNED, np.float32)  # a frame that is certainly a separator
        self._close[self.sep] = 0.0
        self._fill = np.full(self.vocab, PRUNED, np.float32)  # what pruned tokens become (see _emissions)
        if lexicon is not None:
            self._fill[self.sep] = 2 * PRUNED

    def _decoder(self, tokens: int):
        """The flashlight decoder that ranks ``tokens`` tokens per frame (made once, then reused)."""
        tokens = min(tokens, self.token_beam)
        decoder = self._decoders.get(tokens)
        if decoder is None:
            decoder = self._decoders[tokens] = self._make(tokens)
        return decoder

    @staticmethod
    def _check_token_lm(path: Path, names: list[str]) -> None:
        """Without a lexicon the LM must be over the vocabulary's symbols, not words."""
        if not is_arpa(path):
            return  # a KenLM binary cannot be inspected cheaply; trust the caller
        units = set(arpa_unigrams(path)) - {"<s>", "</s>", "<unk>"}
        foreign = sorted(units - set(names))
        if foreign:
            raise ConfigError(
                f"without a lexicon the LM must be a character LM over the vocabulary's symbols "
                f"('|' for space), but it has units like {foreign[:5]}",
                path, "Give a lexicon (e.g. --lexicon grid) to use a word LM.",
            )

    def _lexicon(self, source: str | os.PathLike | Iterable[str]) -> dict[str, list[list[str]]]:
        """Lexicon with spellings in this vocabulary; words it cannot spell are an error."""
        words = load_lexicon(source)
        bad = [w for w, sps in words.items() for sp in sps if any(not self.token_dict.contains(t) for t in sp)]
        if bad:
            raise ConfigError(f"lexicon words {bad[:5]} use symbols outside vocabulary {self.tokenizer.name!r}",
                              source if isinstance(source, (str, os.PathLike)) else None,
                              "Spell lexicon words with the model's vocabulary symbols.")
        # A word ends with the separator, so a word's last letter may repeat over frames before the
        # word is complete (flashlight restarts at the trie root once a word is complete).
        return {w: [sp if sp[-1:] == [SEP_NAME] else [*sp, SEP_NAME] for sp in sps] for w, sps in words.items()}

    def decode(
        self,
        log_probs: torch.Tensor,
        lengths: torch.Tensor | None = None,
        frame_shift: float = 0.04,
        time_offset: float | Sequence[float] = 0.0,
    ) -> list[list[Hypothesis]]:
        """log_probs (B, T, V), lengths (B,) -> n-best hypotheses per utterance, best first.

        ``score`` is flashlight's total: acoustic log-prob + lm_weight * LM (log10) + word scores (the frames
        merged by ``blank_skip`` count with their blank log-prob).
        """
        lp, lens = check_inputs(log_probs, lengths)
        if lp.shape[2] != self.vocab:
            raise ValueError(f"log_probs have {lp.shape[2]} classes, the vocabulary has {self.vocab}")
        batch, steps, table, widths = self._emissions(lp.numpy(), lens)
        opts, vocab = self.options, self.vocab
        row_bytes = vocab * table.itemsize
        out = []
        for b, (n, off) in enumerate(zip(lens, offsets(time_offset, lp.shape[0]))):
            kept, first_row, dropped_score = steps[b]
            if n == 0:
                out.append([Hypothesis(text="", tokens=[], score=-math.inf)])
                continue
            rows = len(kept) + (self.word_dict is not None)  # the lexicon search's closing frame
            decoder = self._decoder(widths[b])
            pointer = table.ctypes.data + first_row * row_bytes
            # the final hypotheses, best first (flashlight 0.0.7's get_best_hypothesis can return a partial
            # hypothesis of an earlier frame that scored higher, so it is not used)
            results = decoder.decode(pointer, rows, vocab)
            hyps: list[Hypothesis] = []
            seen: set[str] = set()
            for r in results:
                hyp = self._hypothesis(r, batch[b, :n], kept, dropped_score, frame_shift, off)
                if hyp.text not in seen:  # paths differing only in silence/blank give the same text
                    seen.add(hyp.text)
                    hyps.append(hyp)
                if len(hyps) == opts.nbest:
                    break
            out.append(hyps or [Hypothesis(text="", tokens=[], score=-math.inf)])
        return out

    def _emissions(self, batch: np.ndarray, lens: list[int]):
        """What flashlight decodes, made for the whole batch (B, T, V) at once: the clips' frames left by
        ``blank_skip``, their tokens pruned by ``token_min_logp``, each clip followed by the closing
        separator frame in a lexicon search, all in one (rows, V) table. Returns (``batch``; per clip (its
        kept frame indices, its first row in the table, the summed blank log-prob of its dropped frames);
        the table; per clip the most tokens any of its frames keeps)."""
        opts, vocab = self.options, self.vocab
        size, frames = batch.shape[:2]
        valid = None if all(n == frames for n in lens) else np.arange(frames) < np.asarray(lens)[:, None]  # (B, T)
        use = valid
        dropped = blank_runs(batch, opts.blank_skip, self.blank)
        if dropped is not None:
            if valid is not None:  # the clips' frames only, not the padding
                dropped &= valid
            use = ~dropped if valid is None else valid & ~dropped
            dropped_scores = np.sum(batch[..., self.blank], axis=1, where=dropped, dtype=np.float64).tolist()
        else:
            dropped_scores = [0.0] * size
        flat = np.arange(size * frames) if use is None else np.flatnonzero(use)  # b * T + t, clip by clip
        counts = [frames] * size if use is None else use.sum(1).tolist()
        rows = flat
        source = batch.reshape(size * frames, vocab)
        close = self.word_dict is not None
        if close:  # each clip is followed by a closing separator frame: one row appended to the source
            source = np.concatenate([source, self._close[None]])
            ends = np.cumsum(counts).tolist()
            closing = np.array([size * frames])
            rows = np.concatenate([part for b, end in enumerate(ends)
                                   for part in (flat[end - counts[b] : end], closing)])
        # flashlight ranks as many tokens in every frame as the busiest frame keeps, so pruned ones fill the
        # rest; a pruned separator ranks last among them (the fill), or flashlight would score the LM for every
        # word it could end there (costly; its score is dropped by the threshold anyway)
        table, tokens = prune_tokens(source[rows], opts.token_min_logp, self._fill)
        table = np.ascontiguousarray(table, dtype=np.float32)
        at = (flat % frames).tolist()
        token_counts = None if tokens is None else tokens.tolist()
        steps, widths, start = [], [], 0
        for b, count in enumerate(counts):
            row = start + b * close  # the clip's first row in the table
            steps.append((at[start : start + count], row, dropped_scores[b]))
            widths.append(max(token_counts[row : row + count], default=1) if token_counts else vocab)
            start += count
        return batch, steps, table, widths

    def _hypothesis(self, result, log_probs: np.ndarray, kept: list[int], dropped_score: float, frame_shift: float,
                    time_offset: float) -> Hypothesis:
        """log_probs: the clip's (T, V) emissions; ``kept``: the frames decoded (:meth:`_emissions`)."""
        path = result.tokens[1 : len(kept) + 1]  # flashlight pads the path with a silence each side
        emissions = ctc_emissions(path, self.blank, kept)
        words = None if self.word_dict is None else [self.word_dict.get_entry(i) for i in result.words if i >= 0]
        return hypothesis_from_emissions(emissions, log_probs.shape[0], result.score + dropped_score, self.tokenizer,
                                         frame_shift, time_offset, log_probs=log_probs, words=words)
