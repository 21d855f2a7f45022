"""Curriculum pieces of the LRS recipe: word spans capped at ``max_words``; the frame budget reaches the sampler."""

from __future__ import annotations

import numpy as np

from lipread.data.augment import word_span
from lipread.data.sampler import FrameBudgetBatchSampler
from lipread.train.config import load_train_config

WORDS = [[f"w{k}", 0.2 + 0.4 * k, 0.5 + 0.4 * k] for k in range(12)]


def test_word_spans_respect_max_words_and_keep_draws_without_it():
    rng = np.random.default_rng(0)
    lengths = {len(word_span(WORDS, 150, 25.0, rng, max_words=3)[2].split()) for _ in range(300)}
    assert lengths == {1, 2, 3}
    a = [word_span(WORDS, 150, 25.0, np.random.default_rng(k)) for k in range(20)]
    b = [word_span(WORDS, 150, 25.0, np.random.default_rng(k), max_words=0) for k in range(20)]
    assert a == b  # max_words=0 draws exactly as before (runs resumed across the change replay the same)
    assert max(len(s[2].split()) for s in a) > 3


def test_max_frames_bounds_every_batch():
    cfg = load_train_config(None, ["data.max_frames=300", "data.batch_size=64", "init_from=runs/x", "auto_resume=true"])
    assert cfg.data.max_frames == 300 and cfg.init_from == "runs/x" and cfg.auto_resume
    lengths = list(np.random.default_rng(1).integers(20, 150, size=200))
    batches = FrameBudgetBatchSampler(lengths, max_frames=cfg.data.max_frames, max_batch_size=cfg.data.batch_size).batches(0)
    assert all(len(b) * max(lengths[i] for i in b) <= 300 for b in batches)
    assert sorted(i for b in batches for i in b) == list(range(200))
