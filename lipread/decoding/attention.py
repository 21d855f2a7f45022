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

Each result is an :class:`AttentionResult`: token ids (without <sos>/<eos>), the summed log-probability,
and each token's probability (the word confidences come from them).
"""

from __future__ import annotations

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
                results[i].token_probs.append(float(torch.tensor(lp).exp()))
                if t + 1 >= limits[i]:
                    done[i] = True
        if all(done):
            break
        prev = ids
    return results


def _no_live_can_win(finished: list[AttentionResult], live_scores: torch.Tensor, limit: int, length_norm: float) -> bool:
    """True when no live hypothesis can end better than the best finished one: log-probs only fall as a
    hypothesis grows, so a live score ``s`` can at best end as ``s / limit ** length_norm`` (``s`` itself
    without length normalisation)."""
    best_done = max(r.normalised(length_norm) for r in finished)
    best_live = float(live_scores.max())
    bound = best_live / max(1, limit) ** length_norm if length_norm else best_live
    return best_done >= bound


@torch.no_grad()
def beam_search(model, enc, sos: int, eos: int, beam: int = 5, length_norm: float = 0.0, max_len: int = 100,
                max_len_ratio: float = 1.0, nbest: int = 1) -> list[list[AttentionResult]]:
    """The ``nbest`` best hypotheses per utterance (best first) by length-normalised score."""
    if beam < 1:
        raise ValueError("beam width must be at least 1")
    b = enc.use_video.shape[0]
    k = beam
    device = enc.use_video.device
    limits = max_lengths(enc, max_len, max_len_ratio)
    rows = torch.arange(b, device=device).repeat_interleave(k)
    enc_k = enc.index_select(rows)
    state = model.init_state(enc_k)
    prev = torch.full((b * k,), sos, dtype=torch.int64, device=device)
    scores = torch.full((b, k), NEG_INF, device=device)
    scores[:, 0] = 0.0  # one live hypothesis at the start
    hist: list[list[list[int]]] = [[[] for _ in range(k)] for _ in range(b)]
    probs: list[list[list[float]]] = [[[] for _ in range(k)] for _ in range(b)]
    finished: list[list[AttentionResult]] = [[] for _ in range(b)]
    done = [False] * b
    for t in range(max(limits)):
        logits, state, _ = model.step(enc_k, prev, state)
        logp = _masked_log_probs(logits, sos)  # (B * K, V)
        v = logp.shape[-1]
        cand = (scores.reshape(-1, 1) + logp).reshape(b, k * v)
        top_scores, top_idx = cand.topk(min(2 * k, k * v), dim=-1)
        new_src = torch.zeros((b, k), dtype=torch.int64)
        new_tok = torch.full((b, k), eos, dtype=torch.int64)
        new_scores = torch.full((b, k), NEG_INF, device=device)
        new_hist, new_probs = [[[] for _ in range(k)] for _ in range(b)], [[[] for _ in range(k)] for _ in range(b)]
        for i in range(b):
            if done[i]:
                continue
            live = 0
            for s_val, idx in zip(top_scores[i].tolist(), top_idx[i].tolist()):
                if live >= k or s_val == NEG_INF:
                    break
                src, tok = divmod(idx, v)
                p = float(torch.tensor(logp[i * k + src, tok].item()).exp())
                if tok == eos:
                    finished[i].append(AttentionResult(list(hist[i][src]), s_val, list(probs[i][src]), True))
                    continue
                new_src[i, live], new_tok[i, live], new_scores[i, live] = src, tok, s_val
                new_hist[i][live] = hist[i][src] + [tok]
                new_probs[i][live] = probs[i][src] + [p]
                live += 1
            if finished[i] and live and _no_live_can_win(finished[i], new_scores[i, :live], limits[i], length_norm):
                done[i] = True
            elif finished[i] and not live:
                done[i] = True
            elif t + 1 >= limits[i]:  # out of steps: the live ones end here, unfinished
                for j in range(live):
                    finished[i].append(AttentionResult(new_hist[i][j], float(new_scores[i, j]), new_probs[i][j], False))
                done[i] = True
            if done[i]:
                new_scores[i] = NEG_INF
        if all(done):
            break
        scores, hist, probs = new_scores, new_hist, new_probs
        gather = (torch.arange(b)[:, None] * k + new_src).reshape(-1).to(device)
        state = tuple(s.index_select(0, gather) for s in state)
        prev = new_tok.reshape(-1).to(device)
    out = []
    for i in range(b):
        ranked = sorted(finished[i], key=lambda r: r.normalised(length_norm), reverse=True)
        out.append(ranked[:max(1, nbest)] or [AttentionResult([], 0.0, [], False)])
    return out


__all__ = ["AttentionResult", "beam_search", "greedy_search", "max_lengths"]
