"""WER/CER: corpus rates against jiwer, edge cases, per-utterance rows."""

from __future__ import annotations

import math
import random

import jiwer
import pytest

from lipread.metrics import score
from lipread.text.normalize import IDENTITY

WORDS = ["bin", "blue", "at", "f", "two", "now", "lay", "red", "by", "x", "nine", "soon", "zero"]


def random_sentence(rng: random.Random, min_len: int = 1) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(min_len, 8)))


def test_corpus_rates_match_jiwer_on_random_pairs():
    rng = random.Random(1234)
    refs = [random_sentence(rng) for _ in range(400)]
    hyps = []
    for r in refs:
        words = r.split()
        # corrupt: substitute, delete, insert at random
        out = []
        for w in words:
            u = rng.random()
            if u < 0.1:
                continue
            out.append(rng.choice(WORDS) if u < 0.25 else w)
            if rng.random() < 0.08:
                out.append(rng.choice(WORDS))
        hyps.append(" ".join(out) if out or rng.random() < 0.5 else rng.choice(WORDS))
    report = score(refs, hyps, normalizer=IDENTITY)
    assert report.wer == pytest.approx(jiwer.wer(refs, hyps), abs=1e-9)
    assert report.cer == pytest.approx(jiwer.cer(refs, hyps), abs=1e-9)
    out = jiwer.process_words(refs, hyps)
    assert (report.words.substitutions, report.words.deletions, report.words.insertions) == (
        out.substitutions,
        out.deletions,
        out.insertions,
    )


def test_corpus_rate_is_not_mean_of_utterance_rates():
    report = score(["a b c d", "e"], ["a b c d", "x"], normalizer=IDENTITY)
    assert report.wer == pytest.approx(1 / 5)  # mean of rates would be 0.5
    assert [u.wer for u in report.utterances] == [0.0, 1.0]


def test_empty_hypothesis_counts_deletions():
    report = score(["bin blue at"], [""], normalizer=IDENTITY)
    assert report.words.deletions == 3 and report.wer == 1.0
    assert report.chars.deletions == len("bin blue at") and report.cer == 1.0


def test_empty_reference_line_counts_insertions_in_corpus():
    report = score(["a b", ""], ["a b", "c d"], normalizer=IDENTITY)
    assert report.words.insertions == 2
    assert report.words.ref_len == 2
    assert report.wer == pytest.approx(1.0)
    assert report.utterances[1].wer is None  # undefined for an empty reference


def test_all_empty():
    assert score([""], [""]).wer == 0.0
    assert math.isinf(score([""], ["word"]).wer)
    assert score([""], ["word"]).to_dict()["wer"] is None


def test_normalization_case_punctuation_whitespace_unicode():
    report = score(["Bin  BLUE, at F two NOW."], ["bin blue at f two now"])
    assert report.wer == 0.0 and report.cer == 0.0
    # composed vs decomposed e-acute compare equal after NFC
    assert score(["caf\u00e9"], ["cafe\u0301"]).wer == 0.0
    # without normalization, case counts
    assert score(["Bin"], ["bin"], normalizer=IDENTITY).wer == 1.0


def test_apostrophes_inside_words_are_kept():
    assert score(["don't stop"], ["dont stop"]).wer == pytest.approx(0.5)
    assert score(["'quoted' word"], ["quoted word"]).wer == 0.0


def test_confusions_and_speakers():
    report = score(["a b c", "a b"], ["a x c", "a"], speakers=["s1", "s2"], normalizer=IDENTITY)
    assert ("b", "x", 1) in report.top_confusions()
    assert ("b", "", 1) in report.top_confusions()
    spk = report.by_speaker()
    assert spk["s1"].wer == pytest.approx(1 / 3) and spk["s2"].wer == pytest.approx(1 / 2)


def test_length_mismatch_is_an_error():
    with pytest.raises(ValueError):
        score(["a"], [])
