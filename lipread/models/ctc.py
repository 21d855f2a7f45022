"""CTC loss over the CTC-model contract: ``(log_probs (B, T, V), out_lengths (B,))``.

Shape legend: B batch, T output frames, V vocabulary + blank (id 0), S longest target.
"""

from __future__ import annotations

import logging

import torch
import torch.nn.functional as F
from torch import nn

log = logging.getLogger("lipread.models.ctc")


def ctc_loss(
    log_probs: torch.Tensor,
    out_lengths: torch.Tensor,
    targets: torch.Tensor,
    target_lengths: torch.Tensor,
    *,
    blank: int = 0,
    reduction: str = "mean",
    zero_infinity: bool = True,
) -> torch.Tensor:
    """CTC loss.

    Args:
        log_probs: (B, T, V) log-softmax outputs (batch first, as the models return them).
        out_lengths: (B,) int64 valid output frames per clip.
        targets: (B, S) int64 target ids padded with 0 (``Tokenizer.encode``; 0 = blank never occurs).
        target_lengths: (B,) int64 valid target ids per clip.
        reduction: "mean" (per-clip loss divided by its target length, then averaged, as
            ``torch.nn.CTCLoss``), "sum", "none" ((B,) per-clip losses) or "per_clip" (sum / B).
        zero_infinity: impossible alignments (target longer than the clip allows) give 0, not inf.

    Returns:
        A scalar loss (or (B,) for ``reduction="none"``), float32.
    """
    if log_probs.dim() != 3:
        raise ValueError(f"log_probs must be (B, T, V), got {tuple(log_probs.shape)}")
    out_lengths = out_lengths.to(torch.int64).cpu()
    target_lengths = target_lengths.to(torch.int64).cpu()
    too_long = target_lengths > out_lengths
    if bool(too_long.any()):
        log.warning("%d clip(s) have more target ids than output frames; their CTC loss is %s",
                    int(too_long.sum()), "zeroed" if zero_infinity else "infinite")
    red = "sum" if reduction == "per_clip" else reduction
    loss = F.ctc_loss(
        log_probs.float().transpose(0, 1),  # (T, B, V)
        targets.to(torch.int64),
        out_lengths,
        target_lengths,
        blank=blank,
        reduction=red,
        zero_infinity=zero_infinity,
    )
    if reduction == "per_clip":
        loss = loss / log_probs.shape[0]
    return loss


class CTCLoss(nn.Module):
    """Module form of :func:`ctc_loss`: ``loss(log_probs, out_lengths, targets, target_lengths)``."""

    def __init__(self, blank: int = 0, reduction: str = "mean", zero_infinity: bool = True):
        super().__init__()
        self.blank, self.reduction, self.zero_infinity = blank, reduction, zero_infinity

    def forward(self, log_probs, out_lengths, targets, target_lengths) -> torch.Tensor:
        return ctc_loss(log_probs, out_lengths, targets, target_lengths, blank=self.blank,
                        reduction=self.reduction, zero_infinity=self.zero_infinity)
