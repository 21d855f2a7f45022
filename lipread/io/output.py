"""Checking output locations before any work starts.

A command that will write files checks first that it can: the folder is created (with its parents)
and a probe file is written and removed in it. A location under a regular file, on a read-only file
system or in a pseudo file system such as ``/proc`` or ``/sys`` fails here, with one clear message,
instead of after the model has run.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from lipread.errors import OutputError


def _fail(path: Path, exc: OSError, flag: str | None) -> OutputError:
    reason = exc.strerror or exc.__class__.__name__
    where = f" with {flag}" if flag else ""
    return OutputError(f"cannot write here ({reason.lower()})", path, f"Choose a folder you can write to{where}.")


def ensure_output_dir(path: str | os.PathLike, flag: str | None = None) -> Path:
    """Create folder ``path`` if needed and check that a file can be written in it; returns it.

    ``flag`` names the option that set the location (``-o``), for the fix in the message.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise OutputError("is a file, not a folder", path, f"Give a folder{' with ' + flag if flag else ''}.")
    try:
        path.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".lipread-write-check-", dir=path)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise _fail(path, exc, flag) from None
    return path


def ensure_output_file(path: str | os.PathLike, flag: str | None = None) -> Path:
    """Check that file ``path`` can be written (its folder is created); returns it."""
    path = Path(path)
    if path.is_dir():
        raise OutputError("is a folder, not a file", path, f"Give a file name{' with ' + flag if flag else ''}.")
    ensure_output_dir(path.parent if str(path.parent) else Path("."), flag)
    return path
