"""Decoding an attention model (WLAS): greedy and batched beam search over the speller.

Shape legend: B utterances, K beam width, V vocabulary (pad 0, symbols, <sos>, <eos>), T encoder frames.

Both work on any model with ``init_state(enc)`` and ``step(enc, prev (N,), state) -> (logits (N, V),
state, attention)`` and an :class:`~lipread.models.wlas.Encoded` ``enc`` whose ``index_select`` repeats
rows. The beam search keeps K live hypotheses per utterance in one (B * K)-row batch. At each step it
ranks the 2K best extensions of each utterance: those ending in ``<eos>`` that rank above the K-th
live one are finished, the K best others go on. An utterance stops when no live hypothesis can still
end better than the best finished one (log-probs only fall as a hypothesis grows), or at its maximum
length (``max_len_ratio`` characters per encoder frame, at most ``max_len``); finished ones are ranked
by ``score / length ** length_norm``. With K = 1 and no length normalisation this is exactly greedy
decoding. (Stopping once K hypotheses have finished, a common shortcut, lets K short ones that ended
early end the search before the right, longer one: it cost 6 points of WER here.)

Two options make the beam know more than the speller:

- **Joint CTC/attention decoding** (``ctc`` and ``ctc_weight``; Watanabe et al., "Hybrid CTC/attention
  architecture for end-to-end speech recognition", 2017): each hypothesis is also scored by the CTC head
  of the encoder it reads, with the CTC *prefix* probability of its characters (the probability that the
  frames' best paths begin with them), computed for every next symbol at once by :class:`CTCPrefixScorer`.
  A hypothesis's score is ``(1 - w) * attention log-prob + w * CTC prefix log-prob``. The CTC head
  knows where the speech is in time, which the attention speller does not, so the two make different
  mistakes. The prefix probability only falls as a prefix grows, so the stop rule stays exact.
- **A grammar** (``grammar``): a :class:`GridGrammar` allows only characters that continue a sentence of
  the GRID grammar, and ``<eos>`` only after a whole one.

Each result is an :class:`AttentionResult`: token ids (without <sos>/<eos>), the summed log-probability,
and each token's probability (the word confidences come from them).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

NEG_INF = float("-inf")


@dataclass
class AttentionResult:
    tokens: list[int]
    score: float
    """Sum of the chosen tokens' log-probabilities, <eos> included when it was reached."""
    token_probs: list[float]
    """Probability of each token of ``tokens`` when it was chosen."""
    ended: bool = True
    """False when the maximum length cut the hypothesis before <eos>."""

    def normalised(self, length_norm: float) -> float:
        n = len(self.tokens) + (1 if self.ended else 0)
        return self.score / max(1, n) ** length_norm if length_norm else self.score


def max_lengths(enc, max_len: int, max_len_ratio: float) -> list[int]:
    """Per-utterance step limit: ``max_len_ratio`` per encoder frame, at most ``max_len``, at least 1."""
    return [max(1, min(max_len, int(round(float(n) * max_len_ratio)))) for n in enc.lengths.tolist()]


def _masked_log_probs(logits: torch.Tensor, sos: int) -> torch.Tensor:
    logp = logits.float().log_softmax(-1)
    logp[:, 0] = NEG_INF  # padding is never emitted
    logp[:, sos] = NEG_INF
    return logp


@torch.no_grad()
def greedy_search(model, enc, sos: int, eos: int, max_len: int = 100, max_len_ratio: float = 1.0) -> list[AttentionResult]:
    """The most probable token at every step until <eos> (or the length limit), per utterance."""
    n = enc.use_video.shape[0]
    limits = max_lengths(enc, max_len, max_len_ratio)
    state = model.init_state(enc)
    prev = torch.full((n,), sos, dtype=torch.int64, device=enc.use_video.device)
    results = [AttentionResult([], 0.0, [], ended=False) for _ in range(n)]
    done = [False] * n
    for t in range(max(limits)):
        logits, state, _ = model.step(enc, prev, state)
        logp = _masked_log_probs(logits, sos)
        best, ids = logp.max(-1)
        for i in range(n):
            if done[i]:
                continue
            tok, lp = int(ids[i]), float(best[i])
            results[i].score += lp
            if tok == eos:
                results[i].ended, done[i] = True, True
            else:
                results[i].tokens.append(tok)
                results[i].token_probs.append(math.exp(lp))
                if t + 1 >= limits[i]:
                    done[i] = True
        if all(done):
            break
        prev = ids
    return results


class GridGrammar:
    """Which characters may come next in a sentence of the GRID grammar (:mod:`lipread.text.grid`).

    ``allowed(ids)`` -> (token ids that may follow the prefix ``ids``, whether ``<eos>`` may). The words of
    the six slots, in order, separated by single spaces; answers are cached per prefix.
    """

    def __init__(self, tokenizer):
        from lipread.decoding.greedy import separator_id
        from lipread.text.grid import GRID_GRAMMAR

        self.tokenizer = tokenizer
        self.slots = [tuple(words) for words in GRID_GRAMMAR.values()]
        self.space = separator_id(tokenizer)
        self._cache: dict[tuple[int, ...], tuple[list[int], bool]] = {}

    def allowed(self, ids: list[int] | tuple[int, ...]) -> tuple[list[int], bool]:
        key = tuple(ids)
        if key not in self._cache:
            self._cache[key] = self._allowed(self.tokenizer.decode(list(key)))
        return self._cache[key]

    def _allowed(self, text: str) -> tuple[list[int], bool]:
        words = text.split(" ")
        done, partial = words[:-1], words[-1]
        if len(done) >= len(self.slots) or any(w not in slot for w, slot in zip(done, self.slots)):
            return [], False
        slot = self.slots[len(done)]
        chars = {w[len(partial)] for w in slot if w.startswith(partial) and len(w) > len(partial)}
        ids = sorted({i for c in chars for i in self.tokenizer.encode(c)})
        whole = partial in slot
        last_slot = len(done) == len(self.slots) - 1
        if whole and not last_slot:
            ids.append(self.space)
        return ids, whole and last_slot

    def mask(self, hists: list[list[int]], size: int, eos: int) -> torch.Tensor:
        """(N, size) additive mask: 0 where the grammar allows the token after each prefix, -inf elsewhere."""
        m = torch.full((len(hists), size), NEG_INF)
        for n, h in enumerate(hists):
            ids, end = self.allowed(h)
            if ids:
                m[n, ids] = 0.0
            if end:
                m[n, eos] = 0.0
        return m


class CTCPrefixScorer:
    """CTC prefix log-probabilities of N hypotheses extended by every symbol at once (batched over N).

    ``log_probs`` (N, T, C) CTC log-posteriors (blank 0, symbols 1..C-1, which are the attention
    vocabulary's symbol ids too), ``lengths`` (N,) valid frames. Frames past a row's length are padding
    that emits only blank with probability 1, so each row's totals are read at the last frame.

    The state of a hypothesis is ``r_nb``, ``r_b`` (T, N): the log-probability of its prefix having been
    emitted by frame t, ending in a symbol / in blank; ``last`` (N,) its last symbol (-1 for none) and
    ``psi`` (N,) its prefix log-probability.
    """

    def __init__(self, log_probs: torch.Tensor, lengths: torch.Tensor, blank: int = 0):
        lp = log_probs.float().transpose(0, 1).clone()  # (T, N, C)
        t_max = lp.shape[0]
        pad = torch.arange(t_max)[:, None] >= lengths.cpu()[None, :]  # (T, N)
        lp[pad] = NEG_INF
        lp[..., blank][pad] = 0.0
        self.x = lp
        self.blank = blank
        self.symbols = lp.shape[-1]

    def initial(self):
        xb = self.x[..., self.blank]
        r_b = xb.cumsum(0)
        r_nb = torch.full_like(r_b, NEG_INF)
        n = r_b.shape[1]
        return r_nb, r_b, torch.full((n,), -1, dtype=torch.int64), torch.zeros(n)

    def extend(self, state):
        """-> (psi (N, C): prefix log-prob after each symbol c (column 0, blank, is -inf), psi_end (N,): the
        log-prob that the prefix is the whole transcript, what :meth:`select` needs to make the states of the
        extensions chosen).

        ``psi`` needs no recursion over the frames (the probability that ``c`` is first emitted at frame t,
        summed over t); the states of an extension do (:func:`_linear_scan`), so they are made in
        :meth:`select`, for the few extensions the beam keeps rather than for every row and symbol.

        The paths a new symbol may follow at frame t are ``phi = r_nb + r_b`` (log-added), the same for every
        symbol but the row's last one (the same symbol again needs a blank between: ``r_b`` only); so ``psi``
        is one (T-1, N, 1) + (T-1, N, C) sum, and the last symbol's column is redone on its own."""
        r_nb, r_b, last, _ = state
        n = r_b.shape[1]
        x = self.x
        phi = torch.logaddexp(r_nb, r_b)  # (T, N)
        psi = torch.logsumexp(phi[:-1, :, None] + x[1:], 0)  # (N, C)
        repeat = last >= 0
        if repeat.any():  # the same symbol again: only paths ending in blank
            rows = repeat.nonzero().squeeze(1)
            psi[rows, last[rows]] = torch.logsumexp(r_b[:-1, rows] + x[1:, rows, last[rows]], 0)
        start = torch.full((n, self.symbols), NEG_INF)
        empty = (last < 0) & (r_nb[0] == NEG_INF)
        if empty.any():  # the first symbol may be emitted at frame 0
            start[empty] = x[0, empty]
            psi = torch.logaddexp(psi, start)
        psi[:, self.blank] = NEG_INF
        psi_end = torch.logaddexp(r_nb[-1], r_b[-1])
        return psi, psi_end, (phi, r_b, start, last)

    def select(self, extended, rows: torch.Tensor, symbols: torch.Tensor, psi: torch.Tensor):
        """The states of the chosen extensions: row ``rows[j]`` extended by ``symbols[j]`` (S of them)."""
        phi, r_b, start, last = extended
        x = self.x
        pick = (slice(None), rows, symbols)
        # the paths each extension follows: phi, or r_b where it repeats its row's last symbol
        paths = phi[:, rows]  # (T, S)
        again = symbols == last[rows]
        if again.any():
            paths = torch.where(again[None], r_b[:, rows], paths)
        new_nb = _linear_scan(start[rows, symbols][:, None], paths[:-1, :, None], x[pick][1:, :, None])
        blank = x[1:, rows, self.blank][:, :, None]
        new_b = _linear_scan(torch.full_like(new_nb[0], NEG_INF), new_nb[:-1], blank)
        return new_nb[..., 0], new_b[..., 0], symbols.clone(), psi


_FLOOR = -1e5
"""Per-frame log-probabilities below this (an impossible frame, -inf) are treated as this in
:func:`_linear_scan`, and results below :data:`_IMPOSSIBLE` come back as -inf: a real path's frames are
above about -104 each (float32's smallest log_softmax), so 75 frames stay far above it."""
_IMPOSSIBLE = -5e4


def _linear_scan(start: torch.Tensor, inputs: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """All of the recursion ``r[0] = start``, ``r[t] = logaddexp(r[t-1], inputs[t-1]) + x[t-1]`` at once.

    ``start`` (N, C), ``inputs`` and ``x`` (T-1, N, C) -> ``r`` (T, N, C). In probabilities ``r[t] =
    (r[t-1] + u[t-1]) p[t-1]``, a first-order linear recurrence, whose solution is ``r[t] = P[t] (r[0] +
    sum_{k<t} u[k] / P[k])`` with ``P`` the running product of ``p`` (``P[0] = 1``): a cumulative sum and a
    log-cumulative-sum-exp, in float64 so that subtracting the running sums (thousands for long clips)
    loses nothing that matters. This replaces a Python loop over the frames (the beam search's CTC prefix
    score ran it once per decoding step)."""
    dtype = start.dtype
    xs = x.double().clamp_min(_FLOOR)
    u = inputs.double().clamp_min(_FLOOR)
    p_cum = torch.cat([torch.zeros_like(xs[:1]), xs.cumsum(0)], 0)  # (T, N, C) log P[t]
    acc = torch.logcumsumexp(u - p_cum[:-1], 0)  # (T-1, N, C): log sum_{k<=t-1} u[k] / P[k]
    first = start.double().clamp_min(_FLOOR)[None]
    r = p_cum + torch.cat([first, torch.logaddexp(first.expand_as(acc), acc)], 0)
    return r.masked_fill(r < _IMPOSSIBLE, NEG_INF).to(dtype)


def _no_live_can_win(finished: list[AttentionResult], live_scores: list[float], limit: int, length_norm: float) -> bool:
    """True when no live hypothesis can end better than the best finished one: log-probs only fall as a
    hypothesis grows, so a live score ``s`` can at best end as ``s / limit ** length_norm`` (``s`` itself
    without length normalisation)."""
    best_done = max(r.normalised(length_norm) for r in finished)
    best_live = max(live_scores)
    bound = best_live / max(1, limit) ** length_norm if length_norm else best_live
    return best_done >= bound


@torch.no_grad()
def beam_search(model, enc, sos: int, eos: int, beam: int = 5, length_norm: float = 0.0, max_len: int = 100,
                max_len_ratio: float = 1.0, nbest: int = 1, ctc: tuple[torch.Tensor, torch.Tensor] | None = None,
                ctc_weight: float = 0.0, grammar: GridGrammar | None = None) -> list[list[AttentionResult]]:
    """The ``nbest`` best hypotheses per utterance (best first) by length-normalised score.

    ``ctc``: (log-probs (B, T, C), lengths (B,)) of a CTC head for joint decoding with weight ``ctc_weight``
    (0 = attention alone); ``grammar``: only sentences it allows (:class:`GridGrammar`)."""
    if beam < 1:
        raise ValueError("beam width must be at least 1")
    if not 0.0 <= ctc_weight < 1.0:
        raise ValueError("ctc_weight must be in [0, 1)")
    if ctc_weight > 0 and ctc is None:
        raise ValueError("joint CTC/attention decoding needs the CTC head's log-probs")
    b = enc.use_video.shape[0]
    k = beam
    device = enc.use_video.device
    limits = max_lengths(enc, max_len, max_len_ratio)
    rows = torch.arange(b, device=device).repeat_interleave(k)
    enc_k = enc.index_select(rows)
    state = model.init_state(enc_k)
    prev = torch.full((b * k,), sos, dtype=torch.int64, device=device)
    scores = torch.full((b, k), NEG_INF)
    scores[:, 0] = 0.0  # one live hypothesis at the start
    scorer = ctc_state = None
    if ctc_weight > 0:
        scorer = CTCPrefixScorer(ctc[0].index_select(0, rows.cpu()), ctc[1].index_select(0, rows.cpu()))
        ctc_state = scorer.initial()
    hist: list[list[list[int]]] = [[[] for _ in range(k)] for _ in range(b)]
    probs: list[list[list[float]]] = [[[] for _ in range(k)] for _ in range(b)]
    finished: list[list[AttentionResult]] = [[] for _ in range(b)]
    done = [False] * b
    for t in range(max(limits)):
        logits, state, _ = model.step(enc_k, prev, state)
        att_logp = _masked_log_probs(logits, sos).cpu()  # (B * K, V)
        v = att_logp.shape[-1]
        logp = att_logp
        if grammar is not None:
            logp = logp + grammar.mask([h for hs in hist for h in hs], v, eos)
        if scorer is not None:
            psi, psi_end, extended = scorer.extend(ctc_state)
            ctc_gain = torch.full_like(logp, NEG_INF)
            ctc_gain[:, : scorer.symbols] = psi - ctc_state[3][:, None]
            ctc_gain[:, eos] = psi_end - ctc_state[3]
            logp = (1 - ctc_weight) * logp + ctc_weight * ctc_gain
        cand = (scores.reshape(-1, 1) + logp).reshape(b, k * v)
        top_scores, top_idx = cand.topk(min(2 * k, k * v), dim=-1)
        # the attention's own probability of each candidate's token (its confidence), all in one gather
        top_probs = att_logp.reshape(b, k * v).gather(1, top_idx).double().exp().tolist()
        new_src = [[0] * k for _ in range(b)]
        new_tok = [[eos] * k for _ in range(b)]
        new_scores = [[NEG_INF] * k for _ in range(b)]
        new_hist, new_probs = [[[] for _ in range(k)] for _ in range(b)], [[[] for _ in range(k)] for _ in range(b)]
        for i, (row_scores, row_idx) in enumerate(zip(top_scores.tolist(), top_idx.tolist())):
            if done[i]:
                continue
            live = 0
            for s_val, idx, p in zip(row_scores, row_idx, top_probs[i]):
                if live >= k or s_val == NEG_INF:
                    break
                src, tok = divmod(idx, v)
                if tok == eos:
                    finished[i].append(AttentionResult(list(hist[i][src]), s_val, list(probs[i][src]), True))
                    continue
                new_src[i][live], new_tok[i][live], new_scores[i][live] = src, tok, s_val
                new_hist[i][live] = hist[i][src] + [tok]
                new_probs[i][live] = probs[i][src] + [p]
                live += 1
            if finished[i] and live and _no_live_can_win(finished[i], new_scores[i][:live], limits[i], length_norm):
                done[i] = True
            elif finished[i] and not live:
                done[i] = True
            elif t + 1 >= limits[i]:  # out of steps: the live ones end here, unfinished
                for j in range(live):
                    finished[i].append(AttentionResult(new_hist[i][j], new_scores[i][j], new_probs[i][j], False))
                done[i] = True
            if done[i]:
                new_scores[i] = [NEG_INF] * k
        if all(done):
            break
        scores, hist, probs = torch.tensor(new_scores), new_hist, new_probs
        new_tok = torch.tensor(new_tok)
        gather = (torch.arange(b)[:, None] * k + torch.tensor(new_src)).reshape(-1).to(device)
        if scorer is not None:
            g, toks = gather.cpu(), new_tok.reshape(-1).clamp(max=scorer.symbols - 1)
            ctc_state = scorer.select(extended, g, toks, psi[g, toks])
        state = tuple(s.index_select(0, gather) for s in state)
        prev = new_tok.reshape(-1).to(device)
    out = []
    for i in range(b):
        ranked = sorted(finished[i], key=lambda r: r.normalised(length_norm), reverse=True)
        out.append(ranked[:max(1, nbest)] or [AttentionResult([], 0.0, [], False)])
    return out


__all__ = ["AttentionResult", "CTCPrefixScorer", "GridGrammar", "beam_search", "greedy_search", "max_lengths"]
