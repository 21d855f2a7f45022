"""Corpus WER and CER with jiwer.

Corpus rates sum the edits over all utterances and divide by the total reference length
(not a mean of per-utterance rates)::

    WER = (S + D + I) / N_ref_words        CER = (S + D + I) / N_ref_chars

Characters are counted on the normalized text, spaces included (as jiwer's ``cer``).

Empty strings (after normalization):

* empty hypothesis: every reference word is a deletion;
* empty reference: every hypothesis word is an insertion, and the utterance adds 0 to N.
  Its own rate is ``None`` (undefined), but its insertions count in the corpus rate.
* if the whole corpus has N = 0, the rate is 0.0 when there are no edits and ``inf`` otherwise
  (written as ``null`` in JSON).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import jiwer

from lipread.text.normalize import DEFAULT, Normalizer


@dataclass
class ErrorCounts:
    """Edit counts against a reference of length ``ref_len`` (words or characters)."""

    substitutions: int = 0
    deletions: int = 0
    insertions: int = 0
    hits: int = 0
    ref_len: int = 0

    @property
    def errors(self) -> int:
        return self.substitutions + self.deletions + self.insertions

    @property
    def rate(self) -> float | None:
        if self.ref_len == 0:
            return None
        return self.errors / self.ref_len

    def __iadd__(self, other: ErrorCounts) -> ErrorCounts:
        self.substitutions += other.substitutions
        self.deletions += other.deletions
        self.insertions += other.insertions
        self.hits += other.hits
        self.ref_len += other.ref_len
        return self

    def to_dict(self) -> dict:
        return {
            "substitutions": self.substitutions,
            "deletions": self.deletions,
            "insertions": self.insertions,
            "hits": self.hits,
            "ref_len": self.ref_len,
            "rate": self.rate,
        }


@dataclass
class UtteranceScore:
    id: str
    reference: str
    hypothesis: str
    words: ErrorCounts
    chars: ErrorCounts
    speaker: str = ""

    @property
    def wer(self) -> float | None:
        return self.words.rate

    @property
    def cer(self) -> float | None:
        return self.chars.rate

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "speaker": self.speaker,
            "reference": self.reference,
            "hypothesis": self.hypothesis,
            "wer": self.wer,
            "cer": self.cer,
            "words": self.words.to_dict(),
            "chars": self.chars.to_dict(),
        }


@dataclass
class ScoreReport:
    """Corpus-level scores plus per-utterance rows and word confusions."""

    words: ErrorCounts
    chars: ErrorCounts
    utterances: list[UtteranceScore]
    confusions: Counter = field(default_factory=Counter)

    @property
    def wer(self) -> float:
        return _corpus_rate(self.words)

    @property
    def cer(self) -> float:
        return _corpus_rate(self.chars)

    def by_speaker(self) -> dict[str, ScoreReport]:
        groups: dict[str, list[UtteranceScore]] = {}
        for u in self.utterances:
            groups.setdefault(u.speaker, []).append(u)
        return {spk: _aggregate(rows) for spk, rows in sorted(groups.items())}

    def top_confusions(self, n: int = 20) -> list[tuple[str, str, int]]:
        """Most frequent (reference word, hypothesis word) edits; '' stands for nothing."""
        return [(r, h, c) for (r, h), c in self.confusions.most_common(n)]

    def to_dict(self, with_utterances: bool = True) -> dict:
        out = {
            "wer": _json_float(self.wer),
            "cer": _json_float(self.cer),
            "utterances_count": len(self.utterances),
            "words": self.words.to_dict(),
            "chars": self.chars.to_dict(),
            "confusions": [{"reference": r, "hypothesis": h, "count": c} for r, h, c in self.top_confusions()],
        }
        if with_utterances:
            out["utterances"] = [u.to_dict() for u in self.utterances]
        return out


def _json_float(x: float) -> float | None:
    return None if math.isinf(x) else x


def _corpus_rate(c: ErrorCounts) -> float:
    if c.ref_len == 0:
        return 0.0 if c.errors == 0 else math.inf
    return c.errors / c.ref_len


def _counts(out, ref_len: int) -> ErrorCounts:
    return ErrorCounts(out.substitutions, out.deletions, out.insertions, out.hits, ref_len)


def _score_pair(ref: str, hyp: str, confusions: Counter) -> tuple[ErrorCounts, ErrorCounts]:
    ref_words, hyp_words = ref.split(), hyp.split()
    if not ref_words:
        for w in hyp_words:
            confusions[("", w)] += 1
        return ErrorCounts(insertions=len(hyp_words)), ErrorCounts(insertions=len(hyp))
    if not hyp_words:
        for w in ref_words:
            confusions[(w, "")] += 1
        return ErrorCounts(deletions=len(ref_words), ref_len=len(ref_words)), ErrorCounts(
            deletions=len(ref), ref_len=len(ref)
        )
    w = jiwer.process_words(ref, hyp)
    for chunk in w.alignments[0]:
        if chunk.type == "equal":
            continue
        r = ref_words[chunk.ref_start_idx : chunk.ref_end_idx]
        h = hyp_words[chunk.hyp_start_idx : chunk.hyp_end_idx]
        if chunk.type == "substitute":
            for a, b in zip(r, h):
                confusions[(a, b)] += 1
        elif chunk.type == "delete":
            for a in r:
                confusions[(a, "")] += 1
        elif chunk.type == "insert":
            for b in h:
                confusions[("", b)] += 1
    c = jiwer.process_characters(ref, hyp)
    return _counts(w, len(ref_words)), _counts(c, len(ref))


def _aggregate(rows: list[UtteranceScore], confusions: Counter | None = None) -> ScoreReport:
    words, chars = ErrorCounts(), ErrorCounts()
    for u in rows:
        words += u.words
        chars += u.chars
    return ScoreReport(words, chars, rows, confusions or Counter())


def score(
    references: Sequence[str],
    hypotheses: Sequence[str],
    ids: Sequence[str] | None = None,
    speakers: Sequence[str] | None = None,
    normalizer: Normalizer | None = DEFAULT,
) -> ScoreReport:
    """Score hypotheses against references (same order). ``normalizer=None`` scores text as given."""
    if len(references) != len(hypotheses):
        raise ValueError(f"{len(references)} references but {len(hypotheses)} hypotheses")
    ids = list(ids) if ids is not None else [str(i) for i in range(len(references))]
    speakers = list(speakers) if speakers is not None else [""] * len(references)
    norm = normalizer or (lambda s: " ".join(s.split()))
    confusions: Counter = Counter()
    rows = []
    for uid, spk, ref, hyp in zip(ids, speakers, references, hypotheses):
        ref_n, hyp_n = norm(ref), norm(hyp)
        wc, cc = _score_pair(ref_n, hyp_n, confusions)
        rows.append(UtteranceScore(uid, ref_n, hyp_n, wc, cc, spk))
    return _aggregate(rows, confusions)


def wer(references: Sequence[str], hypotheses: Sequence[str], normalizer: Normalizer | None = DEFAULT) -> float:
    return score(references, hypotheses, normalizer=normalizer).wer


def cer(references: Sequence[str], hypotheses: Sequence[str], normalizer: Normalizer | None = DEFAULT) -> float:
    return score(references, hypotheses, normalizer=normalizer).cer
