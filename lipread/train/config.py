"""Training configuration: one dataclass tree, loaded from a YAML recipe plus ``key=value`` overrides.

The resolved config is written into the run folder (``config.yaml``) and every checkpoint.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lipread.config import apply_overrides, bounded, build_config, load_yaml


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
    train_split: str = bounded("train", choices=("train", "val", "test"))
    val_split: str = bounded("val", choices=("train", "val", "test", ""))
    """Split validated on ("" = no validation)."""
    vocabulary: str = "grid"
    batch_size: int = bounded(8, lo=1)
    """Clips per batch (per process with torchrun); with ``max_frames`` an upper bound."""
    max_frames: int = bounded(0, lo=0)
    """Padded-frame budget per batch (per process): clips of similar length are batched together and a
    batch holds as many as fit ``len(batch) * longest <= max_frames`` (0 = ``batch_size`` clips a batch).
    Sets the memory a step needs independent of the length tail (the LRS recipe's memory table)."""
    num_workers: int = bounded(0, lo=0)
    augment: dict[str, Any] = field(default_factory=dict)
    """Options of the training augmentation (see ``lipread.data.augment``); empty = the preset's defaults."""
    val_limit: int = bounded(0, lo=0)
    """Validate on at most this many clips (0 = all)."""
    audio_features: dict[str, Any] = field(default_factory=dict)
    """Audio-visual models: compute the audio features from the cache's stored sound with these options of
    ``lipread.audio.AudioFeatureConfig`` (e.g. ``{deltas: true, cmvn: true}``) instead of reading the cached
    MFCC; empty = read the cached features. Needed for ``noise``."""
    noise: dict[str, Any] = field(default_factory=dict)
    """Training noise on the sound (``lipread.audio.noise.NoiseConfig``: prob, babble, snr_min, snr_max,
    talkers); needs ``audio_features``."""
    voice: dict[str, Any] = field(default_factory=dict)
    """Training changes of the voice (``lipread.audio.voice.VoiceConfig``: pitch, gain, reverb, band and their
    ranges), applied before the noise; needs ``audio_features``."""


@dataclass
class OptimConfig:
    lr: float = bounded(3e-4, lo=0.0, lo_open=True)
    """Peak learning rate of AdamW after warm-up."""
    weight_decay: float = bounded(0.01, lo=0.0)
    betas: tuple[float, float] = (0.9, 0.98)
    grad_clip: float = bounded(5.0, lo=0.0, lo_open=True)
    """Max global gradient norm: CTC gradients spike on short targets early in training."""
    warmup_steps: int = bounded(200, lo=0)
    min_lr_ratio: float = bounded(0.05, lo=0.0, hi=1.0)
    """The cosine schedule decays to ``lr * min_lr_ratio`` at ``max_steps``."""


@dataclass
class DistillConfig:
    """Cross-modal distillation (:mod:`lipread.train.distill`): a model that reads sound teaches the lip reader."""

    teacher: str = ""
    """A model that reads sound (a WLAS checkpoint folder or zoo name, e.g. wlas-grid-s1); "" = off."""
    weight: float = bounded(0.0, lo=0.0)
    """Weight of the distillation loss next to CTC (0 = off)."""
    temperature: float = bounded(2.0, lo=0.0, lo_open=True)
    """Softens both distributions; the loss is scaled by T^2 so its gradients keep their size."""
    head: str = bounded("ctc", choices=("ctc", "align"))
    """Which per-frame head teaches: the CTC branch (into the student's CTC output) or the align head
    (into the student's align head)."""


@dataclass
class TrainConfig:
    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    out_dir: str = "runs/default"
    max_steps: int = bounded(1000, lo=1)
    accumulate: int = bounded(1, lo=1)
    """Gradient accumulation: optimizer steps every ``accumulate`` batches."""
    precision: str = bounded("fp32", choices=("fp32", "bf16", "fp16"))
    """fp32 | bf16 | fp16 (fp16 only on CUDA). bf16 autocast on CPU helps only where the CPU has bf16 units."""
    channels_last: bool = False
    """Keep the 3D convolutions' weights and the clips in channels-last order (``torch.channels_last_3d``):
    12% more samples/s for the GRID LipNet on the 2-core CPU (benchmarks/results/train.json)."""
    device: str = "auto"
    """auto | cpu | cuda | cuda:N."""
    seed: int = 0
    threads: int = bounded(0, lo=0)
    """torch intra-op threads (0 = torch's default)."""
    log_every: int = bounded(10, lo=1)
    val_every: int = bounded(200, lo=1)
    ckpt_every: int = bounded(200, lo=1)
    keep_last: int = bounded(2, lo=0)
    """How many recent checkpoints to keep, 0 = all (the best by validation WER is kept separately)."""
    tensorboard: bool = True
    init_from: str = ""
    """Fine-tune: start from the weights of this checkpoint folder or zoo model name (same architecture;
    heads the checkpoint lacks start fresh, e.g. the previous curriculum stage's ``best``); optimizer and
    schedule start fresh. Ignored when resuming from a checkpoint of this run."""
    auto_resume: bool = False
    """Resume from the newest checkpoint of ``out_dir`` when there is one, else start: what workers restarted
    by ``torchrun --max-restarts`` after a lost node need (they rerun the same command line)."""
    distill: DistillConfig = field(default_factory=DistillConfig)
    align_weight: float = 0.0
    """Weight of the align head's frame-level cross-entropy (models with ``align_head: true``; needs word
    alignments in the cache). The head gives word times that follow the speech; 0 = CTC only."""


def load_train_config(path: str | None, overrides: list[str] | None = None) -> TrainConfig:
    """Recipe YAML (optional) + ``key.sub=value`` overrides -> :class:`TrainConfig`.

    Every value is checked against the dataclasses' types and ranges. A bad value in the recipe is a
    :class:`ConfigError` naming the file; a bad override is a :class:`UsageError` (the command line is
    wrong) naming the key.
    """
    import copy

    from lipread.device import check_device_name
    from lipread.errors import ConfigError, UsageError

    data = load_yaml(path) if path else {}
    try:
        base = build_config(TrainConfig, copy.deepcopy(data))
    except UsageError:
        raise
    except ConfigError as exc:
        raise ConfigError(exc.problem, path, exc.fix or "Fix the recipe, or override the key on the command line.") from None
    if not overrides:
        cfg = base
    else:
        try:
            cfg = build_config(TrainConfig, apply_overrides(data, list(overrides)))
        except ConfigError as exc:
            raise UsageError(f"override: {exc.problem}", fix=exc.fix or "Fix the key=value on the command line.") from None
    try:
        check_device_name(cfg.device)
    except UsageError as exc:
        raise UsageError(f"config key device: {exc.problem}", fix=exc.fix) from None
    if not cfg.out_dir:
        raise UsageError("config key out_dir is empty", fix="Give the run folder with -o DIR.")
    return cfg
