"""LRS2-BBC and LRS3-TED (Afouras, Chung, Zisserman et al.).

LRS2: ``ROOT[/mvlrs_v1]/{main,pretrain}/ID/N.{mp4,txt}`` with list files ``pretrain.txt``,
``train.txt``, ``val.txt``, ``test.txt`` (in ROOT or next to ``mvlrs_v1``) naming ``ID/N`` per line;
a second column on a line (e.g. ``NF`` in ``test.txt``) is a flag, not a transcript, and is ignored.
LRS3: ``ROOT/{pretrain,trainval,test}/ID/N.{mp4,txt}``.

A transcript file starts with headers (``Text:``, ``Conf:``, ``Ref:`` ...) and, in pretrain
clips, a ``WORD START END ASDSCORE`` table with times in seconds. With ``max_seconds``, clips
whose words span longer are cut by the word table into segments of at most that length.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from lipread.data.corpora.base import CORPORA, Entry
from lipread.data.splits import val_fraction_split
from lipread.errors import DataError, InputFileError
from lipread.types import Record, WordSpan

log = logging.getLogger("lipread.data.lrs")


@dataclass
class LrsTranscript:
    """A parsed LRS transcript file: text, headers (lower-case keys) and the word table (may be empty)."""

    text: str
    headers: dict[str, str] = field(default_factory=dict)
    words: list[WordSpan] = field(default_factory=list)


def parse_lrs_transcript(path: str | os.PathLike) -> LrsTranscript:
    """Read an LRS ``N.txt``: ``Key: value`` headers, then an optional ``WORD START END ...`` table."""
    headers: dict[str, str] = {}
    words: list[WordSpan] = []
    in_table = False
    for n, raw in enumerate(Path(path).read_text(encoding="utf-8", errors="replace").splitlines(), 1):
        line = raw.strip()
        if not line:
            continue
        if in_table:
            parts = line.split()
            if len(parts) < 3:
                raise DataError(f"line {n}: word table row needs WORD START END", path)
            try:
                words.append(WordSpan(parts[0], float(parts[1]), float(parts[2])))
            except ValueError:
                raise DataError(f"line {n}: word times are not numbers", path) from None
        elif line.split()[:3] == ["WORD", "START", "END"]:
            in_table = True
        elif ":" in line:
            key, _, value = line.partition(":")
            headers[key.strip().lower()] = value.strip()
        else:
            raise DataError(f"line {n} is neither a 'Key: value' header nor a word table", path)
    if "text" not in headers:
        raise DataError("no 'Text:' header", path, "Check the transcript file.")
    return LrsTranscript(" ".join(headers["text"].split()), headers, words)


def segment_words(words: list[WordSpan], max_seconds: float) -> list[list[WordSpan]]:
    """Greedily group consecutive words into segments spanning at most ``max_seconds``.

    A single word longer than ``max_seconds`` forms its own segment.
    """
    segments: list[list[WordSpan]] = []
    for w in words:
        if segments and w.end - segments[-1][0].start <= max_seconds:
            segments[-1].append(w)
        else:
            segments.append([w])
    return segments


def _clip_entries(
    clip_id: str, video: Path, txt: Path, speaker: str, split: str, max_seconds: float | None
) -> list[Entry]:
    """The entries of one clip: the whole file, or its segments when it is longer than ``max_seconds``."""
    if not video.is_file() or not txt.is_file():
        missing = video if not video.is_file() else txt
        return [Entry(Record(clip_id, str(video), "", speaker), split, f"missing file {missing}")]
    try:
        tr = parse_lrs_transcript(txt)
    except DataError as exc:
        return [Entry(Record(clip_id, str(video), "", speaker), split, exc.message)]
    words = tr.words or None
    if max_seconds and tr.words and tr.words[-1].end - tr.words[0].start > max_seconds:
        out = []
        for k, seg in enumerate(segment_words(tr.words, max_seconds)):
            text = " ".join(w.word for w in seg)
            rec = Record(f"{clip_id}_{k:02d}", str(video), text, speaker, seg[0].start, seg[-1].end, seg)
            out.append(Entry(rec, split))
        return out
    return [Entry(Record(clip_id, str(video), tr.text, speaker, words=words), split)]


def _read_list(path: Path) -> list[str]:
    """``ID/N`` names of an LRS2 list file (first column; extra columns are flags)."""
    return [line.split()[0] for line in path.read_text().splitlines() if line.strip()]


@CORPORA.register("lrs2")
def read_lrs2(
    root: str | os.PathLike,
    subsets: str = "main,pretrain",
    max_seconds: float | None = None,
) -> list[Entry]:
    """Read LRS2 by its list files: ``train.txt`` -> train, ``val.txt`` -> val, ``test.txt`` -> test
    (all under ``main/``), ``pretrain.txt`` -> train (under ``pretrain/``). Ids: ``main/ID/N``."""
    root = Path(root)
    base = root / "mvlrs_v1" if (root / "mvlrs_v1").is_dir() else root
    if not base.is_dir():
        raise InputFileError("LRS2 folder not found", root, "Give the folder holding mvlrs_v1/ (or its contents).")
    wanted = {s.strip() for s in subsets.split(",") if s.strip()}
    lists = {"main": [("train", "train"), ("val", "val"), ("test", "test")], "pretrain": [("pretrain", "train")]}
    entries: list[Entry] = []
    for subset in sorted(wanted):
        if subset not in lists:
            raise DataError(f"unknown LRS2 subset {subset!r}", fix="Use main and/or pretrain.")
        for list_name, split in lists[subset]:
            list_file = next((d / f"{list_name}.txt" for d in (root, base, base.parent) if (d / f"{list_name}.txt").is_file()), None)
            if list_file is None:
                raise DataError(f"LRS2 list file {list_name}.txt not found", root, "It ships with the corpus; put it next to mvlrs_v1/.")
            for name in _read_list(list_file):
                stem = base / subset / name
                entries += _clip_entries(f"{subset}/{name}", stem.with_suffix(".mp4"), stem.with_suffix(".txt"),
                                         name.split("/")[0], split, max_seconds if subset == "pretrain" else None)
    log.info("LRS2: %d clips/segments under %s", len(entries), base)
    return entries


@CORPORA.register("lrs3")
def read_lrs3(
    root: str | os.PathLike,
    subsets: str = "pretrain,trainval,test",
    max_seconds: float | None = None,
    val_fraction: float = 0.0,
    seed: int = 0,
) -> list[Entry]:
    """Read LRS3: ``pretrain``/``trainval`` -> train (``val_fraction`` of the trainval speakers'
    clips -> val, seeded), ``test`` -> test. Ids: ``trainval/ID/N``; speaker = the video ID."""
    root = Path(root)
    if not root.is_dir():
        raise InputFileError("LRS3 folder not found", root, "Give the folder holding pretrain/ trainval/ test/.")
    wanted = [s.strip() for s in subsets.split(",") if s.strip()]
    entries: list[Entry] = []
    for subset in wanted:
        if subset not in ("pretrain", "trainval", "test"):
            raise DataError(f"unknown LRS3 subset {subset!r}", fix="Use pretrain, trainval and/or test.")
        folder = root / subset
        if not folder.is_dir():
            raise DataError(f"LRS3 subset folder {subset}/ not found", root, "Check the corpus folder or --option subsets=.")
        split = "test" if subset == "test" else "train"
        for video in sorted(folder.glob("*/*.mp4")):
            name = f"{video.parent.name}/{video.stem}"
            entries += _clip_entries(f"{subset}/{name}", video, video.with_suffix(".txt"), video.parent.name, split,
                                     max_seconds if subset == "pretrain" else None)
        # transcripts without a video are listed too, so nothing is dropped silently
        for txt in sorted(folder.glob("*/*.txt")):
            if not txt.with_suffix(".mp4").is_file():
                entries += _clip_entries(f"{subset}/{txt.parent.name}/{txt.stem}", txt.with_suffix(".mp4"), txt,
                                         txt.parent.name, split, None)
    if val_fraction > 0:
        trainval = [e.record.id for e in entries if e.record.id.startswith("trainval/")]
        splits = val_fraction_split(trainval, val_fraction, seed)
        for e in entries:
            e.split = splits.get(e.record.id, e.split)
    log.info("LRS3: %d clips/segments under %s", len(entries), root)
    return entries
