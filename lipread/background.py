"""One call run in a background thread while the caller goes on."""

from __future__ import annotations

import threading


class Background:
    """``fn(*args)`` in a thread; :meth:`result` waits for it (and raises what it raised).

    For work whose native code runs outside the GIL (decoding, the lip encoder) beside other such work."""

    def __init__(self, fn, *args, name: str = "lipread-background"):
        self._out: list = []
        self._error: list = []

        def run() -> None:
            try:
                self._out.append(fn(*args))
            except BaseException as exc:  # noqa: BLE001  (re-raised by result())
                self._error.append(exc)

        self._thread = threading.Thread(target=run, name=name, daemon=True)
        self._thread.start()

    def result(self):
        self._thread.join()
        if self._error:
            raise self._error[0]
        return self._out[0]
