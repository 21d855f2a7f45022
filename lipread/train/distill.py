"""The sound as a teacher: cross-modal distillation from an audio-visual model into a lip reader.

A trained WLAS reads the sound of the training clips far better than any model reads their lips. Its
Listen encoder's per-frame heads (25 Hz, the same CTC classes as LipNet) give soft targets for the lip
reader's own per-frame posteriors ("Hearing Lips", Zhao et al. AAAI 2020; Afouras et al. ICASSP 2020):
a second loss, ``weight * T^2 * KL(teacher || student)`` per valid frame at temperature ``T``, next to
CTC. The teacher reads only the (clean) sound, so the student learns from the sound of clips whose lips
it cannot yet read, and the loss uses signal that lipreading otherwise throws away.

Shape legend: B clips, T frames (25 Hz), V CTC classes (blank + symbols).
"""

from __future__ import annotations

import torch

from lipread.errors import ConfigError
from lipread.train.config import DistillConfig


def distill_loss(student: torch.Tensor, student_lengths: torch.Tensor, teacher: torch.Tensor,
                 teacher_lengths: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
    """Mean over valid frames of ``T^2 * KL(teacher_T || student_T)``; inputs are (B, T, V) log-probs
    (log-softmax outputs; re-normalised at temperature T here). Frames past either length are ignored."""
    n = min(student.shape[1], teacher.shape[1])
    s = (student[:, :n].float() / temperature).log_softmax(-1)
    t = (teacher[:, :n].float() / temperature).log_softmax(-1)
    lengths = torch.minimum(student_lengths.cpu(), teacher_lengths.cpu()).clamp(max=n)
    mask = (torch.arange(n)[None, :] < lengths[:, None]).to(s.device)
    kl = (t.exp() * (t - s)).sum(-1)  # (B, n)
    frames = mask.sum().clamp(min=1)
    return (kl * mask).sum() / frames * temperature**2


def _features(data: dict | None):
    """Audio feature options with the defaults filled in, so partial and full dicts compare equal."""
    from lipread.audio.features import AudioFeatureConfig
    from lipread.config import build_config

    return build_config(AudioFeatureConfig, dict(data or {}))


class AudioTeacher:
    """A frozen model that reads sound, giving per-frame soft targets from a batch's audio features."""

    def __init__(self, cfg: DistillConfig, device: torch.device, audio_features: dict | None):
        from lipread.models.checkpoint import load_model
        from lipread.models.zoo import resolve_model

        path = resolve_model(cfg.teacher)
        self.model, config = load_model(path, device=device)
        if not getattr(self.model, "has_listen", False):
            raise ConfigError(f"the distillation teacher {cfg.teacher} does not read sound",
                              fix="Give an audio-visual model (e.g. a WLAS checkpoint) as distill.teacher.")
        self.model.eval().float()
        for p in self.model.parameters():
            p.requires_grad_(False)
        wanted = (config.get("preprocess") or {}).get("audio_features")
        if wanted and _features(audio_features) != _features(wanted):
            raise ConfigError(f"the teacher reads audio features {wanted}, the training data gives {audio_features}",
                              fix="Set data.audio_features to the teacher's (its config.json, preprocess).")
        self.cfg = cfg

    @torch.no_grad()
    def __call__(self, audio: torch.Tensor | None, audio_lengths: torch.Tensor | None):
        """-> (log-probs (B, T, V), lengths (B,)) of the teacher's chosen head on the sound."""
        if audio is None:
            raise ConfigError("distillation needs the sound of the training clips, but the batch has none",
                              fix="Prepare the cache with --audio and set data.audio_features.")
        states, lengths = self.model.listen(audio, audio_lengths)
        head = self.model.audio_align if self.cfg.head == "align" else self.model.audio_ctc
        if head is None:
            raise ConfigError("the teacher has no audio align head", fix="Use distill.head=ctc.")
        return head(states).float().log_softmax(-1), lengths


__all__ = ["AudioTeacher", "DistillConfig", "distill_loss"]
