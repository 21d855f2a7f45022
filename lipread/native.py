"""Keeping native (C/C++) libraries' stderr chatter off the user's terminal.

mediapipe's graphs and KenLM's ARPA reader write warnings and progress bars straight to file
descriptor 2, below Python's logging. :func:`native_stderr_to` points fd 2 elsewhere for the
duration of a call; Python exceptions are unaffected (they propagate after fd 2 is restored).
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import IO


@contextlib.contextmanager
def native_stderr_to(sink: IO[bytes] | None = None):
    """Send fd 2 to ``sink`` (an open binary file, e.g. a ``TemporaryFile`` to read an error from),
    or to /dev/null when ``sink`` is None, until the block ends."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no usable fd 2 (embedded interpreters): leave it alone
        yield
        return
    target = os.open(os.devnull, os.O_WRONLY) if sink is None else os.dup(sink.fileno())
    try:
        os.dup2(target, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(target)
