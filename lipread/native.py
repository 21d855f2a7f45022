"""Keeping native (C/C++) libraries' stderr chatter off the user's terminal.

mediapipe's graphs and KenLM's ARPA reader write warnings and progress bars straight to file
descriptor 2, below Python's logging. :func:`native_stderr_to` points fd 2 elsewhere for the
duration of a call; Python exceptions are unaffected (they propagate after fd 2 is restored).
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from typing import IO

_LOCK = threading.Lock()
_DEPTH = 0
_SAVED: int | None = None  # the real fd 2 while any thread is inside a redirect
_QUIET: int | None = None  # /dev/null, where fd 2 points between the redirects of several threads


@contextlib.contextmanager
def native_stderr_to(sink: IO[bytes] | None = None):
    """Send fd 2 to ``sink`` (an open binary file, e.g. a ``TemporaryFile`` to read an error from),
    or to /dev/null when ``sink`` is None, until the block ends.

    Safe from several threads at once (the landmark model runs in two): fd 2 is the process's, so the real
    one is saved by the first thread in and restored by the last one out; while others are still inside,
    a thread that leaves points fd 2 at /dev/null (what they asked for, or near enough: a sink misses the
    lines written after it closed)."""
    global _DEPTH, _SAVED, _QUIET
    with _LOCK:
        try:
            sys.stderr.flush()
            if _DEPTH == 0:
                _SAVED = os.dup(2)
                _QUIET = os.open(os.devnull, os.O_WRONLY)
        except (OSError, ValueError):  # no usable fd 2 (embedded interpreters): leave it alone
            usable = False
        else:
            usable = True
            target = _QUIET if sink is None else sink.fileno()
            os.dup2(target, 2)
            _DEPTH += 1
    if not usable:
        yield
        return
    try:
        yield
    finally:
        with _LOCK:
            _DEPTH -= 1
            if _DEPTH == 0:
                os.dup2(_SAVED, 2)
                os.close(_SAVED)
                os.close(_QUIET)
                _SAVED = _QUIET = None
            else:
                os.dup2(_QUIET, 2)
