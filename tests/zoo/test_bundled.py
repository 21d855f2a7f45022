"""The zoo ships inside the package: found by name after a normal install, from anywhere.

The slow test builds the sdist from a copy of the checkout, the wheel from that sdist, installs the
wheel into a target folder (no ``-e``, the installed dependencies reused), and transcribes a real
GRID clip from a folder outside the checkout with ``$LIPREAD_MODELS`` unset and an empty ``HOME``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from lipread.cli.main import main
from lipread.models import zoo

REPO = Path(__file__).resolve().parents[2]


def readme_models() -> set[str]:
    """The zoo models the README names (``models/<name>``)."""
    return set(re.findall(r"models/([a-z0-9][a-z0-9._-]*[a-z0-9])", (REPO / "README.md").read_text()))


def load_setup():
    """setup.py's helpers, without running setup()."""
    import importlib.util
    from unittest import mock

    spec = importlib.util.spec_from_file_location("lipread_setup", REPO / "setup.py")
    module = importlib.util.module_from_spec(spec)
    with mock.patch("setuptools.setup"):
        spec.loader.exec_module(module)
    return module


def test_checkout_models_are_found_with_their_source(monkeypatch, tmp_path):
    monkeypatch.delenv("LIPREAD_MODELS", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    entry = zoo.find_model(zoo.DEFAULT_MODEL)
    assert entry is not None and entry.source == "checkout" and entry.path == REPO / "models" / zoo.DEFAULT_MODEL
    # $LIPREAD_MODELS comes first
    own = tmp_path / "mine" / zoo.DEFAULT_MODEL
    own.mkdir(parents=True)
    (own / "config.json").write_text("{}")
    monkeypatch.setenv("LIPREAD_MODELS", str(own.parent))
    assert zoo.find_model(zoo.DEFAULT_MODEL).source == "$LIPREAD_MODELS"
    assert zoo.resolve_model(zoo.DEFAULT_MODEL) == own


def test_installed_package_finds_its_bundled_models(monkeypatch, tmp_path):
    """Outside a checkout the package's own folder is searched, and site-packages/models is not."""
    monkeypatch.delenv("LIPREAD_MODELS", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    bundled = tmp_path / "site" / "lipread" / "models" / "bundled"
    (bundled / "some-model").mkdir(parents=True)
    (bundled / "some-model" / "config.json").write_text("{}")
    monkeypatch.setattr(zoo, "_checkout_dir", lambda: None)
    monkeypatch.setattr(zoo, "PACKAGE_DIR", bundled)
    assert [(e.name, e.source) for e in zoo.zoo_entries()] == [("some-model", "package")]
    assert zoo.resolve_model("some-model") == bundled / "some-model"


def test_models_command_shows_where_zoo_models_were_found(capsys, monkeypatch):
    monkeypatch.delenv("LIPREAD_MODELS", raising=False)
    assert main(["models", zoo.DEFAULT_MODEL]) == 0
    out = capsys.readouterr().out
    line = next(ln for ln in out.splitlines() if ln.strip().startswith(zoo.DEFAULT_MODEL))
    assert line.split()[-2:] == ["checkout", str(REPO / "models" / zoo.DEFAULT_MODEL)]


def test_build_ships_every_named_model_and_refuses_training_state(tmp_path):
    setup = load_setup()
    names = readme_models()
    assert zoo.DEFAULT_MODEL in names
    shipped = {f.parent.name for f in setup.model_files()}
    assert names <= shipped, f"models the README names but the build would not ship: {names - shipped}"
    bad = tmp_path / "m" / "x"
    bad.mkdir(parents=True)
    (bad / "config.json").write_text("{}")
    (bad / "optimizer.pt").write_bytes(b"\0")
    with pytest.raises(SystemExit, match="training state"):
        setup.model_files(tmp_path / "m")


IGNORE = shutil.ignore_patterns(".git", ".venv*", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache",
                                ".ruff_cache", "runs", "transcripts", "data", "out")


@pytest.mark.slow
@pytest.mark.grid
def test_wheel_installs_and_transcribes_outside_the_checkout(grid_clips, tmp_path):
    py = sys.executable
    quiet = {"stdout": subprocess.PIPE, "stderr": subprocess.STDOUT, "text": True}
    src = tmp_path / "src"
    shutil.copytree(REPO, src, ignore=IGNORE)
    dist = tmp_path / "dist"
    r = subprocess.run([py, "-c", f"from setuptools import build_meta as b; print(b.build_sdist({str(dist)!r}))"],
                       cwd=src, **quiet)
    assert r.returncode == 0, r.stdout
    sdist = dist / r.stdout.strip().splitlines()[-1]
    with tarfile.open(sdist) as tar:
        names = tar.getnames()
        tar.extractall(tmp_path / "sdist", filter="data")
    assert any(n.endswith(f"models/{zoo.DEFAULT_MODEL}/model.safetensors") for n in names)
    r = subprocess.run([py, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(dist),
                        str(tmp_path / "sdist" / sdist.name.removesuffix(".tar.gz"))], **quiet)
    assert r.returncode == 0, r.stdout
    wheel = next(dist.glob("*.whl"))
    # two zoo models in fp16 (lipnet-grid-s1 6 MB, wlas-grid-s1 10 MB) and the code; no training state
    assert wheel.stat().st_size < 25 * 2**20, "the wheel should stay lean (fp16 weights, no training state)"
    target = tmp_path / "site"
    r = subprocess.run([py, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), str(wheel)], **quiet)
    assert r.returncode == 0, r.stdout
    assert (target / "lipread" / "models" / "bundled" / zoo.DEFAULT_MODEL / "model.safetensors").is_file()

    clip = grid_clips[0]
    home, work = tmp_path / "home", tmp_path / "elsewhere"
    home.mkdir()
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("LIPREAD_MODELS", "PYTHONPATH")}
    env.update(HOME=str(home), PYTHONPATH=str(target), OMP_NUM_THREADS="1")
    r = subprocess.run([str(target / "bin" / "lipread"), "transcribe", str(clip), "-f", "txt", "-o", "out"],
                       cwd=work, env=env, **quiet)
    assert r.returncode == 0, r.stdout
    installed = (work / "out" / f"{clip.stem}.txt").read_text().strip()
    r = subprocess.run([py, "-c", "import lipread, sys; print(lipread.__file__)"], cwd=work, env=env, **quiet)
    assert r.stdout.strip().startswith(str(target)), r.stdout  # the installed copy ran, not the checkout
    r = subprocess.run([str(target / "bin" / "lipread"), "models", zoo.DEFAULT_MODEL], cwd=work, env=env, **quiet)
    line = next(ln for ln in r.stdout.splitlines() if ln.strip().startswith(zoo.DEFAULT_MODEL))
    assert line.split()[-2] == "package", r.stdout
    assert not any(home.rglob("*.safetensors")), "nothing should be downloaded"

    from lipread.pipelines.transcribe import transcribe

    checkout = transcribe(clip).text
    assert installed and installed == checkout
