"""Word n-gram LMs and lexicons for beam search: write ARPA files, read lexicons, load KenLM.

The ARPA writer estimates an interpolated Witten-Bell n-gram model from sentences, which suits a
small closed corpus such as the GRID grammar. In ARPA form, an interpolated model's backoff weight
for a history h is exactly ``N1+(h .) / (c(h) + N1+(h .))``, the mass it leaves to the lower order.

Lexicon files follow flashlight/torchaudio: one ``word s p e l l i n g`` per line (a line holding
only a word is spelled by its characters).
"""

from __future__ import annotations

import math
import os
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path

from lipread.errors import ConfigError, InputFileError

BOS, EOS, UNK = "<s>", "</s>", "<unk>"
REPO = Path(__file__).resolve().parents[2]
GRID_LM_DIR = REPO / "pipelines" / "grid"
GRID_LM = "grid_3gram.arpa"
GRID_LEXICON = "lexicon.txt"


def ngram_counts(sentences: Iterable[Sequence[str]], order: int) -> list[Counter]:
    """``counts[n][gram]`` for n = 1..order over sentences padded with <s> ... </s>."""
    counts: list[Counter] = [Counter() for _ in range(order + 1)]
    for sent in sentences:
        toks = [BOS, *sent, EOS]
        for n in range(1, order + 1):
            for i in range(len(toks) - n + 1):
                counts[n][tuple(toks[i : i + n])] += 1
    counts[1].pop((BOS,), None)  # <s> is only ever a history
    return counts


def witten_bell(counts: list[Counter]) -> tuple[list[dict], list[dict]]:
    """Interpolated Witten-Bell estimate -> (``probs[n][gram]``, ``backoffs[n][history]``), natural log."""
    order = len(counts) - 1
    vocab = [g[0] for g in counts[1]]
    total, types = sum(counts[1].values()), len(vocab)
    uniform = 1.0 / (types + 1)  # + <unk>
    probs: list[dict] = [{} for _ in range(order + 1)]
    backoffs: list[dict] = [{} for _ in range(order + 1)]
    probs[1] = {g: (c + types * uniform) / (total + types) for g, c in counts[1].items()}
    probs[1][(UNK,)] = types * uniform / (total + types)
    for n in range(2, order + 1):
        hist_total: Counter = Counter()
        hist_types: Counter = Counter()
        for g, c in counts[n].items():
            hist_total[g[:-1]] += c
            hist_types[g[:-1]] += 1
        for h in hist_total:
            backoffs[n - 1][h] = hist_types[h] / (hist_total[h] + hist_types[h])
        for g, c in counts[n].items():
            h = g[:-1]
            lower = _prob(probs, backoffs, g[1:])
            probs[n][g] = (c + hist_types[h] * lower) / (hist_total[h] + hist_types[h])
    return probs, backoffs


def _prob(probs: list[dict], backoffs: list[dict], gram: tuple[str, ...]) -> float:
    """P(gram[-1] | gram[:-1]) under the backoff model (the ARPA reading)."""
    if gram in probs[len(gram)]:
        return probs[len(gram)][gram]
    if len(gram) == 1:
        return probs[1][(UNK,)]
    return backoffs[len(gram) - 1].get(gram[:-1], 1.0) * _prob(probs, backoffs, gram[1:])


def write_arpa(sentences: Iterable[Sequence[str]], path: str | os.PathLike, order: int = 3) -> Path:
    """Estimate an ``order``-gram Witten-Bell LM from ``sentences`` (word sequences); write ARPA."""
    if order < 2:
        raise ConfigError("an n-gram LM for flashlight's KenLM needs order >= 2", fix="Use order 2 or more.")
    counts = ngram_counts(sentences, order)
    probs, backoffs = witten_bell(counts)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["\\data\\"]
    sizes = [len(probs[1]) + 1] + [len(probs[n]) for n in range(2, order + 1)]  # +1: <s>
    lines += [f"ngram {n}={size}" for n, size in enumerate(sizes, start=1)]
    for n in range(1, order + 1):
        lines += ["", f"\\{n}-grams:"]
        entries = sorted(probs[n].items())
        if n == 1:
            entries = [((BOS,), None), *entries]
        for g, p in entries:
            logp = -99.0 if p is None else math.log10(p)
            row = f"{logp:.6f}\t{' '.join(g)}"
            if n < order and g in backoffs[n]:
                row += f"\t{math.log10(backoffs[n][g]):.6f}"
            lines.append(row)
    lines += ["", "\\end\\", ""]
    path.write_text("\n".join(lines))
    return path


def arpa_order(path: str | os.PathLike) -> int:
    """The highest n-gram order in an ARPA file's header (0 if it has none)."""
    order = 0
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.strip()
            if line.startswith("ngram ") and "=" in line:
                order = max(order, int(line[6:].split("=")[0]))
            elif line.startswith("\\1-grams"):
                break
    return order


def arpa_unigrams(path: str | os.PathLike) -> list[str]:
    """The unigram vocabulary of an ARPA file (including <s>, </s>, <unk> when present)."""
    words, inside = [], False
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.strip()
            if line.startswith("\\"):
                if inside:
                    break
                inside = line.startswith("\\1-grams")
            elif inside and line:
                words.append(line.split()[1])
    return words


def is_arpa(path: str | os.PathLike) -> bool:
    with open(path, "rb") as f:
        return f.read(64).lstrip().startswith(b"\\data\\")


def check_lm_file(path: str | os.PathLike) -> Path:
    """A readable KenLM file (ARPA with order >= 2, or KenLM binary); clear errors otherwise."""
    path = Path(path)
    if not path.is_file():
        raise InputFileError("language model file not found", path, "Check the --lm path (ARPA or KenLM binary).")
    if is_arpa(path) and arpa_order(path) < 2:
        raise ConfigError("flashlight's KenLM refuses unigram-only ARPA files", path,
                          "Build an LM of order 2 or more (lipread.decoding.lm.write_arpa).")
    return path


def write_lexicon(words: Iterable[str], path: str | os.PathLike) -> Path:
    """Write a lexicon: ``word w o r d`` per line, words sorted and de-duplicated."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{w} {' '.join(w)}\n" for w in sorted(set(words))))
    return path


def load_lexicon(source: str | os.PathLike | Iterable[str]) -> dict[str, list[list[str]]]:
    """Word -> spellings (lists of token names) from a lexicon file, a word-list file or words."""
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.is_file():
            raise InputFileError("lexicon file not found", path, "Give a lexicon or word-list file.")
        lines = path.read_text(encoding="utf-8").splitlines()
    else:
        lines = list(source)
    lexicon: dict[str, list[list[str]]] = defaultdict(list)
    for line in lines:
        parts = line.split()
        if not parts:
            continue
        spelling = parts[1:] or list(parts[0])
        if spelling not in lexicon[parts[0]]:
            lexicon[parts[0]].append(spelling)
    if not lexicon:
        raise ConfigError("the lexicon is empty", None if not isinstance(source, (str, os.PathLike)) else source)
    return dict(lexicon)


def build_grid_lm(out_dir: str | os.PathLike = GRID_LM_DIR, order: int = 3) -> tuple[Path, Path]:
    """Write the GRID word LM (from every grammar sentence) and lexicon; return (arpa, lexicon)."""
    from lipread.text.grid import grid_sentences, grid_words

    out_dir = Path(out_dir)
    arpa = write_arpa(grid_sentences(), out_dir / (GRID_LM if order == 3 else f"grid_{order}gram.arpa"), order)
    return arpa, write_lexicon(grid_words(), out_dir / GRID_LEXICON)


GRID_GRAMMAR_LM = "grid_grammar.arpa"


def write_grammar_arpa(path: str | os.PathLike) -> Path:
    """The GRID grammar as an exact word bigram ARPA file: its six slots have disjoint words, so a bigram
    that allows only slot-to-next-slot transitions (each word of a slot equally likely) accepts exactly the
    grammar's sentences. Every other transition backs off with weight 10^-99 (KenLM needs finite numbers)."""
    from lipread.text.grid import GRID_GRAMMAR

    slots = [list(words) for words in GRID_GRAMMAR.values()]
    never = -99.0
    unigrams = [(never, w, never) for w in (UNK, BOS)] + [(never, EOS, None)]
    unigrams += [(math.log10(1 / len(slot)), w, never) for slot in slots for w in slot]
    bigrams = []
    for prev, nxt in zip([[BOS], *slots], slots + [[EOS]]):
        for a in prev:
            bigrams += [(math.log10(1 / len(nxt)), f"{a} {b}") for b in nxt]
    lines = ["\\data\\", f"ngram 1={len(unigrams)}", f"ngram 2={len(bigrams)}", "", "\\1-grams:"]
    lines += [f"{p:.6f}\t{w}" + ("" if b is None else f"\t{b:.1f}") for p, w, b in unigrams]
    lines += ["", "\\2-grams:"] + [f"{p:.6f}\t{g}" for p, g in bigrams] + ["", "\\end\\", ""]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _grid_cache_dir() -> Path:
    """Where GRID LM files are built when this is not a checkout (the user cache)."""
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "lipread" / "grid"


def grid_grammar_file() -> Path:
    """The exact GRID grammar LM (:func:`write_grammar_arpa`), shipped or built into the user cache."""
    path = GRID_LM_DIR / GRID_GRAMMAR_LM
    if path.is_file():
        return path
    cache = _grid_cache_dir() / GRID_GRAMMAR_LM
    return cache if cache.is_file() else write_grammar_arpa(cache)


def grid_lm_files() -> tuple[Path, Path]:
    """(ARPA, lexicon) of the shipped GRID LM; built into the user cache if this is not a checkout."""
    arpa, lexicon = GRID_LM_DIR / GRID_LM, GRID_LM_DIR / GRID_LEXICON
    if arpa.is_file() and lexicon.is_file():
        return arpa, lexicon
    cache = _grid_cache_dir()
    arpa, lexicon = cache / GRID_LM, cache / GRID_LEXICON
    if not (arpa.is_file() and lexicon.is_file()):
        build_grid_lm(cache)
    return arpa, lexicon
