"""Reading and writing transcript files for scoring.

Two formats, chosen by content: ``utterance-id text`` lines (text may be empty), or JSONL with
``id`` and ``text`` keys (any line starting with ``{``). Blank lines and ``#`` comments are skipped.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from lipread.errors import DataError, InputFileError


def read_transcripts(path: str | os.PathLike) -> dict[str, str]:
    """Read a transcript file into ``{id: text}`` in file order; duplicate ids are an error."""
    path = Path(path)
    if not path.is_file():
        raise InputFileError("transcript file not found", path, "Check the path.")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        raise DataError("not a UTF-8 text file", path, "Give a text file of 'id text' lines or JSONL.") from None
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


def match_ids(ref: dict[str, str], hyp: dict[str, str], ref_path, hyp_path) -> list[str]:
    """Ids in reference order; ids present in only one file are an error that lists them."""
    only_ref = [k for k in ref if k not in hyp]
    only_hyp = [k for k in hyp if k not in ref]
    if only_ref or only_hyp:
        parts = []
        for name, ids in ((ref_path, only_ref), (hyp_path, only_hyp)):
            if ids:
                shown = ", ".join(ids[:10]) + (f" and {len(ids) - 10} more" if len(ids) > 10 else "")
                parts.append(f"{len(ids)} only in {name}: {shown}")
        raise DataError("utterance ids differ: " + "; ".join(parts), fix="Both files must hold the same ids.")
    return list(ref)
