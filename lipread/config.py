"""Configs are dataclasses; recipes are YAML with ``key.sub=value`` overrides.

``build_config(Cls, data)`` turns a nested dict into nested dataclasses and rejects unknown keys
with a close-match hint; ``apply_overrides(data, ["a.b=3"])`` edits a nested dict in place;
``config_to_dict`` goes back, for writing the resolved config into run folders and checkpoints.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import re
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


def bounded(default: Any, lo: float | None = None, hi: float | None = None, choices: tuple | None = None,
            lo_open: bool = False) -> Any:
    """A dataclass field with a checked range (``lo``..``hi``, ``lo`` excluded when ``lo_open``) or a
    set of ``choices``; :func:`build_config` enforces them and names the key in its message."""
    meta = {"lo": lo, "hi": hi, "choices": choices, "lo_open": lo_open}
    if isinstance(default, (list, dict)):
        return dataclasses.field(default_factory=lambda: type(default)(default), metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


_TYPE_NAMES = {int: "an integer", float: "a number", str: "a string", bool: "true or false",
               dict: "a mapping", list: "a list", tuple: "a list"}


_FLOAT = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")
"""A decimal number as people write one (``1e-4``, ``2E3``, ``.5``); not ``nan``/``inf`` or other words."""


def _check_value(key: str, tp: Any, value: Any, meta: Any) -> Any:
    """``value`` converted to ``tp`` (int -> float, list -> tuple) and checked against ``meta``'s range,
    or a :class:`ConfigError` naming ``key``, the expected type and the value."""
    optional = False
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        optional = len(args) < len(typing.get_args(tp))
        tp = args[0] if len(args) == 1 else Any
    if value is None:
        if optional:
            return None
        raise ConfigError(f"config key {key} has no value", fix=f"Give {_TYPE_NAMES.get(tp, 'a value')}, e.g. {key}=...")
    origin = typing.get_origin(tp) or tp
    ok = True
    if tp is bool:
        ok = isinstance(value, bool)
    elif tp is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif tp is float:
        if isinstance(value, str) and _FLOAT.fullmatch(value.strip()):
            value = float(value)  # YAML 1.1 reads `1e-4` (no dot) as a string: `optim.lr=1e-4` is a number
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        value = float(value) if ok else value
    elif tp is str:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)  # `out_dir=2024` or `vocabulary=1` on a command line parse as numbers
        ok = isinstance(value, str)
    elif origin is dict:
        ok = isinstance(value, dict)
    elif origin in (list, tuple):
        ok = isinstance(value, (list, tuple))
        args = typing.get_args(tp)
        if ok and origin is tuple and args and args[-1] is not Ellipsis:
            if len(value) != len(args):
                raise ConfigError(f"config key {key} must be a list of {len(args)} values, not {value!r}")
            value = tuple(_check_value(f"{key}[{i}]", a, v, None) for i, (a, v) in enumerate(zip(args, value)))
        elif ok and origin is tuple:
            value = tuple(value)
    if not ok:
        raise ConfigError(f"config key {key} must be {_TYPE_NAMES.get(origin, tp)}, not {value!r}")
    if meta:
        lo, hi, choices = meta.get("lo"), meta.get("hi"), meta.get("choices")
        if choices is not None and value not in choices:
            raise ConfigError(f"config key {key} must be one of {', '.join(map(str, choices))}, not {value!r}")
        if lo is not None and (value < lo or (meta.get("lo_open") and value == lo)):
            bound = f"more than {lo}" if meta.get("lo_open") else f"at least {lo}"
            raise ConfigError(f"config key {key} must be {bound}" + (f" and at most {hi}" if hi is not None else "")
                              + f", not {value!r}")
        if hi is not None and value > hi:
            raise ConfigError(f"config key {key} must be at most {hi}, not {value!r}")
    return value


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
        raise ConfigError(f"unknown config key {where}{key}", fix=hint)
    kwargs = {}
    for name, value in data.items():
        tp = _resolve_type(hints.get(name))
        if dataclasses.is_dataclass(tp):
            if isinstance(value, dict):
                value = build_config(tp, value, where=f"{where}{name}.")
            elif not isinstance(value, tp):
                raise ConfigError(f"config key {where}{name} is a section of keys, not {value!r}",
                                  fix=f"Set its keys one by one, e.g. {where}{name}.KEY=VALUE.")
        else:
            value = _check_value(f"{where}{name}", hints.get(name, Any), value, fields[name].metadata)
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
