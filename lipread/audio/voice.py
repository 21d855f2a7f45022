"""Seeded waveform augmentations that make one speaker's sound vary like many speakers' (issue 26).

All take a mono float32 16 kHz waveform ``(S,)`` and a ``numpy.random.Generator`` and return a new one of the
same length (``speed`` changes the length: it is applied jointly with the video by the dataset).

- ``speed``: resampling by a factor (tempo, pitch and formants together; Ko et al. 2015's speed
  perturbation, kept in step with the lips by the dataset)                                      [Kaldi]
- ``pitch``: the fundamental moved by a few semitones at the same tempo (librosa's phase vocoder)
- ``gain``: louder or quieter (the features are normalised per utterance, but clipping and the noise
  floor are not)
- ``reverb``: convolution with a synthetic room impulse response (exponentially decaying noise, RT60
  drawn in a range, plus the direct path)
- ``band``: a telephone channel: 300-3400 Hz through an 8 kHz resampling

Formant shifting is deliberately not here: it is one of the transforms of the stand-in speakers
(:mod:`lipread.data.standin`), so the development set stays apart from what training sees.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lipread.types import AUDIO_SAMPLE_RATE


@dataclass
class VoiceConfig:
    """Probabilities (per clip) and ranges of the waveform augmentations; all 0 = off."""

    pitch: float = 0.0
    """Probability of a pitch shift."""
    pitch_semitones: tuple[float, float] = (-4.0, 4.0)
    gain: float = 0.0
    """Probability of a gain change."""
    gain_db: tuple[float, float] = (-15.0, 6.0)
    reverb: float = 0.0
    """Probability of room reverberation."""
    reverb_rt60: tuple[float, float] = (0.15, 0.7)
    """Reverberation time (s) of the synthetic room."""
    reverb_wet: tuple[float, float] = (0.2, 0.8)
    """Share of the reverberant tail's energy against the direct path's."""
    band: float = 0.0
    """Probability of a telephone channel (300-3400 Hz, through 8 kHz)."""

    @property
    def active(self) -> bool:
        return any(p > 0 for p in (self.pitch, self.gain, self.reverb, self.band))


def resample_length(wave: np.ndarray, n: int) -> np.ndarray:
    """``wave`` resampled to ``n`` samples (FFT method): played ``len(wave) / n`` times faster, all frequencies
    scaled by that factor."""
    from scipy.signal import resample

    wave = np.asarray(wave, dtype=np.float32)
    if n == len(wave) or len(wave) < 2:
        return wave.copy()
    return resample(wave, max(1, int(n))).astype(np.float32)


def pitch_shift(wave: np.ndarray, semitones: float, sample_rate: int = AUDIO_SAMPLE_RATE) -> np.ndarray:
    import librosa

    wave = np.asarray(wave, dtype=np.float32)
    if len(wave) < 2048 or semitones == 0:
        return wave.copy()
    return librosa.effects.pitch_shift(wave, sr=sample_rate, n_steps=float(semitones)).astype(np.float32)


def room_impulse(rt60: float, wet: float, rng: np.random.Generator, sample_rate: int = AUDIO_SAMPLE_RATE) -> np.ndarray:
    """A synthetic impulse response: a unit direct path, then noise decaying 60 dB in ``rt60`` seconds whose
    energy is ``wet / (1 - wet)`` of the direct path's."""
    n = max(2, int(rt60 * sample_rate))
    t = np.arange(n) / sample_rate
    tail = rng.standard_normal(n) * np.exp(-6.9078 * t / rt60)  # 60 dB = e^-6.9
    tail[0] = 0.0
    wet = float(np.clip(wet, 0.0, 0.95))
    tail *= np.sqrt(wet / (1 - wet) / max(np.sum(tail**2), 1e-12))
    tail[0] = 1.0
    return tail.astype(np.float32)


def reverberate(wave: np.ndarray, impulse: np.ndarray) -> np.ndarray:
    """``wave`` convolved with ``impulse``, cut to its length, at the same RMS."""
    from scipy.signal import fftconvolve

    wave = np.asarray(wave, dtype=np.float32)
    out = fftconvolve(wave, impulse)[: len(wave)]
    rms_in, rms_out = np.sqrt(np.mean(wave**2)), np.sqrt(np.mean(out**2))
    return (out * (rms_in / rms_out if rms_out > 0 else 1.0)).astype(np.float32)


def telephone(wave: np.ndarray, sample_rate: int = AUDIO_SAMPLE_RATE) -> np.ndarray:
    """300-3400 Hz band, as a phone call carries, through an 8 kHz resampling (same length and rate)."""
    from scipy.signal import butter, resample_poly, sosfiltfilt

    wave = np.asarray(wave, dtype=np.float32)
    if len(wave) < 64:
        return wave.copy()
    narrow = resample_poly(wave, 1, sample_rate // 8000)
    sos = butter(4, [300, 3400], btype="bandpass", fs=8000, output="sos")
    narrow = sosfiltfilt(sos, narrow)
    back = resample_poly(narrow, sample_rate // 8000, 1)[: len(wave)]
    return np.pad(back, (0, len(wave) - len(back))).astype(np.float32)


def augment_voice(wave: np.ndarray, config: VoiceConfig, rng: np.random.Generator) -> np.ndarray:
    """The augmentations of ``config``, each with its probability, in a fixed order (pitch, reverb, band,
    gain); the same length as ``wave``; clipped to [-1, 1] as a recording would be."""
    out = np.asarray(wave, dtype=np.float32)
    c = config
    if c.pitch > 0 and rng.random() < c.pitch:
        out = pitch_shift(out, rng.uniform(*c.pitch_semitones))
    if c.reverb > 0 and rng.random() < c.reverb:
        out = reverberate(out, room_impulse(rng.uniform(*c.reverb_rt60), rng.uniform(*c.reverb_wet), rng))
    if c.band > 0 and rng.random() < c.band:
        out = telephone(out)
    if c.gain > 0 and rng.random() < c.gain:
        out = out * np.float32(10 ** (rng.uniform(*c.gain_db) / 20))
    return np.clip(out, -1.0, 1.0).astype(np.float32)


__all__ = ["VoiceConfig", "augment_voice", "pitch_shift", "resample_length", "reverberate", "room_impulse",
           "telephone"]
