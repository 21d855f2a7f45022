"""A small name -> builder registry, in the style of timm and torchvision.

Models, landmark backends, decoders and output writers each keep one ``Registry``.
"""

from __future__ import annotations

import difflib
import fnmatch
from collections.abc import Callable
from typing import Generic, TypeVar

from lipread.errors import ConfigError

T = TypeVar("T")


class Registry(Generic[T]):
    """Maps names to objects (usually builder functions or classes).

    >>> writers = Registry("output writer")
    >>> @writers.register("txt")
    ... class TxtWriter: ...
    >>> writers.get("txt") is TxtWriter
    True
    """

    def __init__(self, kind: str):
        self.kind = kind
        self._items: dict[str, T] = {}

    def register(self, name: str | None = None) -> Callable[[T], T]:
        """Decorator registering an object under ``name`` (default: its ``__name__``).

        Registering a name twice is an error, so two modules cannot silently shadow each other.
        """

        def decorator(obj: T) -> T:
            key = name or obj.__name__  # type: ignore[attr-defined]
            if key in self._items:
                raise ValueError(f"{self.kind} {key!r} is already registered")
            self._items[key] = obj
            return obj

        return decorator

    def get(self, name: str) -> T:
        """The object registered as ``name``; a :class:`ConfigError` with close matches otherwise."""
        try:
            return self._items[name]
        except KeyError:
            close = difflib.get_close_matches(name, list(self._items), n=3)
            hint = f"did you mean {', '.join(close)}?" if close else f"known: {', '.join(sorted(self._items))}"
            raise ConfigError(f"unknown {self.kind} {name!r}", fix=hint.capitalize()) from None

    def list(self, pattern: str = "*") -> list[str]:
        """Sorted registered names matching the shell-style ``pattern``."""
        return sorted(n for n in self._items if fnmatch.fnmatch(n, pattern))

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __len__(self) -> int:
        return len(self._items)
