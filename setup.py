"""Build step that puts the model zoo inside the package (everything else is in pyproject.toml).

The checkout keeps one copy of each published model, in ``models/<name>/``. Building a wheel copies
those folders to ``lipread/models/bundled/<name>/``, where :mod:`lipread.models.zoo` finds them after
a normal install; the sdist carries ``models/`` (MANIFEST.in), so a wheel built from it has them too.
Only the files a model needs to run are copied (weights, configs, vocabulary, lexicon, LM, card);
anything else, such as training state, stays out and fails the build if it is a checkpoint file.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
MODELS = ROOT / "models"
BUNDLED = Path("lipread", "models", "bundled")
SHIPPED = {".safetensors", ".json", ".txt", ".arpa", ".md"}
REFUSED = {".pt", ".pth", ".ckpt", ".bin", ".pkl"}  # training state / pickles never ship


def model_files(models: Path = MODELS) -> list[Path]:
    """The files of every zoo model folder (one with a config.json) under ``models``."""
    files = []
    for folder in sorted(p for p in models.iterdir() if (p / "config.json").is_file()) if models.is_dir() else []:
        for f in sorted(folder.iterdir()):
            if f.suffix in REFUSED or f.name.startswith(("optimizer", "trainer_state")):
                raise SystemExit(f"{f}: training state must not ship in the package; remove it from models/")
            if f.is_file() and f.suffix in SHIPPED:
                files.append(f)
    return files


class BuildPyWithModels(build_py):
    def run(self):
        super().run()
        for f in model_files():
            dest = Path(self.build_lib) / BUNDLED / f.parent.name / f.name
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(f, dest)


setup(cmdclass={"build_py": BuildPyWithModels})
