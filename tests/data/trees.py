"""Tiny corpus trees in a temporary folder, written in the corpora's own formats (videos are empty files)."""

from __future__ import annotations

import itertools
from pathlib import Path

from lipread.data.corpora.grid import transcript_from_name

GRID_CODES = ["".join(c) for c in itertools.product("blps", "bgrw", "abiw", "fk", "z19", "anps")]


def write_align(path: Path, text: str, silence_between: bool = True) -> None:
    """A GRID .align: sil, words of 5000 ticks each (with an ``sp`` after the first), sil."""
    lines, t = ["0 10000 sil"], 10000
    for k, word in enumerate(text.split()):
        lines.append(f"{t} {t + 5000} {word}")
        t += 5000
        if k == 0 and silence_between:
            lines.append(f"{t} {t + 1000} sp")
            t += 1000
    lines.append(f"{t} 75000 sil")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


def make_grid(root: Path, speakers: dict[str, int], aligned: set[str] = frozenset(), ext: str = ".mpg") -> list[str]:
    """``speakers`` = {"s1": n_clips}; speakers in ``aligned`` get ``alignments/sN/*.align``. Returns ids."""
    ids = []
    for speaker, n in speakers.items():
        for code in GRID_CODES[:n]:
            video = root / speaker / f"{code}{ext}"
            video.parent.mkdir(parents=True, exist_ok=True)
            video.write_bytes(b"")
            if speaker in aligned:
                write_align(root / "alignments" / speaker / f"{code}.align", transcript_from_name(code))
            ids.append(f"{speaker}/{code}")
    return ids


def lrs_txt(text: str, words: list[tuple[str, float, float]] | None = None, ref: bool = False) -> str:
    head = [f"Text:  {text}", "Conf:  4"] + (["Ref:   https://www.youtube.com/watch?v=abc"] if ref else [])
    if words is None:
        return "\n".join(head) + "\n"
    table = ["", "WORD START END ASDSCORE"] + [f"{w} {s:.2f} {e:.2f} 1.5" for w, s, e in words]
    return "\n".join(head + table) + "\n"


def timed(text: str, step: float = 0.5) -> list[tuple[str, float, float]]:
    return [(w, round(k * step, 2), round(k * step + step * 0.8, 2)) for k, w in enumerate(text.split())]


def make_lrs2(root: Path) -> None:
    """mvlrs_v1/{main,pretrain}/ID/N.{mp4,txt} with train/val/test/pretrain lists (test with a flag column)."""
    base = root / "mvlrs_v1"
    clips = {
        "main": {"100/00001": "HELLO THERE", "100/00002": "GOOD MORNING", "200/00001": "ONE TWO", "300/00001": "LAST ONE"},
        "pretrain": {"900/00001": "A LONG PRETRAIN CLIP WITH MANY WORDS IN IT"},
    }
    for subset, items in clips.items():
        for name, text in items.items():
            stem = base / subset / name
            stem.parent.mkdir(parents=True, exist_ok=True)
            stem.with_suffix(".mp4").write_bytes(b"")
            words = timed(text) if subset == "pretrain" else None
            stem.with_suffix(".txt").write_text(lrs_txt(text, words))
    (root / "train.txt").write_text("100/00001\n100/00002\n")
    (root / "val.txt").write_text("200/00001\n")
    (root / "test.txt").write_text("300/00001 NF\n")
    (root / "pretrain.txt").write_text("900/00001\n")


def make_lrs3(root: Path) -> None:
    """{pretrain,trainval,test}/ID/N.{mp4,txt}; pretrain with a word table, one trainval txt without a video."""
    items = {
        "pretrain/vidA/00001": "SO WE ARE GOING TO TALK ABOUT LIPS TODAY",
        "trainval/vidB/00001": "THANK YOU",
        "trainval/vidB/00002": "IT'S A GOOD DAY",
        "trainval/vidC/00001": "HELLO",
        "test/vidD/00001": "THE END",
    }
    for name, text in items.items():
        stem = root / name
        stem.parent.mkdir(parents=True, exist_ok=True)
        stem.with_suffix(".mp4").write_bytes(b"")
        stem.with_suffix(".txt").write_text(lrs_txt(text, timed(text), ref=True))
    (root / "trainval/vidC/00009.txt").write_text(lrs_txt("ORPHAN TRANSCRIPT"))
