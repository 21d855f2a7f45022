"""Beam search (flashlight-text) against greedy, brute force, the Python oracle, lexicon and LMs."""

from __future__ import annotations

import math

import pytest
import torch

from lipread.decoding import build_decoder
from lipread.decoding.beam import blank_runs, prune_tokens
from lipread.decoding.lm import grid_lm_files, load_lexicon, write_arpa
from lipread.decoding.reference import brute_force, prefix_beam_search
from lipread.errors import ConfigError
from lipread.text import Tokenizer
from lipread.text.grid import grid_sentences, grid_words

TOK = Tokenizer.from_name("grid")
V = TOK.ctc_size


def peaked(t: int, seed: int, temperature: float = 0.5) -> torch.Tensor:
    """(T, V) log-probs with a clear best symbol per frame, like a trained model's."""
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(t, V, generator=g) / temperature).log_softmax(-1)


def restricted(t: int, seed: int, active: list[int]) -> torch.Tensor:
    """(T, V) log-probs over ``active`` symbols only (the rest ~ impossible)."""
    g = torch.Generator().manual_seed(seed)
    lp = torch.full((t, V), -1e4)
    lp[:, active] = torch.randn(t, len(active), generator=g).log_softmax(-1)
    return lp


def sentence_log_probs(text: str, corrupt: dict[int, str] | None = None, peak: float = 0.8) -> torch.Tensor:
    """(T, V) log-probs spelling ``text`` as blank-letter-blank; ``corrupt`` swaps letters at positions."""
    chars = list(text)
    for i, c in (corrupt or {}).items():
        chars[i] = c
    path = [0]
    for c in chars:
        path += [TOK.encode(c, strict=True)[0] if c != " " else 1, 0]
    lp = torch.full((len(path), V), (1 - peak) / (V - 1))
    lp[torch.arange(len(path)), torch.tensor(path)] = peak
    return lp.log()


@pytest.mark.parametrize("seed", range(6))
def test_beam_width_one_equals_greedy(seed):
    lp = peaked(40, seed, temperature=1.0)[None]
    greedy = build_decoder("greedy", TOK).decode(lp)[0][0]
    for log_add in (False, True):
        beam = build_decoder("beam", TOK, beam_size=1, log_add=log_add).decode(lp)[0][0]
        assert beam.text == greedy.text and beam.tokens == greedy.tokens
        assert beam.score == pytest.approx(greedy.score, abs=1e-3)
        assert [(w.word, w.start, w.end) for w in beam.words] == [(w.word, w.start, w.end) for w in greedy.words]


@pytest.mark.parametrize("seed", range(5))
def test_wide_beam_equals_brute_force(seed):
    active = [0, 2, 3, 4]  # blank, a, b, c: 4**7 = 16384 paths
    lp = restricted(7, seed, active)
    table = brute_force(lp, symbols=active)
    # summed over paths (prefix search) and best single path (Viterbi)
    for log_add, which in ((True, 0), (False, 1)):
        best_lab, scores = max(table.items(), key=lambda kv: kv[1][which])
        hyp = build_decoder("beam", TOK, beam_size=200, log_add=log_add).decode(lp[None])[0][0]
        assert hyp.tokens == list(best_lab)
        assert hyp.score == pytest.approx(scores[which], abs=1e-3)
    # the Python oracle agrees too
    sum_lab, (sum_score, _) = max(table.items(), key=lambda kv: kv[1][0])
    oracle_lab, oracle_score = prefix_beam_search(lp.tolist(), beam_size=200)[0]
    assert oracle_lab == sum_lab and oracle_score == pytest.approx(sum_score, abs=1e-6)


@pytest.mark.parametrize("seed", range(8))
def test_beam_matches_python_oracle(seed):
    # model-like peaked log-probs, 40 frames, 27 symbols (no space: flashlight treats a leading
    # space as the free initial silence, which the textbook search counts as a symbol)
    lp = torch.randn(40, V, generator=torch.Generator().manual_seed(seed)) / 0.2
    lp[:, 1] = -1e4
    lp = lp.log_softmax(-1)
    labelling, score = prefix_beam_search(lp.tolist(), beam_size=32)[0]
    hyp = build_decoder("beam", TOK, beam_size=64, log_add=True).decode(lp[None])[0][0]
    assert hyp.text == TOK.decode(labelling)
    # both sum the paths their beams kept: most of the labelling's probability
    assert hyp.score == pytest.approx(score, abs=0.1)


def test_nbest_is_sorted_and_distinct():
    lp = peaked(30, 7, temperature=2.0)[None]
    hyps = build_decoder("beam", TOK, beam_size=20, nbest=5).decode(lp)[0]
    assert len(hyps) == 5
    assert len({h.text for h in hyps}) == 5
    assert all(a.score >= b.score for a, b in zip(hyps, hyps[1:]))


@pytest.mark.parametrize("seed", range(4))
def test_lexicon_words_only(seed):
    words = set(grid_words())
    lp = peaked(75, seed, temperature=2.0)[None]
    for lm in (None, "grid"):
        hyps = build_decoder("beam", TOK, lexicon="grid", lm=lm, beam_size=20, nbest=5).decode(lp)[0]
        assert hyps and all(w in words for h in hyps for w in h.text.split())
        assert all(w.word in words for h in hyps for w in h.words)


def test_lm_weight_zero_without_lexicon_equals_lm_free(tmp_path):
    # no lexicon: the LM is a character LM over the vocabulary's symbols ("|" = space)
    char_lm = write_arpa(([("|" if c == " " else c) for c in " ".join(s)] for s in grid_sentences()),
                         tmp_path / "chars.arpa", order=3)
    for seed in range(4):
        lp = peaked(40, 200 + seed, temperature=1.0)[None]
        free = build_decoder("beam", TOK, beam_size=30, nbest=3).decode(lp)[0]
        zero = build_decoder("beam", TOK, beam_size=30, nbest=3, lm=char_lm, lm_weight=0.0).decode(lp)[0]
        assert [h.text for h in zero] == [h.text for h in free]
        assert [h.score for h in zero] == pytest.approx([h.score for h in free], abs=1e-4)
        # and the LM does change the search when weighted
    weighted = build_decoder("beam", TOK, beam_size=30, lm=char_lm, lm_weight=2.0).decode(lp)[0][0]
    assert weighted.score != pytest.approx(free[0].score, abs=1e-3)


def test_lm_weight_zero_with_lexicon_equals_no_lm():
    for seed in range(3):
        lp = peaked(60, 300 + seed, temperature=1.5)[None]
        no_lm = build_decoder("beam", TOK, lexicon="grid", beam_size=30, nbest=3).decode(lp)[0]
        zero = build_decoder("beam", TOK, lexicon="grid", lm="grid", lm_weight=0.0, beam_size=30, nbest=3).decode(lp)[0]
        assert [h.text for h in zero] == [h.text for h in no_lm]
        assert [h.score for h in zero] == pytest.approx([h.score for h in no_lm], abs=1e-4)


def test_grid_lm_repairs_a_misread_letter():
    truth = "bin blue at f two now"
    lp = sentence_log_probs(truth, corrupt={5: "l", 6: "o"})  # "bin bloe" / "bin blle"-like misreads
    assert build_decoder("greedy", TOK).decode(lp[None])[0][0].text != truth
    hyp = build_decoder("beam", TOK, lexicon="grid", lm="grid", lm_weight=1.0, beam_size=50).decode(lp[None])[0][0]
    assert hyp.text == truth
    assert [w.word for w in hyp.words] == truth.split()
    assert all(a.end <= b.start for a, b in zip(hyp.words, hyp.words[1:]))


def test_word_times_follow_the_path():
    lp = sentence_log_probs("set red")  # frames: 0 s 0 e 0 t 0 | 0 r 0 e 0 d 0
    hyp = build_decoder("beam", TOK, lexicon="grid", beam_size=10).decode(lp[None], time_offset=2.0)[0][0]
    assert [(w.word, w.start, w.end) for w in hyp.words] == [("set", 2.04, 2.24), ("red", 2.36, 2.56)]


def test_batch_with_lengths_matches_single():
    a, b = peaked(30, 1), peaked(20, 2)
    batch = torch.stack([a, torch.cat([b, peaked(10, 3)])])
    dec = build_decoder("beam", TOK, beam_size=10)
    both = dec.decode(batch, torch.tensor([30, 20]))
    assert both[1][0].text == dec.decode(b[None])[0][0].text
    assert both[0][0].text == dec.decode(a[None])[0][0].text


def test_bad_options_are_config_errors(tmp_path):
    with pytest.raises(ConfigError):
        build_decoder("beam", TOK, beam_width=3)
    with pytest.raises(ConfigError):
        build_decoder("nope", TOK)
    with pytest.raises(ConfigError):
        build_decoder("beam", TOK, lexicon=["caf\u00e9"])
    unigram = tmp_path / "uni.arpa"
    unigram.write_text("\\data\\\nngram 1=2\n\n\\1-grams:\n-0.3\ta\n-0.3\t</s>\n\n\\end\\\n")
    with pytest.raises(ConfigError):
        build_decoder("beam", TOK, lexicon=["a"], lm=unigram)


def test_lm_files_are_checked(tmp_path):
    # a word LM without a lexicon would silently score letters as words: refused
    with pytest.raises(ConfigError, match="lexicon"):
        build_decoder("beam", TOK, lm="grid")
    garbage = tmp_path / "garbage.arpa"
    garbage.write_text("\\data\\\nngram 1=1\nngram 2=1\n\n\\1-grams:\nnot numbers here\n")
    with pytest.raises(ConfigError):
        build_decoder("beam", TOK, lexicon="grid", lm=garbage)
    with pytest.raises(Exception, match="not found"):
        build_decoder("beam", TOK, lexicon="grid", lm=tmp_path / "missing.arpa")


def test_grid_files_exist_and_load():
    arpa, lexicon = grid_lm_files()
    assert set(load_lexicon(lexicon)) == set(grid_words())
    assert math.isfinite(build_decoder("beam", TOK, lexicon=lexicon, lm=arpa).decode(peaked(20, 0)[None])[0][0].score)


# ---- pruning: blank-frame merging and per-frame token pruning ---------------------------------------------
def spelled(text: str, gap: int = 4, blank_p: float = 0.9999, letter_p: float = 0.9, seed: int | None = None,
            ) -> tuple[torch.Tensor, list[tuple[int, int]]]:
    """(T, V) log-probs spelling ``text`` one frame per symbol, each followed by ``gap`` frames where blank is
    near certain (p = ``blank_p``), and the (first, last) frame of each word's letters. ``seed``: the letter
    frames get a random spread over the other symbols (a model's doubt), still below ``letter_p``."""
    rows, times, start, t = [], [], None, gap
    g = torch.Generator().manual_seed(seed) if seed is not None else None
    for c in text:
        tok = 1 if c == " " else TOK.encode(c, strict=True)[0]
        rest = torch.rand(V, generator=g) if g is not None else torch.ones(V)
        rest[tok] = 0
        row = rest / rest.sum() * (1 - letter_p)
        row[tok] = letter_p
        rows.append(row)
        if c != " ":
            start = t if start is None else start
            last = t
        elif start is not None:
            times.append((start, last))
            start = None
        for _ in range(gap):
            blank = torch.full((V,), (1 - blank_p) / (V - 1))
            blank[0] = blank_p
            rows.append(blank)
        t += gap + 1
    if start is not None:
        times.append((start, last))
    lead = torch.full((gap, V), (1 - blank_p) / (V - 1))
    lead[:, 0] = blank_p
    return torch.cat([lead, torch.stack(rows)]).log(), times


def words_of(hyp):
    return [(w.word, w.start, w.end, w.confidence) for w in hyp.words]


@pytest.mark.parametrize("text, options", [
    ("see too", {}),  # doubled letters kept apart only by blank frames
    ("aa a", {}),
    ("set green at b three soon", {"lexicon": "grid"}),
    ("set green at b three soon", {"lexicon": "grid", "lm": "grid", "lm_weight": 1.0}),
])
def test_blank_skip_keeps_the_best_hypothesis_and_word_times(text, options):
    lp, times = spelled(text)
    assert blank_runs(lp.numpy(), 0.999).sum() > len(lp) // 2  # most frames are merged away
    skip = build_decoder("beam", TOK, beam_size=10, blank_skip=0.999, **options).decode(lp[None])[0][0]
    full = build_decoder("beam", TOK, beam_size=10, blank_skip=None, **options).decode(lp[None])[0][0]
    assert skip.text == full.text == text
    assert skip.tokens == full.tokens
    assert skip.score == pytest.approx(full.score, abs=1e-3)  # the merged frames' blank log-probs count
    assert words_of(skip) == words_of(full)
    # word times are on the clip's frames: each word from its first letter's frame to its last's
    assert [(w.start, w.end) for w in skip.words] == [(round(a * 0.04, 4), round((b + 1) * 0.04, 4)) for a, b in times]


@pytest.mark.parametrize("seed", range(6))
def test_blank_skip_matches_no_skip_on_doubtful_frames(seed):
    # letters the model doubts (spread over the other symbols), blank runs of different lengths, two clips in a
    # batch with different lengths: every hypothesis of the n-best equals the one decoded without merging
    a, _ = spelled("bin blue at f two now", gap=1 + seed % 3, letter_p=0.6, seed=seed)
    b, _ = spelled("place red by g nine again", gap=2, letter_p=0.5, seed=100 + seed)
    batch = torch.nn.utils.rnn.pad_sequence([a, b], batch_first=True)
    lengths = torch.tensor([len(a), len(b)])
    for options in ({}, {"log_add": True}, {"lexicon": "grid", "lm": "grid", "lm_weight": 1.0}):
        skip = build_decoder("beam", TOK, beam_size=16, nbest=3, **options).decode(batch, lengths)
        full = build_decoder("beam", TOK, beam_size=16, nbest=3, blank_skip=None, **options).decode(batch, lengths)
        for s, f in zip(skip, full):
            assert [h.text for h in s] == [h.text for h in f]
            assert [h.score for h in s] == pytest.approx([h.score for h in f], abs=1e-3)
            assert [words_of(h) for h in s] == [words_of(h) for h in f]


def test_blank_skip_ignores_the_padding():
    # a clip decoded alone and in a batch whose padding after it is certain blank: the same score (the merged
    # frames' blank log-probs are the clip's own only)
    lp, _ = spelled("bin blue")
    pad = torch.full((30, V), math.log(1e-5 / (V - 1)))
    pad[:, 0] = math.log(1 - 1e-5)
    other, _ = spelled("set red at b one soon")
    batch = torch.nn.utils.rnn.pad_sequence([torch.cat([lp, pad]), other], batch_first=True)
    for options in ({}, {"lexicon": "grid"}):
        decoder = build_decoder("beam", TOK, beam_size=8, **options)
        alone = decoder.decode(lp[None])[0][0]
        batched = decoder.decode(batch, torch.tensor([len(lp), len(other)]))[0][0]
        assert (batched.text, words_of(batched)) == (alone.text, words_of(alone)) == (
            "bin blue", words_of(build_decoder("beam", TOK, beam_size=8, blank_skip=None, **options).decode(lp[None])[0][0]))
        assert batched.score == pytest.approx(alone.score, abs=1e-4)


def test_blank_runs_keep_the_first_frame_of_each_run():
    p = torch.tensor([0.9999, 0.9999, 0.2, 0.9999, 0.9999, 0.9999, 0.5, 0.99])  # blank probabilities
    lp = torch.stack([p, 1 - p], 1).log().numpy()
    assert blank_runs(lp, 0.999).tolist() == [False, True, False, False, True, True, False, False]
    assert blank_runs(lp, 0.98).tolist() == [False, True, False, False, True, True, False, False]
    assert blank_runs(lp, 0.4).tolist() == [False, True, False, False, True, True, True, True]


@pytest.mark.parametrize("off", [0, 0.0, None])
def test_blank_skip_zero_or_none_decodes_every_frame(off):
    lp, _ = spelled("see too")
    assert blank_runs(lp.numpy(), off) is None
    decoder = build_decoder("beam", TOK, beam_size=4, blank_skip=off)
    _, steps, table, _ = decoder._emissions(lp[None].numpy(), [len(lp)])
    assert steps[0][0] == list(range(len(lp))) and len(table) == len(lp)
    on = build_decoder("beam", TOK, beam_size=4)  # the default merges
    _, steps, table, _ = on._emissions(lp[None].numpy(), [len(lp)])
    assert len(steps[0][0]) == len(table) < len(lp)


def test_token_pruning_keeps_tokens_above_the_floor_and_the_best():
    lp = torch.full((3, V), -20.0)
    lp[0, 5], lp[0, 6], lp[0, 7] = -0.1, -4.0, -6.0  # two pass -5
    lp[1, :] = -8.0
    lp[1, 9] = -7.0  # nothing passes -5: the best still does
    lp[2, 0] = -5.0  # exactly at the floor passes (as pyctcdecode's >=)
    pruned, counts = prune_tokens(lp.numpy(), -5.0)
    assert counts.tolist() == [2, 1, 1]
    assert (pruned[0] > -1e29).nonzero()[0].tolist() == [5, 6]
    assert (pruned[1] > -1e29).nonzero()[0].tolist() == [9]
    assert (pruned[2] > -1e29).nonzero()[0].tolist() == [0]
    assert prune_tokens(lp.numpy(), None)[1] is None


@pytest.mark.parametrize("seed", range(4))
def test_token_pruning_keeps_the_best_path(seed):
    # without an LM, best-path merging finds greedy decoding's labelling; the pruning keeps each frame's best
    # token, so it still does, while most tokens of most frames are gone
    lp = peaked(60, 500 + seed, temperature=0.3)[None]
    _, counts = prune_tokens(lp.numpy(), -5.0)
    assert counts.mean() < V / 2
    greedy = build_decoder("greedy", TOK).decode(lp)[0][0]
    pruned = build_decoder("beam", TOK, beam_size=20, token_min_logp=-5.0).decode(lp)[0][0]
    assert (pruned.text, words_of(pruned)) == (greedy.text, words_of(greedy))
    assert pruned.score == pytest.approx(greedy.score, abs=1e-3)


def test_best_of_nbest_is_the_one_best():
    # the one best is the first of the n-best (flashlight's best final hypothesis, not a higher-scoring partial
    # one of an earlier frame: seed 41 has one with the lexicon)
    for seed in range(4):
        lp = peaked(50, 40 + seed, temperature=1.5)[None]
        for options in ({}, {"lexicon": "grid", "lm": "grid", "lm_weight": 1.0}):
            one = build_decoder("beam", TOK, beam_size=20, **options).decode(lp)[0][0]
            many = build_decoder("beam", TOK, beam_size=20, nbest=4, **options).decode(lp)[0][0]
            assert (one.text, words_of(one)) == (many.text, words_of(many))
            assert one.score == pytest.approx(many.score, abs=1e-4)


@pytest.mark.parametrize("options, match", [
    ({"blank_skip": 1.0}, "blank_skip"),
    ({"blank_skip": 1.5}, "blank_skip"),
    ({"blank_skip": -0.1}, "blank_skip"),
    ({"blank_skip": "0.999"}, "blank_skip"),
    ({"blank_skip": True}, "blank_skip"),
    ({"blank_skip": float("nan")}, "blank_skip"),
    ({"token_min_logp": 1.0}, "token_min_logp"),
    ({"token_min_logp": "x"}, "token_min_logp"),
    ({"beam_threshold": 0}, "beam_threshold"),
    ({"beam_size_token": 0}, "beam_size_token"),
])
def test_pruning_options_are_checked(options, match):
    with pytest.raises(ConfigError, match=match):
        build_decoder("beam", TOK, **options)


def test_decode_options_carry_the_pruning():
    # a model's stored decoder may pin the pruning; DecodeOptions' defaults are BeamOptions' (what ships)
    from lipread.decoding.beam import BeamOptions
    from lipread.pipelines.evaluate import DecodeOptions, stored_decoder
    from lipread.pipelines.transcribe import resolve_decode_options

    shipped = DecodeOptions("beam").build(TOK).options
    defaults = BeamOptions()
    assert (shipped.beam_threshold, shipped.token_min_logp, shipped.blank_skip) == (
        defaults.beam_threshold, defaults.token_min_logp, defaults.blank_skip)
    stored = stored_decoder({"decoder": {"name": "beam", "beam_size": 20, "beam_threshold": 25.0, "blank_skip": 0,
                                         "token_min_logp": -8.0}}, ".")
    built = resolve_decode_options(stored).build(TOK).options
    assert (built.beam_threshold, built.token_min_logp, built.blank_skip) == (25.0, -8.0, 0)
    assert resolve_decode_options(stored, blank_skip=0.99).build(TOK).options.blank_skip == 0.99
    with pytest.raises(ConfigError, match="blank_skip"):
        resolve_decode_options(stored, blank_skip=2.0).build(TOK)
    with pytest.raises(ConfigError, match="beam decoder"):
        resolve_decode_options({"decoder": "greedy"}, token_min_logp=-3.0)
