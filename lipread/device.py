"""Choosing the compute device: ``auto`` (CUDA when there is one, else CPU), ``cpu``, ``cuda``, ``cuda:N``, ``mps``.

The same rules for every command and the Python API, checked before any work starts: a name that is
not a device is a usage error; a device this machine or this PyTorch build does not have says so.
"""

from __future__ import annotations

import re

from lipread.errors import DeviceError, UsageError

DEVICE_HELP = "auto (CUDA when available, else CPU) | cpu | cuda | cuda:N | mps"
_PATTERN = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")


def check_device_name(name: str) -> str:
    """``name`` lower-cased, or a :class:`UsageError` when it is not a device name (no torch import)."""
    value = str(name).strip().lower()
    if not _PATTERN.match(value):
        raise UsageError(f"unknown device {name!r}", fix=f"Use {DEVICE_HELP}.")
    return value


def resolve_device(name: str = "auto"):
    """The :class:`torch.device` for ``name``; a :class:`DeviceError` when it is not available here."""
    import torch

    value = check_device_name(name)
    if value == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if value.startswith("cuda"):
        if not torch.backends.cuda.is_built():
            raise DeviceError(f"device {name!r} asked for, but this PyTorch is built without CUDA",
                              fix="Use --device cpu (or auto), or install a CUDA build of PyTorch.")
        if not torch.cuda.is_available():
            raise DeviceError(f"device {name!r} asked for, but no CUDA GPU is visible",
                              fix="Use --device cpu (or auto), or check the driver and CUDA_VISIBLE_DEVICES.")
        index = int(value.split(":")[1]) if ":" in value else 0
        if index >= torch.cuda.device_count():
            raise DeviceError(f"device {name!r} asked for, but there are {torch.cuda.device_count()} CUDA GPU(s)",
                              fix="Use cuda:0 .. cuda:N-1, or --device auto.")
    if value == "mps" and not (hasattr(torch.backends, "mps") and torch.backends.mps.is_available()):
        raise DeviceError("device 'mps' asked for, but Apple MPS is not available here", fix="Use --device cpu or auto.")
    return torch.device(value)
