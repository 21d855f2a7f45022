"""The training loop: AdamW, warm-up + cosine, clipping, accumulation, AMP, validation, checkpoints.

Read in one sitting: ``Trainer.fit`` runs optimizer steps until ``max_steps``; every ``val_every``
steps it decodes the validation split greedily and scores WER/CER; every ``ckpt_every`` steps it
writes a resumable checkpoint (the last ``keep_last`` are kept) and keeps the best model by WER in
``best/``. With ``resume=True`` it reloads the newest checkpoint and continues exactly: same batches,
same augmentation and dropout draws (all RNG states are restored).
"""

from __future__ import annotations

import json
import logging
import math
import os
import random
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml

from lipread.config import config_to_dict
from lipread.errors import CheckpointError, ConfigError
from lipread.models import create_model
from lipread.models.checkpoint import save_model
from lipread.progress import progress_bar
from lipread.text import Tokenizer
from lipread.train import data as train_data
from lipread.train.config import TrainConfig
from lipread.train.distributed import (
    DistInfo,
    all_reduce_mean,
    broadcast_buffers,
    cleanup,
    init_distributed,
    resolve_device,
)
from lipread.train.objectives import objective_for
from lipread.train.state import (
    list_checkpoints,
    load_training_checkpoint,
    prune_checkpoints,
    save_training_checkpoint,
)

log = logging.getLogger("lipread.train")


def lr_at(step: int, cfg: TrainConfig) -> float:
    """Linear warm-up to ``lr`` over ``warmup_steps``, then cosine decay to ``lr * min_lr_ratio``."""
    o = cfg.optim
    if step < o.warmup_steps:
        return o.lr * (step + 1) / o.warmup_steps
    progress = min(1.0, (step - o.warmup_steps) / max(1, cfg.max_steps - o.warmup_steps))
    return o.lr * (o.min_lr_ratio + (1 - o.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * progress)))


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


RUN_FILES = ("metrics.jsonl", "checkpoints", "best", "config.yaml")
"""What a run leaves in its folder: a second run into it without ``--resume`` is refused."""


def check_run_folder(out: Path, resume: bool) -> None:
    """Refuse to start a new run in a folder that holds one (its metrics and checkpoints would mix
    with the new run's, and ``--resume`` would then pick the wrong checkpoint); check it is writable."""
    from lipread.errors import OutputError
    from lipread.io.output import ensure_output_dir

    if not resume:
        found = [n + ("/" if (out / n).is_dir() else "") for n in RUN_FILES if (out / n).exists()]
        if found:
            raise OutputError(
                f"the run folder already holds a training run ({', '.join(found)})", out,
                "Continue that run with --resume, or train into a fresh folder with -o (e.g. -o runs/NEW).")
    ensure_output_dir(out, "-o")


def restart_before_first_checkpoint(out: Path) -> bool:
    """``--resume`` into a run that stopped before it saved its first checkpoint: nothing can be resumed, so the
    run starts again from step 0 (its metrics so far are set aside as ``metrics.jsonl.before-restart``, so
    that the new run's are not mixed with them). True when that is the case; False when there is a checkpoint
    to resume, or no run at all (the caller's "nothing to resume" error)."""
    set_aside = out / "metrics.jsonl.before-restart"
    if list_checkpoints(out / "checkpoints") or not any((out / n).exists() for n in (*RUN_FILES, set_aside.name)):
        return False
    metrics = out / "metrics.jsonl"
    if metrics.exists() and os.environ.get("RANK", "0") == "0":  # one process of a distributed run moves it
        metrics.replace(set_aside)
    log.warning("%s: the run stopped before its first checkpoint, so there is nothing to resume; starting it "
                "again from step 0 (its earlier metrics are in metrics.jsonl.before-restart)", out)
    return True


class Trainer:
    def __init__(self, cfg: TrainConfig, resume: bool = False):
        from lipread.device import resolve_device as check_device

        if cfg.precision not in ("fp32", "bf16", "fp16"):
            raise ConfigError(f"precision must be fp32, bf16 or fp16, not {cfg.precision!r}")
        check_device(cfg.device)  # a clear error for a device this machine does not have
        # auto_resume is the restart of this same run (torchrun --max-restarts): its folder is expected
        check_run_folder(Path(cfg.out_dir), resume or cfg.auto_resume)
        if resume and restart_before_first_checkpoint(Path(cfg.out_dir)):
            resume = False
        self.cfg = cfg
        self.dist: DistInfo = init_distributed(cfg.device)
        self.device = resolve_device(cfg.device, self.dist)
        if cfg.precision == "fp16" and self.device.type != "cuda":
            raise ConfigError("precision fp16 needs a CUDA device", fix="Use precision=bf16 or fp32 on CPU.")
        if cfg.threads:
            torch.set_num_threads(cfg.threads)
        self.out = Path(cfg.out_dir)
        self.ckpt_dir = self.out / "checkpoints"
        seed_everything(cfg.seed)

        self.tokenizer = Tokenizer.from_name(cfg.data.vocabulary)
        self.data = train_data.TrainData(cfg, self.tokenizer, self.dist)
        args = dict(cfg.model.args)
        args.setdefault("num_classes", self.tokenizer.ctc_size)
        self.model = create_model(cfg.model.name, **args).to(self.device)  # records lipread_spec for checkpoints
        if cfg.channels_last:  # only the 5-D weights (Conv3d) change order; checkpoints are saved contiguous
            self.model = self.model.to(memory_format=torch.channels_last_3d)
        # the family's loss (lipread.train.objectives), checked against the run's settings
        self.objective = objective_for(cfg, self.model, self.data.train_set.has_audio)
        self.objective.teacher = self._teacher() if cfg.distill.weight > 0 else None
        decay = [p for n, p in self.model.named_parameters() if p.ndim > 1]
        no_decay = [p for n, p in self.model.named_parameters() if p.ndim <= 1]
        o = cfg.optim
        self.optimizer = torch.optim.AdamW(
            [{"params": decay, "weight_decay": o.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
            lr=o.lr,
            betas=tuple(o.betas),
        )
        self.scaler = torch.amp.GradScaler("cuda") if cfg.precision == "fp16" else None
        self.step, self.epoch, self.batch_in_epoch = 0, 0, 0
        self.best_wer = math.inf
        if resume or (cfg.auto_resume and list_checkpoints(self.ckpt_dir)):
            self._resume()
        elif cfg.init_from:
            self._init_from(cfg.init_from)
        self.ddp = (
            torch.nn.parallel.DistributedDataParallel(
                self.model, device_ids=[self.device.index] if self.device.type == "cuda" else None
            )
            if self.dist.enabled
            else self.model
        )
        self.writer = self._tensorboard() if self.dist.is_main and cfg.tensorboard else None

    # -- bookkeeping -----------------------------------------------------------------------
    def model_meta(self, metrics: dict[str, Any] | None = None) -> dict[str, Any]:
        return {
            "model": self.model.lipread_spec,
            "tokenizer": self.tokenizer.to_dict(),
            "preprocess": self.data.preprocess,
            "decoder": {"name": "greedy"},
            "train": config_to_dict(self.cfg),
            "step": self.step,
            "metrics": metrics or {},
        }

    def _resume(self) -> None:
        ckpts = list_checkpoints(self.ckpt_dir)
        if not ckpts:
            raise CheckpointError("nothing to resume: no checkpoint in the run folder", self.ckpt_dir,
                                  "Start without --resume.")
        state = load_training_checkpoint(ckpts[-1], self.model, self.optimizer)
        self.step, self.epoch, self.batch_in_epoch = state["step"], state["epoch"], state["batch_in_epoch"]
        best = state.get("best_wer")
        self.best_wer = math.inf if best is None else float(best)
        if self.scaler is not None and state.get("scaler"):
            self.scaler.load_state_dict(state["scaler"])
        log.info("resumed from %s at step %d (epoch %d, batch %d)", ckpts[-1], self.step, self.epoch,
                 self.batch_in_epoch)

    def _teacher(self):
        """The distillation teacher (:mod:`lipread.train.distill`), checked against the model and data."""
        from lipread.train.distill import AudioTeacher

        d = self.cfg.distill
        if not d.teacher:
            raise ConfigError("distill.weight > 0 but no distill.teacher", fix="Name a WLAS checkpoint or zoo model.")
        train_set = self.data.train_set
        if not train_set.has_audio:
            raise ConfigError("distillation needs the sound of the training clips, but the cache has no audio",
                              fix=f"Prepare {self.cfg.data.cache} again with `lipread prepare ... --audio`.")
        features = (config_to_dict(train_set.audio_features) if train_set.audio_features is not None
                    else train_set.reader.config.get("frontend", {}).get("audio_features"))
        return AudioTeacher(d, self.device, features)

    def _init_from(self, path: str) -> None:
        """Load the weights of a model folder or zoo name, or of a run folder's newest checkpoint (the
        previous curriculum stage). Every weight must fit the model; parameters the source lacks (a head
        added for fine-tuning) keep their fresh initialisation."""
        from lipread.models.checkpoint import init_from
        from lipread.models.zoo import resolve_model

        if (Path(path) / "checkpoints").is_dir() and list_checkpoints(Path(path) / "checkpoints"):
            path = str(list_checkpoints(Path(path) / "checkpoints")[-1])  # a run folder: its newest checkpoint
        fresh = init_from(self.model, resolve_model(path))
        log.info("initialised the weights from %s; new parameters: %s", path, ", ".join(fresh) or "none")

    def _tensorboard(self):
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            log.warning("tensorboard is not installed; metrics go to metrics.jsonl only (pip install tensorboard)")
            return None
        return SummaryWriter(str(self.out / "tb"))

    def _log(self, row: dict[str, Any]) -> None:
        if not self.dist.is_main:
            return
        with open(self.out / "metrics.jsonl", "a") as f:
            f.write(json.dumps(row) + "\n")
        if self.writer is not None:
            for k, v in row.items():
                if k != "step" and isinstance(v, (int, float)):
                    self.writer.add_scalar(k, v, row["step"])

    def save(self, metrics: dict[str, Any] | None = None) -> None:
        if not self.dist.is_main:
            return
        progress = {"step": self.step, "epoch": self.epoch, "batch_in_epoch": self.batch_in_epoch,
                    "best_wer": self.best_wer if math.isfinite(self.best_wer) else None}
        scaler = self.scaler.state_dict() if self.scaler is not None else None
        save_training_checkpoint(self.ckpt_dir / f"step_{self.step:07d}", self.model, self.model_meta(metrics),
                                 self.optimizer, progress, scaler)
        prune_checkpoints(self.ckpt_dir, self.cfg.keep_last)

    # -- the loop ----------------------------------------------------------------------------
    def autocast(self):
        if self.cfg.precision == "fp32":
            return nullcontext()
        dtype = torch.bfloat16 if self.cfg.precision == "bf16" else torch.float16
        return torch.autocast(self.device.type, dtype=dtype)

    def train_step(self, batches: list) -> float:
        """One optimizer step over ``accumulate`` batches; returns the mean loss."""
        self.ddp.train()
        for group in self.optimizer.param_groups:
            group["lr"] = lr_at(self.step, self.cfg)
        total = 0.0
        for i, batch in enumerate(batches):
            batch = batch.to(self.device)
            if self.cfg.channels_last:
                batch.video = batch.video.contiguous(memory_format=torch.channels_last_3d)
            sync = nullcontext() if (i == len(batches) - 1 or not self.dist.enabled) else self.ddp.no_sync()
            with sync:
                loss = self.objective.loss(self.ddp, batch, self.step / self.cfg.max_steps, self.autocast)
                loss = loss / len(batches)
                (self.scaler.scale(loss) if self.scaler else loss).backward()
            total += float(loss.detach())
        if self.scaler:
            self.scaler.unscale_(self.optimizer)
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.cfg.optim.grad_clip)
        if self.scaler:
            self.scaler.step(self.optimizer)
            self.scaler.update()
        else:
            self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        return total

    def fit(self) -> dict[str, Any]:
        cfg = self.cfg
        if self.dist.is_main:
            self.out.mkdir(parents=True, exist_ok=True)
            (self.out / "config.yaml").write_text(yaml.safe_dump(config_to_dict(cfg), sort_keys=False))
        bar = progress_bar(total=cfg.max_steps, initial=self.step, desc="train", disable=not self.dist.is_main)
        last: dict[str, Any] = {}
        t0, samples = time.perf_counter(), 0
        try:
            while self.step < cfg.max_steps:
                groups = self.data.train_batches(self.epoch, self.batch_in_epoch, cfg.accumulate)
                for group in groups:
                    loss = self.train_step(group)
                    self.step += 1
                    self.batch_in_epoch += len(group)
                    samples += sum(len(b.ids) for b in group) * self.dist.world_size
                    loss = all_reduce_mean(loss, self.dist, self.device)
                    rate = samples / max(1e-9, time.perf_counter() - t0)
                    bar.update(1)
                    bar.set_postfix(loss=f"{loss:.3f}", samples_s=f"{rate:.1f}")
                    if self.step % cfg.log_every == 0 or self.step == 1:
                        self._log({"step": self.step, "loss": loss, "lr": lr_at(self.step - 1, cfg),
                                   "samples_per_s": rate, "epoch": self.epoch})
                    if self.step % cfg.val_every == 0 or self.step == cfg.max_steps:
                        last = self.validate()
                    if self.step % cfg.ckpt_every == 0 or self.step == cfg.max_steps:
                        self.save(last)
                    if self.step >= cfg.max_steps:
                        break
                else:
                    self.epoch += 1
                    self.batch_in_epoch = 0
            broadcast_buffers(self.model, self.dist)
        finally:
            bar.close()
            if self.writer is not None:
                self.writer.close()
            cleanup(self.dist)
        return last

    @torch.no_grad()
    def validate(self) -> dict[str, Any]:
        """Greedy WER/CER in each modality the model reads (through its family's reader, as ``lipread evaluate``
        reads) and the loss, on the validation split (rank 0 decodes; every rank waits). ``val_wer`` (which picks
        the best checkpoint) is the mean over the modalities, so a kept audio-visual model is good at all three."""
        from lipread.metrics import score
        from lipread.readers import reader_for
        from lipread.readers.options import DecodeOptions

        if not self.dist.is_main:
            if self.dist.enabled:
                torch.distributed.barrier()
            return {}
        self.model.eval()
        if self.data.val_set is None:  # no validation split: nothing to score
            return {}
        reader = reader_for(self.model, self.tokenizer, DecodeOptions(decoder="greedy"))
        modalities = [m for m in reader.modalities if m == "video" or self.data.val_set.has_audio]
        refs, ids, losses = [], [], []
        hyps: dict[str, list[str]] = {m: [] for m in modalities}
        for batch in self.data.val_batches():
            batch = batch.to(self.device)
            with self.autocast():
                readings = {m: reader.read_batch(batch, m) for m in modalities}
                losses.append(self._validation_loss(batch, readings["video"]))
                for m, reading in readings.items():
                    hyps[m] += [nbest[0].text if nbest else "" for nbest in reading.nbests]
            refs.extend(batch.texts)
            ids.extend(batch.ids)
        metrics: dict[str, Any] = {"step": self.step}
        for m in modalities:
            rep = score(refs, hyps[m], ids=ids)
            metrics[f"val_wer_{m}"], metrics[f"val_cer_{m}"] = rep.wer, rep.cer
        metrics["val_wer"] = float(np.mean([metrics[f"val_wer_{m}"] for m in modalities]))
        metrics["val_cer"] = float(np.mean([metrics[f"val_cer_{m}"] for m in modalities]))
        if modalities == ["video"]:  # a lips-only model: its one WER is val_wer
            del metrics["val_wer_video"], metrics["val_cer_video"]
        metrics.update(val_loss=float(np.mean(losses)) if losses else float("nan"), val_clips=len(refs))
        return self._finish_validation(metrics)

    def _validation_loss(self, batch, lips_reading) -> float:
        """The training objective on a validation batch (:meth:`Objective.validation_loss`; a CTC model's from the
        posteriors the reader already computed for the lips, ``lips_reading.lips``)."""
        return self.objective.validation_loss(batch, lips_reading.lips)

    def _finish_validation(self, metrics: dict[str, Any]) -> dict[str, Any]:
        """Log the validation metrics and keep the model as ``best/`` when its ``val_wer`` is the lowest yet."""
        self._log(metrics)
        log.info("step %d: val WER %.4f CER %.4f loss %.4f", self.step, metrics["val_wer"], metrics["val_cer"],
                 metrics["val_loss"])
        if metrics["val_wer"] < self.best_wer:
            self.best_wer = metrics["val_wer"]
            save_model(self.out / "best", self.model, self.model_meta(metrics))
        if self.dist.enabled:
            torch.distributed.barrier()
        return metrics
