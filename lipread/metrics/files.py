"""Reading and writing transcript files for scoring.

Three formats, chosen per line: ``id<TAB>text`` (what ``lipread transcribe`` prints, the id being
the video's path), ``id text`` (the first space separates), or JSONL with ``id`` and ``text`` keys (a
line starting with ``{``). Text may be empty. Blank lines and ``#`` comments are skipped. ``-`` reads stdin.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path, PurePath

from lipread.errors import DataError, InputFileError


def read_transcripts(path: str | os.PathLike) -> dict[str, str]:
    """Read a transcript file (``-``: stdin) into ``{id: text}`` in file order; duplicate ids are an error."""
    if str(path) == "-":
        path, lines = "<stdin>", sys.stdin.read().splitlines()
    else:
        path = Path(path)
        if not path.is_file():
            raise InputFileError("transcript file not found", path, "Check the path.")
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except UnicodeDecodeError:
            raise DataError("not a UTF-8 text file", path,
                            "Give a text file of 'id text' or 'id<TAB>text' lines, or JSONL.") from None
    out: dict[str, str] = {}
    for lineno, line in enumerate(lines, 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("{"):
            try:
                row = json.loads(stripped)
                uid, text = str(row["id"]), str(row.get("text") or "")
            except (json.JSONDecodeError, KeyError, TypeError):
                raise DataError(
                    f"line {lineno} is not a JSON object with 'id' and 'text'", path, "Fix or remove that line."
                ) from None
        elif "\t" in line:
            uid, _, text = line.strip("\r\n").partition("\t")
            uid, text = uid.strip(), text.strip()
        else:
            uid, _, text = stripped.partition(" ")
            text = text.strip()
        if uid in out:
            raise DataError(f"utterance id {uid!r} appears twice (line {lineno})", path, "Ids must be unique.")
        out[uid] = text
    return out


def write_transcripts(path: str | os.PathLike, rows: dict[str, str]) -> None:
    """Write ``id text`` lines (the format ``lipread score`` reads)."""
    with open(path, "w", encoding="utf-8") as f:
        for uid, text in rows.items():
            f.write(f"{uid} {text}\n")


def _stem(uid: str) -> str:
    """``/data/s1/bbaf2n.mp4`` -> ``bbaf2n``: a path id reduced to its file name without extension."""
    return PurePath(uid).stem if ("/" in uid or "\\" in uid or PurePath(uid).suffix) else uid


def _by_stem(rows: dict[str, str]) -> dict[str, str] | None:
    out: dict[str, str] = {}
    for uid, text in rows.items():
        key = _stem(uid)
        if key in out:
            return None
        out[key] = text
    return out


def match_ids(ref: dict[str, str], hyp: dict[str, str], ref_path, hyp_path) -> list[str]:
    """Ids in reference order; ids present in only one file are an error that lists them.

    When the ids differ only by folder and extension (``bbaf2n`` against ``/data/s1/bbaf2n.mp4``, as
    ``lipread transcribe`` prints them) and these short names are unique, ``ref`` and ``hyp`` are
    re-keyed in place by the short names.
    """
    if ref.keys() != hyp.keys():
        ref_stems, hyp_stems = _by_stem(ref), _by_stem(hyp)
        if ref_stems is not None and hyp_stems is not None and ref_stems.keys() == hyp_stems.keys():
            ref.clear()
            ref.update(ref_stems)
            hyp.clear()
            hyp.update(hyp_stems)
    only_ref = [k for k in ref if k not in hyp]
    only_hyp = [k for k in hyp if k not in ref]
    if only_ref or only_hyp:
        parts = []
        for name, ids in ((ref_path, only_ref), (hyp_path, only_hyp)):
            if ids:
                shown = ", ".join(ids[:10]) + (f" and {len(ids) - 10} more" if len(ids) > 10 else "")
                parts.append(f"{len(ids)} only in {'<stdin>' if str(name) == '-' else name}: {shown}")
        raise DataError("utterance ids differ: " + "; ".join(parts), fix="Both files must hold the same ids.")
    return list(ref)
