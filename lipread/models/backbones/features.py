"""What every backbone shares: stage descriptions (``feature_info``) and the ``features_only`` mode.

A backbone is a chain of *stages*; ``feature_info[i]`` describes the output of stage ``i``::

    {"num_chs": channels, "reduction": stride relative to the input, "module": parameter prefix}

With ``features_only=True`` a backbone's ``forward(x)`` returns the list of the outputs of the stages
in ``out_indices`` (each (B, C_i, H / r_i, W / r_i)); the head, and every stage after the last one
asked for, is removed so that each remaining parameter takes part in the output.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import torch
from torch import nn


def check_out_indices(out_indices: Sequence[int] | None, num_stages: int) -> tuple[int, ...]:
    """Normalise ``out_indices`` (negative counts from the end; None = every stage)."""
    if out_indices is None:
        return tuple(range(num_stages))
    out = []
    for i in out_indices:
        j = i + num_stages if i < 0 else i
        if not 0 <= j < num_stages:
            raise ValueError(f"out_indices entry {i} is out of range for {num_stages} stages")
        out.append(j)
    if not out or list(out) != sorted(set(out)):
        raise ValueError(f"out_indices must be increasing and unique, got {tuple(out_indices)}")
    return tuple(out)


class Backbone(nn.Module):
    """Base class: subclasses set ``feature_info``, ``num_features``, ``first_conv``, ``head_prefix``
    and implement :meth:`stages` (yields one output per stage) and :meth:`forward_head`.

    Attributes:
        feature_info: list of ``{"num_chs", "reduction", "module"}``, one per stage.
        num_features: width of :meth:`forward_features` pooled by :meth:`forward_head` (pre-logits).
        first_conv: state-dict key of the first convolution's weight (adapted for ``in_chans``).
        head_prefix: state-dict prefix of the classifier (dropped when ``num_classes`` differs).
        features_only / out_indices: the feature-extractor mode (see module docstring).
    """

    feature_info: list[dict]
    num_features: int
    first_conv: str | None
    head_prefix: str
    features_only: bool = False
    out_indices: tuple[int, ...] = ()

    def stages(self, x: torch.Tensor) -> Iterator[torch.Tensor]:  # pragma: no cover - abstract
        raise NotImplementedError

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) -> the last stage's map (B, C', H', W') (the deepest kept stage in features_only)."""
        out = x
        for y in self.stages(x):
            out = y
        return out

    def forward_head(self, x: torch.Tensor) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def forward_intermediates(
        self, x: torch.Tensor, indices: Sequence[int] | None = None
    ) -> list[torch.Tensor]:
        """(B, C, H, W) -> [stage outputs for ``indices``], stopping after the last one needed.

        ``indices`` default to ``out_indices`` in features_only mode, else every stage."""
        if indices is None:
            indices = self.out_indices if self.features_only else None
        indices = check_out_indices(indices, len(self.feature_info))
        outs, last = [], max(indices)
        for i, y in enumerate(self.stages(x)):
            if i in indices:
                outs.append(y)
            if i == last:
                break
        return outs

    def forward(self, x: torch.Tensor):
        """(B, C, H, W) -> logits (B, num_classes), or pooled features (B, num_features) when
        ``num_classes == 0``, or a list of stage maps when ``features_only``."""
        if self.features_only:
            return self.forward_intermediates(x)
        return self.forward_head(self.forward_features(x))

    def _set_features_only(self, out_indices: Sequence[int] | None, keep: dict[int, list[str]]) -> None:
        """Enter features_only mode: drop head modules and every stage after the last index.

        ``keep[i]`` names the child modules first needed by stage ``i``; children first needed by a
        later stage, and the head (``keep[-1]``), are deleted.
        """
        self.features_only = True
        self.out_indices = check_out_indices(out_indices, len(self.feature_info))
        last = max(self.out_indices)
        for i, names in keep.items():
            if i == -1 or i > last:
                for name in names:
                    _delete_path(self, name)

    def stage_info(self) -> list[dict]:
        """``feature_info`` for the stages this model outputs (all of them unless features_only)."""
        idx = self.out_indices if self.features_only else range(len(self.feature_info))
        return [self.feature_info[i] for i in idx]


def _delete_path(module: nn.Module, dotted: str) -> None:
    """Remove the child at ``a.b.c`` (None in a plain module, gone from a Sequential)."""
    *parents, leaf = dotted.split(".")
    for p in parents:
        module = getattr(module, p)
    if isinstance(module, nn.Sequential):  # keep the other children's names (and state-dict keys)
        delattr(module, leaf)
    else:
        setattr(module, leaf, None)


def count_params(model: nn.Module) -> int:
    """Number of parameters (works on the meta device too)."""
    return sum(p.numel() for p in model.parameters())
