"""GRID audiovisual sentence corpus (Cooke et al. 2006).

Layout (any of these): ``ROOT/s{N}/*.mpg|*.mp4`` (also nested, e.g. ``s1/video/mpg_6000``; videos
outside ``s{N}`` folders are then ignored), or a folder holding the videos directly; alignments ``*.align`` anywhere under ROOT (or under
``alignments=``), matched to a video by speaker folder and file stem, e.g.
``ROOT/alignments/s1/bbaf2n.align`` or ``ROOT/s1/align/bbaf2n.align``.

An ``.align`` file has ``start end word`` lines, times in 1/25000 s (so a video frame is
``t / 1000``); ``sil`` and ``sp`` mark silence and are dropped. Without an alignment the
transcript follows from the file name, one letter per word of the grammar
``command colour preposition letter digit adverb``: ``bbaf2n`` = "bin blue at f two now".
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

from lipread.data.corpora.base import CORPORA, Entry
from lipread.data.splits import (
    GRID_OVERLAPPED_TEST_PER_SPEAKER,
    GRID_UNSEEN_TEST_SPEAKERS,
    per_speaker_holdout,
    speaker_split,
    val_fraction_split,
)
from lipread.errors import ConfigError, DataError, InputFileError
from lipread.types import Record, WordSpan

DOMAIN_DESCRIPTION = ("GRID grammar (command colour preposition letter digit adverb), GRID speaker 1, frontal "
                      "360x288 video, clips of about 3 s")
"""The training domain of the GRID speaker-1 zoo models, as their ``domain`` section describes it."""

log = logging.getLogger("lipread.data.grid")

VIDEO_EXTENSIONS = (".mp4", ".mpg", ".mpeg", ".mov", ".avi", ".mkv")
ALIGN_TICKS_PER_SECOND = 25_000.0
SILENCE = frozenset({"sil", "sp"})
GRID_PROTOCOLS = ("random", "overlapped", "unseen")

COMMANDS = {"b": "bin", "l": "lay", "p": "place", "s": "set"}
COLOURS = {"b": "blue", "g": "green", "r": "red", "w": "white"}
PREPOSITIONS = {"a": "at", "b": "by", "i": "in", "w": "with"}
DIGITS = {"z": "zero", **{str(i): w for i, w in enumerate("zero one two three four five six seven eight nine".split())}}
ADVERBS = {"a": "again", "n": "now", "p": "please", "s": "soon"}
_SPEAKER = re.compile(r"^s\d+$")


def transcript_from_name(stem: str) -> str:
    """``"bbaf2n"`` -> ``"bin blue at f two now"``; a name outside the grammar is a DataError."""
    s = stem.lower()
    ok = (
        len(s) == 6
        and s[0] in COMMANDS
        and s[1] in COLOURS
        and s[2] in PREPOSITIONS
        and s[3].isalpha()
        and s[4] in DIGITS
        and s[5] in ADVERBS
    )
    if not ok:
        raise DataError(
            f"file name {stem!r} is not a GRID sentence code (command colour preposition letter digit adverb)",
            fix="Rename the file or give its .align file.",
        )
    return " ".join([COMMANDS[s[0]], COLOURS[s[1]], PREPOSITIONS[s[2]], s[3], DIGITS[s[4]], ADVERBS[s[5]]])


def parse_align(path: str | os.PathLike) -> list[WordSpan]:
    """Read a GRID ``.align`` file into words with times in seconds (silence dropped)."""
    words: list[WordSpan] = []
    for n, line in enumerate(Path(path).read_text().splitlines(), 1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 3:
            raise DataError(f"line {n} is not 'start end word'", path, "Check the alignment file.")
        try:
            start, end = float(parts[0]), float(parts[1])
        except ValueError:
            raise DataError(f"line {n}: times are not numbers", path) from None
        if parts[2] in SILENCE:
            continue
        words.append(WordSpan(parts[2], start / ALIGN_TICKS_PER_SECOND, end / ALIGN_TICKS_PER_SECOND))
    return words


def _speaker_of(path: Path, root: Path) -> str:
    """The nearest ``s{N}`` folder in ``path``'s parents (below or at ``root``), else ``""``."""
    for part in reversed(path.relative_to(root).parts[:-1]):
        if _SPEAKER.match(part):
            return part
    return root.name if _SPEAKER.match(root.name) else ""


def _find_videos(root: Path) -> dict[tuple[str, str], Path]:
    """(speaker, stem) -> video path; when both an .mp4 and an .mpg exist the first extension wins."""
    found: dict[tuple[str, str], Path] = {}
    rank = {ext: i for i, ext in enumerate(VIDEO_EXTENSIONS)}
    for path in sorted(root.rglob("*")):
        ext = path.suffix.lower()
        if ext not in rank or not path.is_file():
            continue
        key = (_speaker_of(path, root), path.stem)
        if key not in found or rank[ext] < rank[found[key].suffix.lower()]:
            found[key] = path
    return found


def _find_alignments(root: Path) -> dict[tuple[str, str], Path]:
    return {(_speaker_of(p, root), p.stem): p for p in sorted(root.rglob("*.align"))}


def assign_grid_splits(
    records: list[Record], protocol: str, val_fraction: float, seed: int
) -> dict[str, str]:
    """Split GRID records: ``random`` (val only), ``overlapped`` or ``unseen``, then ``val_fraction``
    of what is left for training becomes ``val``."""
    pairs = [(r.id, r.speaker) for r in records]
    if protocol == "random":
        splits = {i: "train" for i, _ in pairs}
    elif protocol == "overlapped":
        splits = per_speaker_holdout(pairs, GRID_OVERLAPPED_TEST_PER_SPEAKER, seed)
    elif protocol == "unseen":
        splits = speaker_split(pairs, GRID_UNSEEN_TEST_SPEAKERS)
    else:
        raise ConfigError(f"unknown GRID split protocol {protocol!r}", fix=f"Use one of {', '.join(GRID_PROTOCOLS)}.")
    if val_fraction > 0:
        train_ids = [i for i, s in splits.items() if s == "train"]
        splits.update(val_fraction_split(train_ids, val_fraction, seed))
    return splits


@CORPORA.register("grid")
def read_grid(
    root: str | os.PathLike,
    split: str = "random",
    val_fraction: float = 0.1,
    seed: int = 0,
    alignments: str | None = None,
    speakers: str | None = None,
) -> list[Entry]:
    """Read a GRID tree into entries sorted by id (``"s1/bbaf2n"``, or ``"bbaf2n"`` without a speaker folder).

    ``split``: ``random`` | ``overlapped`` | ``unseen``; ``val_fraction`` of the training clips
    become ``val`` (seeded by ``seed``). ``speakers``: comma-separated subset, e.g. ``"s1,s2"``.
    """
    root = Path(root)
    if not root.is_dir():
        raise InputFileError("GRID folder not found", root, "Give the folder that holds s1/, s2/, ... or the videos.")
    videos = _find_videos(root)
    if any(spk for spk, _ in videos):
        # a corpus tree: only videos inside speaker folders (not e.g. a side folder of originals)
        outside = [v for (spk, _), v in videos.items() if not spk]
        if outside:
            log.info("GRID: ignoring %d videos outside s{N}/ folders (e.g. %s)", len(outside), outside[0])
        videos = {k: v for k, v in videos.items() if k[0]}
    if speakers:
        wanted = {s.strip() for s in speakers.split(",") if s.strip()}
        videos = {k: v for k, v in videos.items() if k[0] in wanted}
    if not videos:
        raise DataError("no GRID videos (*.mpg, *.mp4) found", root, "Check the corpus folder.")
    aligns = _find_alignments(Path(alignments) if alignments else root)
    by_stem = {stem: p for (spk, stem), p in aligns.items() if spk == ""}
    records: list[Record] = []
    errors: dict[str, str] = {}
    for (speaker, stem), video in sorted(videos.items()):
        clip_id = f"{speaker}/{stem}" if speaker else stem
        align = aligns.get((speaker, stem)) or by_stem.get(stem)
        if align is None and speaker == "":
            # a flat folder of videos: accept an alignment from any speaker folder when it is unique
            matches = [p for (_, s), p in aligns.items() if s == stem]
            align = matches[0] if len(matches) == 1 else None
        words = None
        try:
            if align is not None:
                words = parse_align(align)
                text = " ".join(w.word for w in words)
            else:
                text = transcript_from_name(stem)
        except DataError as exc:
            text, errors[clip_id] = "", exc.message
        records.append(Record(id=clip_id, video=str(video), text=text, speaker=speaker, words=words))
    n_aligned = sum(r.words is not None for r in records)
    log.info("GRID: %d clips (%d with alignments) under %s", len(records), n_aligned, root)
    splits = assign_grid_splits(records, split, val_fraction, seed)
    return [Entry(r, splits[r.id], errors.get(r.id, "")) for r in records]
