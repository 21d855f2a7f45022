"""Joint CTC/attention decoding and the GRID grammar constraint (lipread.decoding.attention)."""

from __future__ import annotations

import pytest
import torch

from lipread.decoding.attention import CTCPrefixScorer, GridGrammar, beam_search
from lipread.decoding.greedy import separator_id
from lipread.decoding.reference import brute_force, logadd
from lipread.models import create_model
from lipread.text import Tokenizer
from lipread.text.grid import is_grid_sentence

TOK = Tokenizer.from_name("grid")


def brute_prefix(log_probs, prefix):
    """(log-prob that the labelling begins with ``prefix``, log-prob that it is ``prefix``), summed over
    every path (:func:`lipread.decoding.reference.brute_force`)."""
    labellings = brute_force(log_probs)
    starts = [total for labels, (total, _) in labellings.items() if labels[: len(prefix)] == tuple(prefix)]
    exact = labellings.get(tuple(prefix), (float("-inf"), None))[0]
    return (logadd(*starts) if starts else float("-inf")), exact


@pytest.mark.parametrize("prefix", [(), (1,), (2,), (1, 1), (1, 2), (2, 1, 2)])
def test_prefix_scores_match_brute_force(prefix):
    torch.manual_seed(len(prefix))
    t, c = 5, 3
    lp = torch.randn(2, t, c).log_softmax(-1)
    lengths = torch.tensor([t, 4])
    scorer = CTCPrefixScorer(lp, lengths)
    state = scorer.initial()
    for sym in prefix:  # walk the prefix one symbol at a time
        psi, _, ext = scorer.extend(state)
        rows = torch.arange(2)
        syms = torch.full((2,), sym)
        state = scorer.select(ext, rows, syms, psi[rows, syms])
    psi, psi_end, _ = scorer.extend(state)
    for row in range(2):
        n = int(lengths[row])
        for sym in range(1, c):
            want, _ = brute_prefix(lp[row, :n], (*prefix, sym))
            assert float(psi[row, sym]) == pytest.approx(want, abs=1e-4)
        _, want_end = brute_prefix(lp[row, :n], prefix)
        assert float(psi_end[row]) == pytest.approx(want_end, abs=1e-4)
        # the whole-transcript probability is what CTC training maximises
        if prefix:
            nll = torch.nn.functional.ctc_loss(lp[row, :n, None], torch.tensor([prefix]), torch.tensor([n]),
                                               torch.tensor([len(prefix)]), reduction="sum")
            assert float(psi_end[row]) == pytest.approx(-float(nll), abs=1e-4)


def ids_of(text):
    """Token ids of ``text``, a trailing space kept (the tokenizer's cleaning strips it)."""
    return TOK.encode(text) + ([separator_id(TOK)] if text.endswith(" ") else [])


def test_grammar_allows_exactly_the_grid_sentences():
    g = GridGrammar(TOK)
    space = separator_id(TOK)
    ids, end = g.allowed(ids_of("b"))
    assert sorted(TOK.decode([i]) for i in ids) == ["i"]  # bin is the only command with b
    ids, end = g.allowed(ids_of("bin"))
    assert ids == [space] and not end
    ids, _ = g.allowed(ids_of("bin blue "))
    assert sorted(TOK.decode([i]) for i in ids) == ["a", "b", "i", "w"]
    ids, _ = g.allowed(ids_of("bin blue at "))  # 25 letters, no w
    assert len(ids) == 25 and TOK.encode("w")[0] not in ids
    ids, end = g.allowed(ids_of("bin blue at f two now"))
    assert ids == [] and end
    assert g.allowed(ids_of("bin bin")) == ([], False)
    assert g.allowed(ids_of("bin blue at f two now ")) == ([], False)


def test_grammar_constrained_beam_reads_only_grid_sentences():
    torch.manual_seed(0)
    model = create_model("wlas_tiny").eval()  # untrained: left alone it writes anything
    g = torch.Generator().manual_seed(0)
    video = torch.rand((3, 1, 30, 24, 48), generator=g)
    audio = torch.randn((3, 120, 39), generator=g)
    enc, _ = model.encode(video, torch.tensor([30, 30, 30]), audio, torch.tensor([120] * 3), "av")
    free = beam_search(model, enc, TOK.sos_id, TOK.eos_id, beam=4, max_len=60)
    assert not all(is_grid_sentence(TOK.decode(r[0].tokens)) for r in free)
    ruled = beam_search(model, enc, TOK.sos_id, TOK.eos_id, beam=4, max_len=60, grammar=GridGrammar(TOK))
    for (r,) in ruled:
        assert r.ended and is_grid_sentence(TOK.decode(r.tokens))


def test_joint_decoding_follows_a_confident_ctc_head():
    """An untrained speller and a CTC head that spells "bin blue at f two now": at weight 0.9 the beam
    reads the CTC head's sentence; at 0 it does not."""
    torch.manual_seed(0)
    model = create_model("wlas_tiny").eval()
    text = "bin blue at f two now"
    ids = TOK.encode(text)
    t = 2 * len(ids) + 1
    lp = torch.full((1, t, TOK.ctc_size), -12.0)
    lp[0, :, 0] = 0.0
    for i, s in enumerate(ids):  # blank, symbol, blank, symbol ...
        lp[0, 2 * i + 1, s], lp[0, 2 * i + 1, 0] = 0.0, -12.0
    lp = lp.log_softmax(-1)
    video = torch.rand((1, 1, t, 24, 48))
    enc, _ = model.encode(video, torch.tensor([t]), None, None, "video")
    ctc = (lp, torch.tensor([t]))
    alone = beam_search(model, enc, TOK.sos_id, TOK.eos_id, beam=4, max_len=60)
    assert TOK.decode(alone[0][0].tokens) != text
    joint = beam_search(model, enc, TOK.sos_id, TOK.eos_id, beam=4, max_len=60, ctc=ctc, ctc_weight=0.9)
    assert TOK.decode(joint[0][0].tokens) == text
    with pytest.raises(ValueError, match="ctc_weight"):
        beam_search(model, enc, TOK.sos_id, TOK.eos_id, beam=4, ctc=ctc, ctc_weight=1.0)
    with pytest.raises(ValueError, match="CTC head"):
        beam_search(model, enc, TOK.sos_id, TOK.eos_id, beam=4, ctc_weight=0.5)


def _extend_by_frames(scorer, state):
    """The frame-by-frame recursion the scan replaced (the definition it must equal)."""
    r_nb, r_b, last, _ = state
    t_max, n = r_b.shape
    c, x, blank = scorer.symbols, scorer.x, scorer.blank
    phi = torch.logaddexp(r_nb, r_b)[:, :, None].expand(t_max, n, c).clone()
    rows = (last >= 0).nonzero().squeeze(1)
    phi[:, rows, last[rows]] = r_b[:, rows]
    new_nb = torch.full((t_max, n, c), float("-inf"))
    new_b = torch.full((t_max, n, c), float("-inf"))
    empty = (last < 0) & (r_nb[0] == float("-inf"))
    new_nb[0, empty] = x[0, empty]
    for t in range(1, t_max):
        new_nb[t] = torch.logaddexp(new_nb[t - 1], phi[t - 1]) + x[t]
        new_b[t] = torch.logaddexp(new_b[t - 1], new_nb[t - 1]) + x[t, :, blank, None]
    return new_nb, new_b


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_scanned_prefix_recursion_equals_the_frame_loop(seed):
    """Several hypotheses grown symbol by symbol, rows of different lengths (padding), peaked and flat
    posteriors, repeated symbols: every state the scan computes equals the frame-by-frame recursion."""
    g = torch.Generator().manual_seed(seed)
    n, t_max, c = 4, 75, 28
    logits = torch.randn(n, t_max, c, generator=g) * torch.tensor([1.0, 4.0, 8.0, 0.5])[:, None, None]
    scorer = CTCPrefixScorer(logits.log_softmax(-1), torch.tensor([75, 60, 33, 75]))
    state = scorer.initial()
    every_row = torch.arange(n).repeat_interleave(c)  # every (row, symbol) extension at once
    every_symbol = torch.arange(c).repeat(n)
    for step in range(6):
        psi, _, extended = scorer.extend(state)
        ref_nb, ref_b = _extend_by_frames(scorer, state)
        new_nb, new_b, _, _ = scorer.select(extended, every_row, every_symbol, psi[every_row, every_symbol])
        for ours, ref in ((new_nb, ref_nb[:, every_row, every_symbol]), (new_b, ref_b[:, every_row, every_symbol])):
            assert torch.equal(torch.isinf(ours), torch.isinf(ref))
            finite = torch.isfinite(ref)
            assert torch.allclose(ours[finite], ref[finite], atol=1e-4, rtol=1e-5), (ours - ref)[finite].abs().max()
        # grow each row by a symbol: its most likely one, or its last one again (a repeat needs a blank)
        symbols = psi.argmax(1) if step % 2 == 0 else torch.where(state[2] > 0, state[2], psi.argmax(1))
        state = scorer.select(extended, torch.arange(n), symbols, psi[torch.arange(n), symbols])
