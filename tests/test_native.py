"""Redirecting native stderr (fd 2) away from the terminal and back."""

from __future__ import annotations

import os
import tempfile

import pytest

from lipread.native import native_stderr_to


def test_silenced_then_restored(capfd):
    with native_stderr_to(None):
        os.write(2, b"hidden\n")
    os.write(2, b"visible\n")
    err = capfd.readouterr().err
    assert "visible" in err and "hidden" not in err


def test_captured_into_a_sink_even_when_the_block_raises(capfd):
    with tempfile.TemporaryFile() as sink:
        with pytest.raises(RuntimeError, match="load failed"), native_stderr_to(sink):
            os.write(2, b"kenlm says no\n")
            raise RuntimeError("load failed")
        sink.seek(0)
        assert sink.read() == b"kenlm says no\n"
    os.write(2, b"back\n")
    assert "back" in capfd.readouterr().err


def test_threads_that_overlap_leave_stderr_restored(capfd):
    """Two threads silence fd 2 at once (the two landmark trackers): whatever order they leave in, fd 2 ends
    where it was, and nothing written inside either block shows."""
    import threading

    inside, release = threading.Barrier(2), threading.Event()

    def silent(wait: bool) -> None:
        with native_stderr_to(None):
            inside.wait()
            os.write(2, b"hidden\n")
            if wait:
                release.wait()
    first = threading.Thread(target=silent, args=(True,))
    second = threading.Thread(target=silent, args=(False,))
    first.start()
    second.start()
    second.join()  # the second leaves while the first is still inside: fd 2 stays quiet
    os.write(2, b"still hidden\n")
    release.set()
    first.join()
    os.write(2, b"visible\n")
    err = capfd.readouterr().err
    assert "visible" in err and "hidden" not in err
