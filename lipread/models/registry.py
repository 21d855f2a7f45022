"""The model registry: ``@register_model``, ``create_model(name, **overrides)``, ``list_models``.

A builder is a function returning an ``nn.Module``. ``create_model`` records what built the model
in ``model.lipread_spec = {"name": ..., "args": {...}}`` so a checkpoint can rebuild it alone.
Builders may set ``model.input_spec`` (a short text such as ``"(B, 3, 75, 50, 100)"``) for
``lipread models``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lipread.registry import Registry

MODELS: Registry[Callable[..., Any]] = Registry("model")


def register_model(fn: Callable[..., Any] | None = None, *, name: str | None = None):
    """Register a model builder under ``name`` (default: the function's name)."""
    if fn is None:
        return lambda f: MODELS.register(name or f.__name__)(f)
    return MODELS.register(name or fn.__name__)(fn)


MODEL_MODULES = ("lipread.models.backbones", "lipread.models.lipnet", "lipread.models.wlas")
"""The modules whose ``@register_model`` builders make up the registry (a new family's module is added here),
imported by name on first use, as plugins are, so that this module imports none of them."""


def _ensure_loaded() -> None:
    # importing the model modules runs their @register_model decorators
    import importlib

    for name in MODEL_MODULES:
        importlib.import_module(name)


def create_model(name: str, **overrides: Any):
    """Build registered model ``name`` with keyword ``overrides`` of its builder's defaults."""
    _ensure_loaded()
    model = MODELS.get(name)(**overrides)
    model.lipread_spec = {"name": name, "args": dict(overrides)}
    return model


def list_models(pattern: str = "*") -> list[str]:
    """Names of registered models matching a shell-style pattern, sorted."""
    _ensure_loaded()
    return MODELS.list(pattern)
