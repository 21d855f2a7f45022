"""The noise mixer: white and babble noise at an asked signal-to-noise ratio."""

from __future__ import annotations

import numpy as np
import pytest

from lipread.audio.noise import (
    NoiseConfig,
    NoiseMixer,
    babble,
    check_noise_args,
    measured_snr,
    mix_at_snr,
    power,
)
from lipread.errors import UsageError


def speechlike(n: int, seed: int) -> np.ndarray:
    """A burst of tones with silence around it, like a clip with speech in the middle."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / 16000
    x = np.zeros(n, np.float32)
    a, b = n // 4, 3 * n // 4
    x[a:b] = (0.3 * np.sin(2 * np.pi * rng.uniform(100, 300) * t[a:b])
              + 0.1 * rng.standard_normal(b - a)).astype(np.float32)
    return x


@pytest.mark.parametrize("kind", ["white", "babble"])
@pytest.mark.parametrize("snr", [20.0, 10.0, 5.0, 0.0, -5.0, -10.0])
def test_mixed_signal_has_the_asked_snr(kind, snr):
    clean = speechlike(48000, 0)
    sources = [speechlike(40000 + 1000 * i, i + 1) for i in range(8)]
    mixer = NoiseMixer(lambda rng, clip_id: sources, talkers=6)
    mixed = mixer.mix(clean, kind, snr, np.random.default_rng(3))
    assert mixed.dtype == np.float32 and mixed.shape == clean.shape
    assert abs(measured_snr(clean, mixed) - snr) < 0.1
    assert power(mixed - clean) > 0


def test_babble_is_a_sum_of_the_sources_and_seeded():
    sources = [speechlike(30000, i) for i in range(4)]
    a = babble(48000, sources, np.random.default_rng(7), talkers=3)
    b = babble(48000, sources, np.random.default_rng(7), talkers=3)
    c = babble(48000, sources, np.random.default_rng(8), talkers=3)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
    # three unit-power talkers summed: the power is near 3 (they are not correlated)
    assert 1.5 < power(a) < 4.5


def test_noise_shorter_than_the_clip_is_repeated_and_silence_is_kept():
    clean = speechlike(16000, 1)
    mixed = mix_at_snr(clean, np.ones(100, np.float32), 0.0)
    assert abs(measured_snr(clean, mixed) - 0.0) < 0.1
    silent = np.zeros(1000, np.float32)
    np.testing.assert_array_equal(mix_at_snr(silent, np.ones(10, np.float32), 0.0), silent)
    with pytest.raises(ValueError, match="silent"):
        mix_at_snr(clean, np.zeros(10, np.float32), 0.0)


def test_training_noise_is_random_but_reproducible():
    clean = speechlike(16000, 2)
    mixer = NoiseMixer(lambda rng, clip_id: [speechlike(16000, 5)], talkers=2)
    cfg = NoiseConfig(prob=1.0, snr_min=0.0, snr_max=10.0)
    a = mixer.random(clean, cfg, np.random.default_rng(1))
    b = mixer.random(clean, cfg, np.random.default_rng(1))
    np.testing.assert_array_equal(a, b)
    assert -0.1 < measured_snr(clean, a) < 10.1
    assert mixer.random(clean, NoiseConfig(prob=0.0), np.random.default_rng(1)) is clean


def test_noise_arguments():
    check_noise_args(None, None)
    check_noise_args("babble", -5.0)
    with pytest.raises(UsageError, match="--snr was given without --noise"):
        check_noise_args(None, 5.0)
    with pytest.raises(UsageError, match="needs --snr"):
        check_noise_args("white", None)
    with pytest.raises(UsageError, match="unknown noise"):
        check_noise_args("pink", 0.0)
