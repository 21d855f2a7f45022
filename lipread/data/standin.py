"""Stand-in speakers: validation clips of the training speaker made to look and sound like someone else.

With one speaker there is no other speaker to choose settings on, so each validation clip is given to one of
nine fixed stand-ins (by a hash of its id) and changed by transforms that training never applies
(:mod:`lipread.data.augment` and :mod:`lipread.audio.voice` hold what training applies):

- the voice: its **formants** moved at the same pitch (the spectral envelope, estimated by linear
  prediction frame by frame, stretched along frequency: a longer or shorter vocal tract), and a **spectral
  tilt** (a brighter or duller voice or microphone);
- the face: a **radial warp** of the mouth crop (fuller or thinner lips, a wider or narrower mouth: not an
  affine change, which training has), a **hue rotation** (skin and lip colour; training changes brightness,
  contrast, gamma and channel gains, never hue), **sensor noise**, and a zoom outside training's scale range.

A stand-in is a proxy, not a person: it cannot change the way someone articulates. Its figures steer
choices; the real unseen-speaker figures are measured on clips we do not have.

Legend: S samples (16 kHz), T frames, H/W pixels.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class StandIn:
    name: str
    formant: float
    """The spectral envelope is stretched by this factor along frequency (>1: formants higher, a shorter
    vocal tract, as in women's and children's voices)."""
    tilt_db: float
    """dB per octave above 1 kHz (negative: duller)."""
    zoom: float
    """The mouth crop magnified by this (about its centre)."""
    warp: float
    """Radial distortion of the crop: > 0 bulges the centre (fuller lips), < 0 pinches it."""
    hue: float
    """Hue rotation in degrees."""
    noise: float
    """Sensor noise: standard deviation in grey levels."""


STANDINS: tuple[StandIn, ...] = (
    StandIn("A", formant=1.18, tilt_db=-2.0, zoom=1.25, warp=0.25, hue=8.0, noise=4.0),
    StandIn("B", formant=0.88, tilt_db=2.0, zoom=0.8, warp=-0.2, hue=-10.0, noise=2.0),
    StandIn("C", formant=1.12, tilt_db=3.0, zoom=1.0, warp=0.35, hue=-6.0, noise=6.0),
    StandIn("D", formant=0.92, tilt_db=-3.0, zoom=1.3, warp=-0.3, hue=12.0, noise=3.0),
    StandIn("E", formant=1.25, tilt_db=0.0, zoom=0.78, warp=0.15, hue=5.0, noise=5.0),
    StandIn("F", formant=0.85, tilt_db=-1.5, zoom=1.1, warp=0.3, hue=-14.0, noise=2.0),
    StandIn("G", formant=1.08, tilt_db=1.5, zoom=0.85, warp=-0.35, hue=15.0, noise=4.0),
    StandIn("H", formant=1.15, tilt_db=-4.0, zoom=1.2, warp=-0.15, hue=-4.0, noise=7.0),
    StandIn("I", formant=0.95, tilt_db=4.0, zoom=0.9, warp=0.4, hue=9.0, noise=3.0),
)


def standin_for(clip_id: str) -> StandIn:
    """The stand-in a clip is given: fixed by its id (CRC-32), so every run gives every clip the same one."""
    return STANDINS[zlib.crc32(str(clip_id).encode()) % len(STANDINS)]


def _seed(clip_id: str) -> int:
    return zlib.crc32(("standin:" + str(clip_id)).encode())


def formant_shift(wave: np.ndarray, factor: float, tilt_db: float = 0.0, sample_rate: int = 16000,
                  order: int = 18, n_fft: int = 512, hop: int = 128) -> np.ndarray:
    """``wave`` (S,) float32 with its spectral envelope stretched by ``factor`` and tilted by ``tilt_db`` per
    octave above 1 kHz, at the same pitch, length and RMS.

    Per STFT frame: the envelope 1/|A(f)| of an order-``order`` linear-prediction fit; the frame's spectrum is
    multiplied by envelope(f / factor) / envelope(f) (the harmonics stay where they are, their amplitudes
    follow the moved formants).
    """
    import librosa

    wave = np.asarray(wave, dtype=np.float32)
    if len(wave) < n_fft:
        return wave.copy()
    spec = librosa.stft(wave, n_fft=n_fft, hop_length=hop, window="hann", center=True, pad_mode="constant")
    padded = np.pad(wave, (n_fft // 2, n_fft // 2))
    frames = librosa.util.frame(padded, frame_length=n_fft, hop_length=hop, axis=0)[: spec.shape[1]]
    frames = frames * np.hanning(n_fft).astype(np.float32)
    # a little dither so that silent frames have a well-posed fit
    frames = frames + np.random.default_rng(0).standard_normal(frames.shape).astype(np.float32) * 1e-5
    lpc = librosa.lpc(frames, order=order, axis=-1)  # (N, order + 1)
    bad = ~np.all(np.isfinite(lpc), axis=-1)  # a fit that failed (near-silent frame): a flat envelope
    lpc[bad] = 0.0
    lpc[bad, 0] = 1.0
    envelope = 1.0 / np.maximum(np.abs(np.fft.rfft(lpc, n=n_fft, axis=-1)), 1e-6)  # (N, F)
    bins = np.arange(envelope.shape[1], dtype=np.float64)
    source = np.clip(bins / factor, 0, bins[-1])
    lo = np.floor(source).astype(int)
    hi = np.minimum(lo + 1, len(bins) - 1)
    frac = (source - lo)[None, :]
    warped = envelope[:, lo] * (1 - frac) + envelope[:, hi] * frac
    gain = np.nan_to_num((warped / envelope).T, nan=1.0, posinf=1.0, neginf=1.0)  # (F, N)
    if tilt_db:
        freqs = bins * sample_rate / n_fft
        octaves = np.log2(np.maximum(freqs, 1000.0) / 1000.0)
        gain = gain * (10 ** (tilt_db * octaves / 20))[:, None]
    out = librosa.istft(spec * gain, hop_length=hop, window="hann", center=True, length=len(wave))
    rms_in, rms_out = np.sqrt(np.mean(wave**2)), np.sqrt(np.mean(out**2))
    return np.clip(out * (rms_in / rms_out if rms_out > 0 else 1.0), -1.0, 1.0).astype(np.float32)


def standin_voice(wave: np.ndarray, who: StandIn) -> np.ndarray:
    return formant_shift(wave, who.formant, who.tilt_db)


def standin_video(video: np.ndarray, who: StandIn, clip_id: str = "") -> np.ndarray:
    """(T, H, W, C) uint8 -> the same shape: zoom and radial warp (one remap), hue rotation, sensor noise
    (seeded by ``clip_id``)."""
    import cv2

    t, h, w, c = video.shape
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    nx, ny = (xs - (w - 1) / 2) / (w / 2), (ys - (h - 1) / 2) / (h / 2)
    r2 = nx**2 + ny**2
    # a source point for each output point: magnified by zoom, the centre bulging (warp > 0) or pinched
    scale = (1.0 - who.warp * (1.0 - np.minimum(r2, 1.0))) / who.zoom
    map_x = (nx * scale * (w / 2) + (w - 1) / 2).astype(np.float32)
    map_y = (ny * scale * (h / 2) + (h - 1) / 2).astype(np.float32)
    out = np.empty_like(video)
    for i in range(t):
        out[i] = cv2.remap(video[i], map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE).reshape(h, w, c)
    if c == 3 and who.hue:
        hsv = np.stack([cv2.cvtColor(f, cv2.COLOR_RGB2HSV) for f in out])
        hsv[..., 0] = ((hsv[..., 0].astype(np.int16) + int(round(who.hue / 2))) % 180).astype(np.uint8)
        out = np.stack([cv2.cvtColor(f, cv2.COLOR_HSV2RGB) for f in hsv])
    if who.noise:
        rng = np.random.default_rng(_seed(clip_id))
        out = np.clip(out.astype(np.float32) + rng.standard_normal(out.shape).astype(np.float32) * who.noise,
                      0, 255).round().astype(np.uint8)
    return out


__all__ = ["STANDINS", "StandIn", "formant_shift", "standin_for", "standin_video", "standin_voice"]
