"""Noise for the sound track: white noise and babble mixed in at a chosen signal-to-noise ratio.

Legend: S samples (16 kHz mono float32). The SNR is the clean signal's power over the added noise's
power across the whole clip, ``10 log10(sum(clean**2) / sum((mixed - clean)**2))``: :func:`mix_at_snr`
scales the noise so that this measured value is exactly the one asked for.

Babble is several other utterances of the same corpus summed (each at equal power, each started at a
random point and wrapped around), so it sounds like a room of talkers saying GRID sentences: the
hardest noise for an audio-only reader, because it is speech. WLAS training mixes it in at random
SNRs (:class:`NoiseConfig`) so the model learns to lean on the lips when the sound is bad; evaluation
mixes it in at one SNR with a seed per clip, so a number can be rerun.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from lipread.config import bounded
from lipread.errors import UsageError

NOISE_KINDS = ("white", "babble")


def power(x: np.ndarray) -> float:
    """Mean square of a waveform (float64)."""
    x = np.asarray(x, dtype=np.float64)
    return float(np.mean(x * x)) if x.size else 0.0


def measured_snr(clean: np.ndarray, mixed: np.ndarray) -> float:
    """SNR in dB of ``mixed`` against ``clean``: clean power over the power of what was added."""
    noise = np.asarray(mixed, dtype=np.float64) - np.asarray(clean, dtype=np.float64)
    return 10.0 * np.log10(max(power(clean), 1e-20) / max(power(noise), 1e-20))


def mix_at_snr(clean: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    """``clean + g * noise`` (float32, same length as ``clean``) with ``g`` set so the SNR is ``snr_db``.

    ``noise`` shorter than ``clean`` is repeated. A silent clip gets no noise (its SNR is undefined);
    silent noise is an error.
    """
    clean = np.asarray(clean, dtype=np.float32)
    noise = np.asarray(noise, dtype=np.float32)
    if noise.size == 0 or power(noise) <= 0.0:
        raise ValueError("the noise is silent")
    if len(noise) < len(clean):
        noise = np.tile(noise, int(np.ceil(len(clean) / len(noise))))
    noise = noise[: len(clean)].astype(np.float64)
    pc = power(clean)
    if pc <= 0.0:
        return clean.copy()
    gain = np.sqrt(pc / (power(noise) * 10.0 ** (snr_db / 10.0)))
    return (clean.astype(np.float64) + gain * noise).astype(np.float32)


def white_noise(n: int, rng: np.random.Generator) -> np.ndarray:
    """(n,) float32 Gaussian white noise of unit variance."""
    return rng.standard_normal(n).astype(np.float32)


def babble(n: int, sources: Sequence[np.ndarray], rng: np.random.Generator, talkers: int = 6) -> np.ndarray:
    """(n,) float32: ``talkers`` utterances drawn from ``sources``, each at unit power, started at a random
    sample and wrapped around, summed."""
    usable = [s for s in sources if len(s) > 0 and power(s) > 0]
    if not usable:
        raise ValueError("babble needs at least one non-silent source utterance")
    out = np.zeros(n, dtype=np.float64)
    for i in rng.choice(len(usable), size=talkers, replace=len(usable) < talkers):
        s = np.asarray(usable[int(i)], dtype=np.float64)
        s = s / np.sqrt(power(s))
        reps = int(np.ceil((n + len(s)) / len(s)))
        start = int(rng.integers(len(s)))
        out += np.tile(s, reps)[start : start + n]
    return out.astype(np.float32)


@dataclass
class NoiseConfig:
    """Training noise: with probability ``prob`` a clip's sound gets ``white`` or ``babble`` noise (chosen
    with probability ``babble`` for babble) at an SNR drawn uniformly from [``snr_min``, ``snr_max``] dB."""

    prob: float = bounded(0.0, lo=0.0, hi=1.0)
    babble: float = bounded(0.5, lo=0.0, hi=1.0)
    snr_min: float = -10.0
    snr_max: float = 20.0
    talkers: int = bounded(6, lo=1)


class NoiseMixer:
    """Mixes noise into one clip's sound. ``pool(rng, exclude)`` returns babble source waveforms (other
    utterances of the corpus, never the clip itself)."""

    def __init__(self, pool: Callable[[np.random.Generator, str], list[np.ndarray]], talkers: int = 6):
        self.pool, self.talkers = pool, talkers

    def noise(self, kind: str, n: int, rng: np.random.Generator, clip_id: str = "") -> np.ndarray:
        if kind == "white":
            return white_noise(n, rng)
        if kind == "babble":
            return babble(n, self.pool(rng, clip_id), rng, self.talkers)
        raise UsageError(f"unknown noise {kind!r}", fix=f"Use one of {', '.join(NOISE_KINDS)}.")

    def mix(self, wave: np.ndarray, kind: str, snr_db: float, rng: np.random.Generator, clip_id: str = "") -> np.ndarray:
        return mix_at_snr(wave, self.noise(kind, len(wave), rng, clip_id), snr_db)

    def random(self, wave: np.ndarray, cfg: NoiseConfig, rng: np.random.Generator, clip_id: str = "") -> np.ndarray:
        """Training: noise at a random kind and SNR with probability ``cfg.prob``, else ``wave`` unchanged."""
        if cfg.prob <= 0 or rng.random() >= cfg.prob:
            return wave
        kind = "babble" if rng.random() < cfg.babble else "white"
        return self.mix(wave, kind, float(rng.uniform(cfg.snr_min, cfg.snr_max)), rng, clip_id)


def clip_seed(seed: int, clip_id: str) -> list[int]:
    """A per-clip seed for evaluation noise: the same clip gets the same noise in every run and batch."""
    return [int(seed), zlib.crc32(clip_id.encode())]


def check_noise_args(noise: str | None, snr: float | None) -> None:
    """``--snr`` needs ``--noise``; ``--noise`` needs ``--snr``."""
    if snr is not None and not noise:
        raise UsageError("--snr was given without --noise", fix="Add --noise white or --noise babble, or drop --snr.")
    if noise and snr is None:
        raise UsageError(f"--noise {noise} needs --snr DB", fix="Give the signal-to-noise ratio, e.g. --snr 0.")
    if noise and noise not in NOISE_KINDS:
        raise UsageError(f"unknown noise {noise!r}", fix=f"Use one of {', '.join(NOISE_KINDS)}.")


__all__ = ["NOISE_KINDS", "NoiseConfig", "NoiseMixer", "babble", "check_noise_args", "clip_seed", "measured_snr",
           "mix_at_snr", "power", "white_noise"]
