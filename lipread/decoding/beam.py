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

import torch

from lipread.decoding.greedy import check_inputs, hypothesis_from_path, offsets, separator_id
from lipread.decoding.lm import (
    GRID_GRAMMAR_LM,
    arpa_unigrams,
    check_lm_file,
    grid_grammar_file,
    grid_lm_files,
    is_arpa,
    load_lexicon,
)
from lipread.errors import ConfigError, DependencyError
from lipread.native import native_stderr_to
from lipread.text import Tokenizer
from lipread.types import Hypothesis

BLANK_NAME, SEP_NAME, UNK = "<blank>", "|", "<unk>"


@dataclass
class BeamOptions:
    """Beam search settings (``build_decoder("beam", tok, **options)`` takes these as keywords)."""

    beam_size: int = 50
    beam_size_token: int | None = None
    """Tokens considered per frame; ``None`` = all."""
    beam_threshold: float = 50.0
    """Drop hypotheses scoring this much below the best."""
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
        if opts.beam_size < 1 or opts.nbest < 1:
            raise ConfigError("beam_size and nbest must be at least 1")
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
        token_beam = min(opts.beam_size_token or self.vocab, self.vocab)
        self.word_dict = None
        if lexicon is None:
            if lm_path is not None:
                self._check_token_lm(lm_path, names)
            lm = _load_kenlm(KenLM, lm_path, self.token_dict) if lm_path is not None else fl.ZeroLM()
            options_ = fl.LexiconFreeDecoderOptions(
                beam_size=opts.beam_size, beam_size_token=token_beam, beam_threshold=opts.beam_threshold,
                lm_weight=opts.lm_weight, sil_score=opts.sil_score, log_add=opts.log_add,
                criterion_type=fl.CriterionType.CTC,
            )
            self._decoder = fl.LexiconFreeDecoder(options_, lm, self.sep, blank, [])
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
            options_ = fl.LexiconDecoderOptions(
                beam_size=opts.beam_size, beam_size_token=token_beam, beam_threshold=opts.beam_threshold,
                lm_weight=opts.lm_weight, word_score=opts.word_score, unk_score=opts.unk_score,
                sil_score=opts.sil_score, log_add=opts.log_add, criterion_type=fl.CriterionType.CTC,
            )
            self._decoder = fl.LexiconDecoder(
                options_, trie, lm, self.sep, blank, self.word_dict.get_index(UNK), [], False
            )
        self._lm, self._trie = lm, (trie if lexicon is not None else None)  # keep alive

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

        ``score`` is flashlight's total: acoustic log-prob + lm_weight * LM (log10) + word scores.
        """
        lp, lens = check_inputs(log_probs, lengths)
        if lp.shape[2] != self.vocab:
            raise ValueError(f"log_probs have {lp.shape[2]} classes, the vocabulary has {self.vocab}")
        out = []
        for b, (n, off) in enumerate(zip(lens, offsets(time_offset, lp.shape[0]))):
            emissions = lp[b, :n]
            if self.word_dict is not None:
                # one closing frame that is certainly a separator, so the last word completes
                close = torch.full((1, self.vocab), -1e4)
                close[0, self.sep] = 0.0
                emissions = torch.cat([emissions, close])
            emissions = emissions.contiguous()
            results = self._decoder.decode(emissions.data_ptr(), emissions.shape[0], self.vocab) if n > 0 else []
            hyps: list[Hypothesis] = []
            seen: set[str] = set()
            for r in results:
                hyp = self._hypothesis(r, lp[b, :n], frame_shift, off)
                if hyp.text not in seen:  # paths differing only in silence/blank give the same text
                    seen.add(hyp.text)
                    hyps.append(hyp)
                if len(hyps) == self.options.nbest:
                    break
            out.append(hyps or [Hypothesis(text="", tokens=[], score=-math.inf)])
        return out

    def _hypothesis(self, result, log_probs: torch.Tensor, frame_shift: float, time_offset: float) -> Hypothesis:
        """log_probs: the clip's (T, V) emissions (without the closing frame)."""
        path = list(result.tokens)[1 : log_probs.shape[0] + 1]  # flashlight pads the path with a silence each side
        words = None if self.word_dict is None else [self.word_dict.get_entry(i) for i in result.words if i >= 0]
        return hypothesis_from_path(path, result.score, self.tokenizer, frame_shift, time_offset, self.blank,
                                    log_probs=log_probs.numpy(), words=words)
