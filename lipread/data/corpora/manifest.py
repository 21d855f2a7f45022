"""A generic manifest for users' own data: CSV (with a header row) or JSONL.

Fields: ``path`` and ``text`` (required), ``speaker``, ``start``, ``end`` (seconds), ``id`` and
``split`` (train | val | test) optional. A relative ``path`` is relative to the manifest's folder.
Without an ``id`` the clip id is the path (relative, without extension) plus ``@start`` when cut.
Clips without a ``split`` are split by ``val_fraction`` (seeded).

Example CSV::

    path,text,speaker,start,end
    talks/a.mp4,hello world,alice,,
    talks/b.mp4,good morning,bob,1.5,4.0
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

from lipread.data.corpora.base import CORPORA, SPLITS, Entry
from lipread.data.splits import val_fraction_split
from lipread.errors import DataError, InputFileError
from lipread.types import Record

FIELDS = ("path", "text", "speaker", "start", "end", "id", "split")


def _rows(path: Path) -> list[tuple[int, dict]]:
    """(line number, row dict) pairs of a CSV or JSONL manifest."""
    if path.suffix.lower() in (".jsonl", ".json", ".ndjson"):
        rows = []
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DataError(f"line {n} is not JSON ({exc.msg})", path, "Write one JSON object per line.") from None
            if not isinstance(row, dict):
                raise DataError(f"line {n} is not a JSON object", path)
            rows.append((n, row))
        return rows
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        if not reader.fieldnames or "path" not in reader.fieldnames or "text" not in reader.fieldnames:
            raise DataError("the CSV header must name at least 'path' and 'text'", path,
                            "Add a header row like: path,text,speaker,start,end")
        return [(n + 2, row) for n, row in enumerate(reader)]


def _seconds(value, what: str, n: int, path: Path) -> float | None:
    if value is None or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        raise DataError(f"line {n}: {what} {value!r} is not a number of seconds", path) from None


@CORPORA.register("manifest")
def read_manifest(root: str | os.PathLike, val_fraction: float = 0.0, seed: int = 0) -> list[Entry]:
    """Read a CSV/JSONL manifest (``root`` is the manifest file). Malformed rows are a DataError
    naming the line; a missing video becomes an entry with an error (listed as a failure)."""
    path = Path(root)
    if not path.is_file():
        raise InputFileError("manifest not found", path, "Give a .csv or .jsonl file with path,text columns.")
    entries: list[Entry] = []
    seen: dict[str, int] = {}
    for n, row in _rows(path):
        unknown = sorted(set(row) - set(FIELDS))
        if unknown:
            raise DataError(f"line {n}: unknown field {unknown[0]!r}", path, f"Known fields: {', '.join(FIELDS)}.")
        if not row.get("path") or row.get("text") is None:
            raise DataError(f"line {n}: 'path' and 'text' are required", path)
        video = Path(str(row["path"]))
        if not video.is_absolute():
            video = path.parent / video
        start = _seconds(row.get("start"), "start", n, path)
        end = _seconds(row.get("end"), "end", n, path)
        if start is not None and end is not None and end <= start:
            raise DataError(f"line {n}: end {end} is not after start {start}", path)
        clip_id = str(row.get("id") or "")
        if not clip_id:
            clip_id = str(Path(str(row["path"])).with_suffix("")).replace(os.sep, "/")
            if start is not None:
                clip_id += f"@{start:.2f}"
        if clip_id in seen:
            raise DataError(f"line {n}: id {clip_id!r} repeats line {seen[clip_id]}", path, "Give each row a unique id.")
        seen[clip_id] = n
        split = str(row.get("split") or "")
        if split and split not in SPLITS:
            raise DataError(f"line {n}: split {split!r} is not one of {', '.join(SPLITS)}", path)
        rec = Record(clip_id, str(video), " ".join(str(row["text"]).split()), str(row.get("speaker") or ""), start, end)
        error = "" if video.is_file() else f"video not found: {video}"
        entries.append(Entry(rec, split, error))
    unsplit = [e.record.id for e in entries if not e.split]
    splits = val_fraction_split(unsplit, val_fraction, seed) if unsplit else {}
    for e in entries:
        e.split = e.split or splits[e.record.id]
    return entries
