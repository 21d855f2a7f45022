"""Training checkpoints: model + optimizer + RNG + progress, as safetensors and JSON (no pickle).

A training checkpoint is a model folder (``lipread.models.checkpoint``) with two more files::

    optimizer.safetensors   every tensor of the optimizer state, keyed "state.<param index>.<name>"
    trainer_state.json      step, epoch, batch index in the epoch, best WER, param groups,
                            RNG states (python, numpy, torch), grad-scaler state

``--resume`` reloads all of it so training continues exactly where it stopped.
"""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from lipread.errors import CheckpointError
from lipread.models.checkpoint import save_model

OPTIMIZER = "optimizer.safetensors"
TRAINER_STATE = "trainer_state.json"


def rng_state() -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """(JSON-able part, tensor part) of every RNG the training loop draws from."""
    py = random.getstate()
    np_state = np.random.get_state()
    meta = {
        "python": [py[0], list(py[1]), py[2]],
        "numpy": [np_state[0], np_state[1].tolist(), int(np_state[2]), int(np_state[3]), float(np_state[4])],
    }
    tensors = {"rng.torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        for i, s in enumerate(torch.cuda.get_rng_state_all()):
            tensors[f"rng.cuda.{i}"] = s
    return meta, tensors


def set_rng_state(meta: dict[str, Any], tensors: dict[str, torch.Tensor]) -> None:
    py = meta["python"]
    random.setstate((py[0], tuple(py[1]), py[2]))
    n = meta["numpy"]
    np.random.set_state((n[0], np.array(n[1], dtype=np.uint32), n[2], n[3], n[4]))
    torch.set_rng_state(tensors["rng.torch"])
    if torch.cuda.is_available():
        states = [tensors[k] for k in sorted(k for k in tensors if k.startswith("rng.cuda."))]
        if len(states) == torch.cuda.device_count():
            torch.cuda.set_rng_state_all(states)


def optimizer_to_safetensors(opt: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], list[dict]]:
    sd = opt.state_dict()
    tensors = {}
    for idx, st in sd["state"].items():
        for name, value in st.items():
            t = value if torch.is_tensor(value) else torch.tensor(value)
            tensors[f"state.{idx}.{name}"] = t.detach().cpu().contiguous()
    groups = [{k: (list(v) if isinstance(v, tuple) else v) for k, v in g.items()} for g in sd["param_groups"]]
    return tensors, groups


def optimizer_from_safetensors(opt: torch.optim.Optimizer, tensors: dict[str, torch.Tensor], groups: list[dict]):
    state: dict[int, dict[str, torch.Tensor]] = {}
    for key, value in tensors.items():
        if not key.startswith("state."):
            continue
        _, idx, name = key.split(".", 2)
        state.setdefault(int(idx), {})[name] = value
    ref_groups = opt.state_dict()["param_groups"]
    fixed = []
    for g, ref in zip(groups, ref_groups):
        g = {k: (tuple(v) if isinstance(ref.get(k), tuple) else v) for k, v in g.items()}
        fixed.append(g)
    opt.load_state_dict({"state": state, "param_groups": fixed})


def save_training_checkpoint(
    path: Path,
    model: torch.nn.Module,
    model_meta: dict[str, Any],
    optimizer: torch.optim.Optimizer,
    progress: dict[str, Any],
    scaler_state: dict[str, Any] | None = None,
) -> Path:
    """Write a resumable checkpoint folder atomically: a model folder plus the training state."""
    opt_tensors, groups = optimizer_to_safetensors(optimizer)
    rng_meta, rng_tensors = rng_state()
    trainer = {**progress, "param_groups": groups, "rng": rng_meta, "scaler": scaler_state}

    def write_state(tmp: Path):
        save_file({**opt_tensors, **rng_tensors}, str(tmp / OPTIMIZER))
        (tmp / TRAINER_STATE).write_text(json.dumps(trainer))

    return save_model(path, model, model_meta, extra=write_state)


def load_training_checkpoint(path: Path, model: torch.nn.Module, optimizer: torch.optim.Optimizer) -> dict:
    """Restore model, optimizer and RNG from ``path``; returns the progress dict (step, epoch, ...)."""
    from lipread.models.checkpoint import load_state

    path = Path(path)
    if not (path / TRAINER_STATE).is_file() or not (path / OPTIMIZER).is_file():
        raise CheckpointError("not a resumable training checkpoint (no optimizer state)", path)
    try:
        trainer = json.loads((path / TRAINER_STATE).read_text())
        tensors = load_file(str(path / OPTIMIZER))
    except Exception as exc:  # noqa: BLE001 - any decoding failure means a corrupt file
        raise CheckpointError(f"training state is corrupt ({exc})", path, "Resume from an earlier checkpoint.") from None
    model.load_state_dict(load_state(path), strict=True)
    optimizer_from_safetensors(optimizer, tensors, trainer["param_groups"])
    set_rng_state(trainer["rng"], tensors)
    return trainer


def list_checkpoints(ckpt_dir: Path) -> list[Path]:
    """Complete step checkpoints in ``ckpt_dir``, oldest first (half-written temp folders are ignored)."""
    if not ckpt_dir.is_dir():
        return []
    done = [p for p in ckpt_dir.glob("step_*") if (p / TRAINER_STATE).is_file()]
    return sorted(done, key=lambda p: int(p.name.split("_")[1]))


def prune_checkpoints(ckpt_dir: Path, keep: int) -> None:
    for old in list_checkpoints(ckpt_dir)[:-keep] if keep > 0 else []:
        shutil.rmtree(old)
