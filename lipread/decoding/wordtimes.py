"""Word times from a CTC frame path.

A CTC path gives one label per output frame (0 = blank). Consecutive equal non-blank labels are one
*emission* of that token. Dropping the word-separator emissions, the emissions spell the decoded
words in order, so each word spans from the first frame of its first letter to the last frame of
its last letter: ``start = offset + first * frame_shift``, ``end = offset + (last + 1) * frame_shift``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from lipread.types import WordSpan

log = logging.getLogger("lipread.decoding.wordtimes")


def ctc_emissions(path: Sequence[int], blank: int = 0, frames: Sequence[int] | None = None
                  ) -> list[tuple[int, int, int]]:
    """Frame labels (T,) -> ``[(token, first_frame, last_frame), ...]`` of the collapsed path.

    ``frames``: the clip frame of each path position when the path skips frames (a beam search that merged
    runs of blank frames); an emission then spans from its first position's frame to its last's, the
    skipped frames inside it included."""
    out: list[tuple[int, int, int]] = []
    at = range(len(path)) if frames is None else frames
    prev, first, last = blank, 0, 0
    for t, tok in zip(at, map(int, path)):
        if tok != prev:
            if prev != blank:
                out.append((prev, first, last))
            prev, first = tok, t
        last = t
    if prev != blank:
        out.append((prev, first, last))
    return out


def collapse(path: Sequence[int], blank: int = 0) -> list[int]:
    """CTC collapse: merge repeats, drop blanks."""
    return [tok for tok, _, _ in ctc_emissions(path, blank)]


def word_emissions(
    path: Sequence[int], words: Sequence[str], separator: int | None, blank: int = 0,
) -> list[list[tuple[int, int, int]]] | None:
    """The letter emissions ``(token, first, last)`` of each non-empty word of ``words`` along a CTC
    ``path``, or None when the path does not spell them (see :func:`group_emissions`)."""
    return group_emissions(ctc_emissions(path, blank), words, separator)


def group_emissions(
    emissions: Sequence[tuple[int, int, int]], words: Sequence[str], separator: int | None,
) -> list[list[tuple[int, int, int]]] | None:
    """The path's emissions (:func:`ctc_emissions`) split into the letters of each non-empty word of
    ``words``, or None when they do not spell them.

    Each word takes ``len(word)`` letter emissions in order (letters left over at the end, from a
    lexicon search that ended inside a word, are ignored); failing that, the separator-delimited
    groups of the path when there is one per word.
    """
    letters = [e for e in emissions if e[0] != separator]
    words = [w for w in words if w]
    if sum(len(w) for w in words) <= len(letters):  # trailing letters: an unfinished last word
        out, i = [], 0
        for w in words:
            out.append(letters[i : i + len(w)])
            i += len(w)
        return out
    groups: list[list[tuple[int, int, int]]] = [[]]
    for e in emissions:
        if e[0] == separator:
            groups.append([])
        else:
            groups[-1].append(e)
    groups = [g for g in groups if g]
    return groups if len(groups) == len(words) else None


def word_spans(
    path: Sequence[int],
    words: Sequence[str],
    separator: int | None,
    frame_shift: float = 0.04,
    time_offset: float = 0.0,
    blank: int = 0,
) -> list[WordSpan]:
    """Times of ``words`` along a CTC frame ``path`` (T,).

    ``separator`` is the word-separator id (space) or ``None``. Each word takes ``len(word)``
    letter emissions in order; letters left over at the end (a lexicon search that ended inside a
    word it could not finish) are ignored. If the path has fewer letters than the words, the words
    are laid out from the separator-delimited groups instead, and failing that spread evenly over
    the path, with a warning.
    """
    return spans_from_groups(words, word_emissions(path, words, separator, blank), len(path), frame_shift, time_offset)


def spans_from_groups(
    words: Sequence[str],
    groups: list[list[tuple[int, int, int]]] | None,
    frames: int,
    frame_shift: float = 0.04,
    time_offset: float = 0.0,
) -> list[WordSpan]:
    """Word times from each word's letter emissions (:func:`group_emissions`); ``groups`` None: the words
    spread evenly over the ``frames`` of the path, with a warning."""
    if groups is not None:
        return [WordSpan(w, round(time_offset + g[0][1] * frame_shift, 4), round(time_offset + (g[-1][2] + 1) * frame_shift, 4))
                for w, g in zip([w for w in words if w], groups)]

    def span(word: str, first: int, last: int) -> WordSpan:
        return WordSpan(word, round(time_offset + first * frame_shift, 4), round(time_offset + (last + 1) * frame_shift, 4))

    log.warning("CTC path does not spell the words %r; spreading their times evenly", " ".join(words))
    n = max(frames, 1)
    k = max(len(words), 1)
    return [span(w, i * n // k, (i + 1) * n // k - 1) for i, w in enumerate(words)]
