"""Training configuration: one dataclass tree, loaded from a YAML recipe plus ``key=value`` overrides.

The resolved config is written into the run folder (``config.yaml``) and every checkpoint.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lipread.config import apply_overrides, build_config, load_yaml


@dataclass
class ModelConfig:
    name: str = "lipnet_small"
    """Registered model name (``lipread models`` lists them)."""
    args: dict[str, Any] = field(default_factory=dict)
    """Overrides of the builder's defaults; ``num_classes`` is filled from the vocabulary when absent."""


@dataclass
class DataConfig:
    cache: str = ""
    """A prepared cache from ``lipread prepare``."""
    train_split: str = "train"
    val_split: str = "val"
    vocabulary: str = "grid"
    batch_size: int = 8
    """Clips per batch (per process with torchrun); with ``max_frames`` an upper bound."""
    max_frames: int = 0
    """Padded-frame budget per batch (per process): clips of similar length are batched together and a
    batch holds as many as fit ``len(batch) * longest <= max_frames`` (0 = ``batch_size`` clips a batch).
    Sets the memory a step needs independent of the length tail (the LRS recipe's memory table)."""
    num_workers: int = 0
    augment: dict[str, Any] = field(default_factory=dict)
    """Options of the training augmentation (see ``lipread.data.augment``); empty = the preset's defaults."""
    val_limit: int = 0
    """Validate on at most this many clips (0 = all)."""


@dataclass
class OptimConfig:
    lr: float = 3e-4
    """Peak learning rate of AdamW after warm-up."""
    weight_decay: float = 0.01
    betas: tuple[float, float] = (0.9, 0.98)
    grad_clip: float = 5.0
    """Max global gradient norm: CTC gradients spike on short targets early in training."""
    warmup_steps: int = 200
    min_lr_ratio: float = 0.05
    """The cosine schedule decays to ``lr * min_lr_ratio`` at ``max_steps``."""


@dataclass
class TrainConfig:
    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    out_dir: str = "runs/default"
    max_steps: int = 1000
    accumulate: int = 1
    """Gradient accumulation: optimizer steps every ``accumulate`` batches."""
    precision: str = "fp32"
    """fp32 | bf16 | fp16 (fp16 only on CUDA). bf16 autocast on CPU helps only where the CPU has bf16 units."""
    device: str = "auto"
    """auto | cpu | cuda | cuda:N."""
    seed: int = 0
    threads: int = 0
    """torch intra-op threads (0 = torch's default)."""
    log_every: int = 10
    val_every: int = 200
    ckpt_every: int = 200
    keep_last: int = 2
    """How many recent checkpoints to keep (the best by validation WER is kept separately)."""
    tensorboard: bool = True
    init_from: str = ""
    """Start from the weights of this model/checkpoint folder (e.g. the previous curriculum stage's
    ``best``); optimizer and schedule start fresh. Ignored when resuming from a checkpoint of this run."""
    auto_resume: bool = False
    """Resume from the newest checkpoint of ``out_dir`` when there is one, else start: what workers restarted
    by ``torchrun --max-restarts`` after a lost node need (they rerun the same command line)."""


def load_train_config(path: str | None, overrides: list[str] | None = None) -> TrainConfig:
    """Recipe YAML (optional) + ``key.sub=value`` overrides -> :class:`TrainConfig`."""
    data = load_yaml(path) if path else {}
    apply_overrides(data, list(overrides or []))
    return build_config(TrainConfig, data)
