"""Slow, plain-Python CTC decoders used as test oracles for the fast flashlight search.

Shape legend: T frames, V vocabulary + blank. Log-probs are a (T, V) nested sequence or array.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Sequence

NEG_INF = -math.inf


def logadd(*xs: float) -> float:
    """log(sum(exp(x))) that tolerates -inf."""
    m = max(xs)
    if m == NEG_INF:
        return NEG_INF
    return m + math.log(sum(math.exp(x - m) for x in xs))


def collapse(path: Sequence[int], blank: int = 0) -> tuple[int, ...]:
    """CTC collapse: merge repeats, drop blanks."""
    out, prev = [], None
    for tok in path:
        if tok != prev and tok != blank:
            out.append(tok)
        prev = tok
    return tuple(out)


def brute_force(log_probs, blank: int = 0, symbols: Sequence[int] | None = None) -> dict[tuple[int, ...], tuple[float, float]]:
    """Enumerate every path over ``symbols`` (default all V): labelling -> (log sum, log max) of its paths.

    Cost V**T: only for tiny inputs.
    """
    rows = [list(map(float, r)) for r in log_probs]
    symbols = list(symbols if symbols is not None else range(len(rows[0])))
    out: dict[tuple[int, ...], tuple[float, float]] = {}
    for path in itertools.product(symbols, repeat=len(rows)):
        score = sum(rows[t][v] for t, v in enumerate(path))
        key = collapse(path, blank)
        total, best = out.get(key, (NEG_INF, NEG_INF))
        out[key] = (logadd(total, score), max(best, score))
    return out


def prefix_beam_search(log_probs, beam_size: int, blank: int = 0) -> list[tuple[tuple[int, ...], float]]:
    """Textbook CTC prefix beam search (no LM): ``[(labelling, log prob), ...]`` best first.

    Each prefix keeps the log-probability of its paths ending in blank and in non-blank; a wide
    enough beam returns the exact most probable labelling.
    """
    beams: dict[tuple[int, ...], tuple[float, float]] = {(): (0.0, NEG_INF)}
    for row in log_probs:
        row = [float(x) for x in row]
        nxt: dict[tuple[int, ...], list[float]] = defaultdict(lambda: [NEG_INF, NEG_INF])
        for prefix, (p_b, p_nb) in beams.items():
            for v, p in enumerate(row):
                if p == NEG_INF:
                    continue
                if v == blank:
                    cell = nxt[prefix]
                    cell[0] = logadd(cell[0], p_b + p, p_nb + p)
                    continue
                extended = nxt[prefix + (v,)]
                if prefix and prefix[-1] == v:
                    extended[1] = logadd(extended[1], p_b + p)  # a repeat needs a blank in between
                    same = nxt[prefix]
                    same[1] = logadd(same[1], p_nb + p)  # or it merges into the last symbol
                else:
                    extended[1] = logadd(extended[1], p_b + p, p_nb + p)
        ranked = sorted(nxt.items(), key=lambda kv: logadd(*kv[1]), reverse=True)[:beam_size]
        beams = {k: (v[0], v[1]) for k, v in ranked}
    return sorted(((k, logadd(*v)) for k, v in beams.items()), key=lambda kv: kv[1], reverse=True)
