"""The training objective of each model family: the loss of a batch, chosen once from the model.

As :mod:`lipread.readers` reads each family, an :class:`Objective` trains it: the trainer asks
:func:`objective_for` once (by the model's ``objective``, :func:`lipread.readers.base.family_of`) and never
branches on the model kind itself. An objective checks that the run's settings fit its family
(:meth:`Objective.check`), gives the loss of a training batch (:meth:`Objective.loss`) and the loss of a
validation batch that the trainer's reader has already read (:meth:`Objective.validation_loss`).

- ``ctc`` (LipNet and other CTC lip readers): CTC loss, plus ``align_weight`` x the align head's frame
  cross-entropy, plus ``distill.weight`` x the distillation loss from an audio teacher (:mod:`lipread.train.distill`);
- ``attention`` (WLAS): the model's own weighted sum of its attention, CTC and align losses (its forward takes
  the targets).

Adding a family: register an :class:`Objective` under the family's name here (and a reader in
:mod:`lipread.readers`).
"""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any

import torch

from lipread.errors import ConfigError
from lipread.models.ctc import ctc_loss
from lipread.registry import Registry

OBJECTIVES: Registry = Registry("training objective")


def align_loss(align_log_probs: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Frame-level cross-entropy of an align head: (B, T', V) log-probs against (B, T) targets, -100 ignored.
    The head must keep the clip's frame rate (T' = T)."""
    if labels is None:
        raise ConfigError("align_weight > 0 but the batch has no frame labels")
    if align_log_probs.shape[1] != labels.shape[1]:
        raise ConfigError(f"the align head gives {align_log_probs.shape[1]} frames for {labels.shape[1]} input "
                          "frames", fix="Use a model that keeps the frame rate, or align_weight=0.")
    return torch.nn.functional.nll_loss(align_log_probs.float().transpose(1, 2), labels, ignore_index=-100)


class Objective:
    """The loss of one model family. ``cfg`` is the run's :class:`~lipread.train.config.TrainConfig`, ``model``
    the (unwrapped) model, ``has_audio`` whether the training cache has audio features."""

    def __init__(self, cfg, model: torch.nn.Module, has_audio: bool):
        self.cfg, self.model, self.has_audio = cfg, model, has_audio
        self.teacher = None  # the audio teacher (lipread.train.distill), set by the trainer when the run distils

    def check(self) -> None:
        """ConfigError for settings this family cannot train with."""
        cfg = self.cfg
        if cfg.align_weight > 0 and not getattr(self.model, "has_align_head", False):
            raise ConfigError(f"align_weight={cfg.align_weight} needs a model with an align head",
                              fix="Set model.args.align_head=true (LipNet models), or align_weight=0.")

    def loss(self, model, batch, progress: float, autocast=nullcontext) -> torch.Tensor:
        """The loss of a training ``batch`` (on the model's device) through ``model`` (maybe DDP-wrapped);
        ``progress`` is the share of the run done (0..1); the model's forward runs in ``autocast()`` (mixed
        precision), the losses outside it where the family computes them apart."""
        raise NotImplementedError

    def validation_loss(self, batch, lips) -> float:
        """The loss of a validation ``batch`` (on the CPU); ``lips`` is the lips' own CTC reading of it that the
        trainer's reader computed (:attr:`lipread.readers.base.Reading.lips`), when the model has one."""
        raise NotImplementedError


@OBJECTIVES.register("ctc")
class CTCObjective(Objective):
    """CTC (+ align head cross-entropy, + distillation from an audio teacher)."""

    def check(self) -> None:
        super().check()
        d = self.cfg.distill
        if d.weight > 0 and d.head == "align" and not getattr(self.model, "has_align_head", False):
            raise ConfigError("distill.head=align needs a student with an align head",
                              fix="Set model.args.align_head=true, or distill.head=ctc.")

    def loss(self, model, batch, progress: float, autocast=nullcontext) -> torch.Tensor:
        cfg, teacher = self.cfg, self.teacher
        want_align = cfg.align_weight > 0 or (teacher is not None and cfg.distill.head == "align")
        align = None
        with autocast():
            if want_align:
                log_probs, out_lengths, align = model(batch.video, batch.video_lengths, return_align=True)
            else:
                log_probs, out_lengths = model(batch.video, batch.video_lengths)
        loss = ctc_loss(log_probs, out_lengths, batch.targets, batch.target_lengths)
        if cfg.align_weight > 0:
            loss = loss + cfg.align_weight * align_loss(align, batch.frame_labels)
        if teacher is not None:
            from lipread.train.distill import distill_loss

            target, target_lengths = teacher(batch.audio, batch.audio_lengths)
            student = align if cfg.distill.head == "align" else log_probs
            loss = loss + cfg.distill.weight * distill_loss(student, out_lengths, target, target_lengths,
                                                            cfg.distill.temperature)
        return loss

    def validation_loss(self, batch, lips) -> float:
        log_probs, out_lengths = lips
        return float(ctc_loss(log_probs, out_lengths, batch.targets.cpu(), batch.target_lengths.cpu()))


@OBJECTIVES.register("attention")
class AttentionObjective(Objective):
    """The attention model's own loss (attention cross-entropy, its CTC and align heads, weighted inside it)."""

    def check(self) -> None:
        super().check()
        if not self.has_audio and getattr(self.model, "has_listen", False):
            raise ConfigError("the model has a Listen (audio) encoder, but the cache has no audio features",
                              fix=f"Prepare {self.cfg.data.cache} again with `lipread prepare ... --audio`.")
        if self.cfg.distill.weight > 0:
            raise ConfigError("distillation teaches CTC lip readers; this model decodes with attention",
                              fix="Set distill.weight=0, or train a LipNet model.")

    def loss(self, model, batch, progress: float, autocast=nullcontext) -> torch.Tensor:
        with autocast():
            parts = model(batch.video, batch.video_lengths, batch.audio, batch.audio_lengths, batch.targets,
                          batch.target_lengths, batch.frame_labels, align_weight=self.cfg.align_weight,
                          progress=progress)
        return parts["loss"]

    def validation_loss(self, batch, lips) -> float:
        parts: dict[str, Any] = self.model(batch.video, batch.video_lengths, batch.audio, batch.audio_lengths,
                                           batch.targets, batch.target_lengths)
        return float(parts["att"])


def objective_for(cfg, model: torch.nn.Module, has_audio: bool) -> Objective:
    """The checked objective of ``model``'s family."""
    from lipread.readers.base import family_of

    objective = OBJECTIVES.get(family_of(model))(cfg, model, has_audio)
    objective.check()
    return objective


__all__ = ["OBJECTIVES", "AttentionObjective", "CTCObjective", "Objective", "align_loss", "objective_for"]
