"""The model zoo: published models by name (``lipnet-grid-s1``) or any checkpoint folder by path.

Names are looked up, in order, in ``$LIPREAD_MODELS``, the repository's ``models/`` folder (for a
source checkout), and ``~/.cache/lipread/models``. Each zoo entry is a checkpoint folder
(``model.safetensors`` + ``config.json``) with a ``README.md`` model card.
"""

from __future__ import annotations

import os
from pathlib import Path

from lipread.errors import CheckpointError

DEFAULT_MODEL = "lipnet-grid-s1"


def zoo_dirs() -> list[Path]:
    dirs = []
    if os.environ.get("LIPREAD_MODELS"):
        dirs.append(Path(os.environ["LIPREAD_MODELS"]))
    dirs.append(Path(__file__).resolve().parents[2] / "models")
    dirs.append(Path.home() / ".cache" / "lipread" / "models")
    return dirs


def list_zoo() -> list[str]:
    names = set()
    for d in zoo_dirs():
        if d.is_dir():
            names.update(p.name for p in d.iterdir() if (p / "config.json").is_file())
    return sorted(names)


def resolve_model(name_or_path: str | os.PathLike) -> Path:
    """A checkpoint folder for a zoo name or a path; a clear error when neither exists."""
    path = Path(name_or_path)
    if path.exists():
        return path
    if os.sep not in str(name_or_path):
        for d in zoo_dirs():
            if (d / str(name_or_path) / "config.json").is_file():
                return d / str(name_or_path)
    known = ", ".join(list_zoo()) or "none installed"
    raise CheckpointError(
        "no such model folder or zoo model", name_or_path, f"Give a checkpoint folder or a zoo name ({known})."
    )
