"""Checkpoints: ``safetensors`` weights plus JSON. Nothing here unpickles anything.

A checkpoint (and a zoo model) is a folder::

    model.safetensors   the weights (any float dtype; loaded into the model's dtype)
    config.json         {"format": "lipread-model", "version": 1,
                         "model": {"name": registered builder, "args": {...}},
                         "tokenizer": {...}, "preprocess": {...}, "decoder": {...}, ...}

``config.json`` may carry any other JSON sections (training config, metrics, card data).
Folders are written atomically: into a temporary sibling, then renamed into place.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError as SafetensorsError
from safetensors.torch import load_file, save_file

from lipread.errors import CheckpointError

FORMAT = "lipread-model"
VERSION = 1
WEIGHTS = "model.safetensors"
CONFIG = "config.json"


def state_dict_for_saving(model: torch.nn.Module, dtype: torch.dtype | None = None) -> dict[str, torch.Tensor]:
    """Contiguous CPU tensors (shared storage de-duplicated by cloning), floats cast to ``dtype``."""
    out = {}
    for k, v in model.state_dict().items():
        v = v.detach().cpu()
        if dtype is not None and v.is_floating_point():
            v = v.to(dtype)
        out[k] = v.contiguous().clone()
    return out


def atomic_write_dir(final: Path, write) -> Path:
    """Call ``write(tmpdir)`` then move ``tmpdir`` to ``final``, replacing it; never half-written."""
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=final.parent))
    umask = os.umask(0)
    os.umask(umask)
    tmp.chmod(0o777 & ~umask)  # mkdtemp makes it private; a checkpoint folder gets the usual permissions
    try:
        write(tmp)
        old = None
        if final.exists():
            old = final.with_name(f".{final.name}.old")
            if old.exists():
                shutil.rmtree(old)
            final.rename(old)
        tmp.rename(final)
        if old is not None:
            shutil.rmtree(old)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


def save_model(
    path: str | os.PathLike,
    model: torch.nn.Module,
    meta: dict[str, Any] | None = None,
    dtype: torch.dtype | None = None,
    extra: Callable[[Path], None] | None = None,
) -> Path:
    """Write ``model`` and ``meta`` as a checkpoint folder. ``model.lipread_spec`` must exist
    (set by :func:`lipread.models.create_model`) unless ``meta`` has a ``model`` section.
    ``extra(folder)`` may write more files into the folder before it is moved into place
    (training checkpoints add the optimizer state this way)."""
    meta = dict(meta or {})
    spec = meta.get("model") or getattr(model, "lipread_spec", None)
    if not spec:
        raise ValueError("model has no lipread_spec; build it with lipread.models.create_model")
    config = {"format": FORMAT, "version": VERSION, **meta, "model": spec}
    tensors = state_dict_for_saving(model, dtype)

    def write(tmp: Path):
        save_file(tensors, str(tmp / WEIGHTS), metadata={"format": "pt"})
        (tmp / CONFIG).write_text(json.dumps(config, indent=2))
        if extra is not None:
            extra(tmp)

    return atomic_write_dir(Path(path), write)


def read_config(path: str | os.PathLike) -> dict[str, Any]:
    """Read and check a checkpoint folder's ``config.json``."""
    path = Path(path)
    if not path.exists():
        raise CheckpointError("checkpoint not found", path, "Give a checkpoint folder or a zoo model name.")
    if not path.is_dir():
        raise CheckpointError(
            "not a lipread checkpoint (expected a folder with model.safetensors and config.json)", path
        )
    cfg_file = path / CONFIG
    if not cfg_file.is_file():
        raise CheckpointError(f"no {CONFIG} in the checkpoint folder", path, "Is this a lipread model folder?")
    try:
        config = json.loads(cfg_file.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"{CONFIG} is corrupt ({exc})", path, "Re-save or re-download the model.") from None
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise CheckpointError(f"{CONFIG} is not a lipread model config", path)
    if config.get("version", 0) > VERSION:
        raise CheckpointError(
            f"checkpoint format version {config['version']} is newer than this lipread understands",
            path,
            "Upgrade lipread.",
        )
    if not isinstance(config.get("model"), dict) or "name" not in config["model"]:
        raise CheckpointError("config.json has no model section", path)
    return config


def load_state(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Read ``model.safetensors`` of a checkpoint folder (or a .safetensors file)."""
    path = Path(path)
    file = path / WEIGHTS if path.is_dir() else path
    if not file.is_file():
        raise CheckpointError("weights file not found", file, "The checkpoint is incomplete; save it again.")
    try:
        return load_file(str(file))
    except (SafetensorsError, OSError, ValueError) as exc:
        raise CheckpointError(f"weights are corrupt ({exc})", file, "Re-save or re-download the model.") from None


def load_model(path: str | os.PathLike, device: str | torch.device = "cpu") -> tuple[torch.nn.Module, dict[str, Any]]:
    """Rebuild a model from a checkpoint folder alone; returns ``(model in eval mode, config)``."""
    from lipread.models.registry import create_model

    config = read_config(path)
    spec = config["model"]
    model = create_model(spec["name"], **spec.get("args", {}))
    state = load_state(path)
    ref = model.state_dict()
    state = {k: v.to(ref[k].dtype) if k in ref and v.is_floating_point() else v for k, v in state.items()}
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        first = str(exc).splitlines()[0] if str(exc) else "mismatch"
        raise CheckpointError(f"weights do not fit model {spec['name']!r} ({first})", path) from None
    return model.to(device).eval(), config


def init_from(model: torch.nn.Module, path: str | os.PathLike) -> list[str]:
    """Start ``model`` from the weights of checkpoint folder ``path`` (fine-tuning).

    Every weight of the checkpoint must fit the model (same name and shape). Parameters the model has
    and the checkpoint lacks (a head added for fine-tuning) keep their fresh initialisation and are
    returned by name.
    """
    state = load_state(path)
    ref = model.state_dict()
    wrong: list[str] = []
    # a model may take another's weights under a prefix (WLAS's Watch encoder takes a LipNet's: "watch.")
    for prefix in getattr(model, "init_prefixes", ("",)):
        moved = {prefix + k: v for k, v in state.items()}
        bad = [k for k, v in moved.items() if k not in ref or ref[k].shape != v.shape]
        if not bad:
            state, wrong = moved, []
            break
        wrong = wrong or bad
    if wrong:
        raise CheckpointError(f"weights do not fit model {getattr(model, 'lipread_spec', {}).get('name', '')!r} "
                              f"({len(wrong)} mismatched, e.g. {wrong[0]})", path,
                              "Fine-tune from a checkpoint of the same architecture and sizes.")
    state = {k: v.to(ref[k].dtype) if v.is_floating_point() else v for k, v in state.items()}
    missing, _ = model.load_state_dict(state, strict=False)
    return list(missing)


def average_checkpoints(paths: list[str | os.PathLike], out: str | os.PathLike) -> Path:
    """Write the mean of the weights of checkpoint folders ``paths`` (the same model, e.g. the last
    checkpoints of one run) to ``out``: checkpoint averaging, a cheap ensemble of one model (Vaswani et al.
    2017; auto_avsr averages its last ten). Integer buffers (e.g. BatchNorm's batch counts) come from the
    last folder; so does the config, with ``averaged_from`` naming the folders."""
    if not paths:
        raise ValueError("give at least one checkpoint folder to average")
    configs = [read_config(p) for p in paths]
    for p, c in zip(paths, configs):
        if c["model"] != configs[0]["model"]:
            raise CheckpointError("a different model than the first checkpoint: weights cannot be averaged", p,
                                  "Average checkpoints of one run (one architecture and size).")
    states = [load_state(p) for p in paths]
    keys = set(states[0])
    for p, s in zip(paths, states):
        if set(s) != keys:
            raise CheckpointError("its weights do not match the first checkpoint's", p)
    mean = {}
    for k, last in states[-1].items():
        if last.is_floating_point():
            mean[k] = (sum(s[k].double() for s in states) / len(states)).to(last.dtype)
        else:
            mean[k] = last
    config = {**configs[-1], "averaged_from": [str(p) for p in paths]}

    def write(tmp: Path):
        save_file(mean, str(tmp / WEIGHTS), metadata={"format": "pt"})
        (tmp / CONFIG).write_text(json.dumps(config, indent=2))

    return atomic_write_dir(Path(out), write)
