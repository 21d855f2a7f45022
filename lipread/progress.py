"""Progress bars, one convention for every command: on stderr, drawn only when stderr is a terminal
(tqdm's ``disable=None``), never with ``-q`` (:func:`set_progress` ``(False)``)."""

from __future__ import annotations

from typing import Any

_ENABLED: bool | None = None  # None: only on a terminal; False: never


def set_progress(enabled: bool | None) -> None:
    """``None`` (default): bars only when stderr is a terminal; ``False``: no bars at all."""
    global _ENABLED
    _ENABLED = None if enabled else False if enabled is False else None


def progress_bar(iterable: Any = None, *, disable: bool = False, **kwargs: Any):
    """A :class:`tqdm.tqdm` that follows the convention; ``disable=True`` turns this one off too."""
    from tqdm import tqdm

    off: bool | None = True if (disable or _ENABLED is False) else None
    kwargs.setdefault("dynamic_ncols", True)
    return tqdm(iterable, disable=off, **kwargs)
