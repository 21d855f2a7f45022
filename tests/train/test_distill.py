"""The distillation loss: KL(teacher || student) per valid frame, at a temperature."""

from __future__ import annotations

import pytest
import torch

from lipread.train.distill import distill_loss


def logp(shape, seed):
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed)).log_softmax(-1)


def test_zero_for_the_same_distribution_and_positive_otherwise():
    a, b = logp((2, 7, 28), 0), logp((2, 7, 28), 1)
    lens = torch.tensor([7, 5])
    assert float(distill_loss(a, lens, a, lens, 2.0)) == pytest.approx(0.0, abs=1e-6)
    assert float(distill_loss(a, lens, b, lens, 2.0)) > 0.01


def test_padding_frames_are_ignored_and_the_mean_is_per_frame():
    a, b = logp((1, 6, 5), 2), logp((1, 6, 5), 3)
    lens = torch.tensor([4])
    c = b.clone()
    c[:, 4:] = logp((1, 2, 5), 9)  # different padding frames: the same loss
    assert float(distill_loss(a, lens, b, lens)) == pytest.approx(float(distill_loss(a, lens, c, lens)))
    # the mean over the 4 valid frames, by hand (temperature 1)
    kl = (b.exp() * (b - a)).sum(-1)[0, :4].mean()
    assert float(distill_loss(a, lens, b, lens, 1.0)) == pytest.approx(float(kl), rel=1e-5)
    # a shorter teacher limits the frames too
    assert float(distill_loss(a, torch.tensor([6]), b, lens, 1.0)) == pytest.approx(float(kl), rel=1e-5)


def test_gradient_moves_the_student_towards_the_teacher():
    teacher = logp((2, 5, 8), 4)
    logits = torch.zeros((2, 5, 8), requires_grad=True)
    opt = torch.optim.SGD([logits], lr=2.0)
    lens = torch.tensor([5, 5])
    first = None
    for _ in range(50):
        loss = distill_loss(logits.log_softmax(-1), lens, teacher, lens, 1.0)
        first = first if first is not None else float(loss)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert float(loss) < 0.1 * first
