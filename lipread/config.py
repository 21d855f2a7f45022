"""Configs are dataclasses; recipes are YAML with ``key.sub=value`` overrides.

``build_config(Cls, data)`` turns a nested dict into nested dataclasses and rejects unknown keys
with a close-match hint; ``apply_overrides(data, ["a.b=3"])`` edits a nested dict in place;
``config_to_dict`` goes back, for writing the resolved config into run folders and checkpoints.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

import yaml

from lipread.errors import ConfigError, InputFileError

C = TypeVar("C")


def load_yaml(path: str | os.PathLike) -> dict[str, Any]:
    """Read a YAML mapping; a missing or malformed file is a clear error."""
    path = Path(path)
    if not path.is_file():
        raise InputFileError("config file not found", path, "Check the path to the YAML recipe.")
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"not valid YAML ({exc})", path, "Fix the syntax of the file.") from None
    if not isinstance(data, dict):
        raise ConfigError("the top level must be a mapping of keys to values", path)
    return data


def apply_overrides(data: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Apply ``key.sub=value`` strings to a nested dict (values parsed as YAML scalars/lists)."""
    for item in overrides:
        if "=" not in item:
            raise ConfigError(f"override {item!r} is not of the form key.sub=value")
        key, _, raw = item.partition("=")
        value = yaml.safe_load(raw) if raw != "" else ""
        node = data
        parts = key.strip().split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(f"override {item!r}: {part!r} is not a section")
        node[parts[-1]] = value
    return data


def _resolve_type(tp: Any) -> Any:
    """Strip Optional[...] / X | None so nested dataclasses can be recognised."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return tp


def build_config(cls: type[C], data: dict[str, Any] | None, where: str = "") -> C:
    """Build dataclass ``cls`` from a nested dict; unknown keys raise :class:`ConfigError`."""
    data = dict(data or {})
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"{cls} is not a dataclass")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = [k for k in data if k not in fields]
    if unknown:
        key = unknown[0]
        close = difflib.get_close_matches(key, list(fields), n=1)
        hint = f"Did you mean {where}{close[0]}?" if close else f"Known keys: {', '.join(fields)}."
        raise ConfigError(f"unknown config key {where}{key!r}", fix=hint)
    kwargs = {}
    for name, value in data.items():
        tp = _resolve_type(hints.get(name))
        if dataclasses.is_dataclass(tp) and isinstance(value, dict):
            value = build_config(tp, value, where=f"{where}{name}.")
        elif tp is tuple or typing.get_origin(tp) is tuple:
            value = tuple(value) if isinstance(value, (list, tuple)) else value
        elif tp is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        kwargs[name] = value
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"bad value in config section {where or cls.__name__}: {exc}") from None


def config_to_dict(cfg: Any) -> dict[str, Any]:
    """Nested dataclass -> plain dict of JSON/YAML-safe values (tuples become lists)."""

    def convert(v: Any) -> Any:
        if dataclasses.is_dataclass(v):
            return {f.name: convert(getattr(v, f.name)) for f in dataclasses.fields(v)}
        if isinstance(v, (list, tuple)):
            return [convert(x) for x in v]
        if isinstance(v, dict):
            return {k: convert(x) for k, x in v.items()}
        if isinstance(v, Path):
            return str(v)
        return v

    return convert(cfg)
