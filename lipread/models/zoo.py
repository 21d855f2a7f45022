"""The model zoo: published models by name (``lipnet-grid-s1``) or any checkpoint folder by path.

Names are looked up, in order, in ``$LIPREAD_MODELS``, the repository's ``models/`` folder (in a
source checkout or an editable install), the models bundled inside the installed package
(``lipread/models/bundled/``, copied there from ``models/`` when the wheel is built, see setup.py)
and ``~/.cache/lipread/models``. The first folder holding a name wins. Each zoo entry is a
checkpoint folder (``model.safetensors`` + ``config.json``) with a ``README.md`` model card.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from lipread.errors import CheckpointError

DEFAULT_MODEL = "wlas-grid-s1"
"""What `lipread transcribe` and `lipread.transcribe` read with when no model is named: the best GRID
speaker-1 reader (lips and sound when the file has sound, else the lips alone). ``lipnet-grid-s1``, the
previous default, still resolves."""

PACKAGE_DIR = Path(__file__).resolve().parent / "bundled"
"""Where a built wheel carries the zoo (absent in a checkout, whose ``models/`` is the one copy)."""


@dataclass(frozen=True)
class ZooEntry:
    """A zoo model found by name: ``source`` is where it was found ("$LIPREAD_MODELS", "checkout",
    "package", "cache"), ``path`` its folder."""

    name: str
    path: Path
    source: str


def _checkout_dir() -> Path | None:
    """The repository's ``models/`` when this package runs from a source checkout, else None
    (an installed package's ``parents[2]`` is site-packages, whose ``models`` may be anyone's)."""
    root = Path(__file__).resolve().parents[2]
    if (root / "pyproject.toml").is_file() and (root / "lipread" / "models" / "zoo.py").is_file():
        return root / "models"
    return None


def zoo_sources() -> list[tuple[str, Path]]:
    """``(source, folder)`` pairs searched for zoo names, in order."""
    dirs = []
    if os.environ.get("LIPREAD_MODELS"):
        dirs.append(("$LIPREAD_MODELS", Path(os.environ["LIPREAD_MODELS"])))
    checkout = _checkout_dir()
    if checkout is not None:
        dirs.append(("checkout", checkout))
    dirs.append(("package", PACKAGE_DIR))
    dirs.append(("cache", Path.home() / ".cache" / "lipread" / "models"))
    return dirs


def zoo_dirs() -> list[Path]:
    return [d for _, d in zoo_sources()]


def zoo_entries() -> list[ZooEntry]:
    """Every model found by name, sorted, each from the first folder that holds it."""
    found: dict[str, ZooEntry] = {}
    for source, d in zoo_sources():
        if d.is_dir():
            for p in sorted(d.iterdir()):
                if p.name not in found and (p / "config.json").is_file():
                    found[p.name] = ZooEntry(p.name, p, source)
    return [found[n] for n in sorted(found)]


def list_zoo() -> list[str]:
    return [e.name for e in zoo_entries()]


def find_model(name: str) -> ZooEntry | None:
    """The zoo entry for ``name``, or None."""
    for source, d in zoo_sources():
        if (d / name / "config.json").is_file():
            return ZooEntry(name, d / name, source)
    return None


def resolve_model(name_or_path: str | os.PathLike) -> Path:
    """A checkpoint folder for a zoo name or a path; a clear error when neither exists."""
    path = Path(name_or_path)
    if path.exists():
        return path
    if os.sep not in str(name_or_path):
        entry = find_model(str(name_or_path))
        if entry is not None:
            return entry.path
    known = ", ".join(list_zoo()) or "none installed"
    raise CheckpointError(
        "no such model folder or zoo model", name_or_path, f"Give a checkpoint folder or a zoo name ({known})."
    )
