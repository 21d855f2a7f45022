"""Issue 26: augmentations that make one speaker look and sound like many, and the stand-in speakers."""

from __future__ import annotations

import numpy as np
import pytest

from lipread.audio.voice import (
    VoiceConfig,
    augment_voice,
    pitch_shift,
    resample_length,
    reverberate,
    room_impulse,
    telephone,
)
from lipread.data.augment import (
    AugmentConfig,
    VideoAugment,
    affine_jitter,
    draw_shift,
    gaussian_blur,
    jpeg_compress,
    photometric,
    shift_index,
    speed_index,
    to_grey,
)
from lipread.data.standin import STANDINS, formant_shift, standin_for, standin_video

SR = 16000


def tone(freq: float, seconds: float = 1.0) -> np.ndarray:
    t = np.arange(int(SR * seconds)) / SR
    return (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def peak_hz(wave: np.ndarray) -> float:
    spec = np.abs(np.fft.rfft(wave * np.hanning(len(wave))))
    return float(np.argmax(spec) * SR / len(wave))


def band_energy(wave: np.ndarray, lo: float, hi: float) -> float:
    spec = np.abs(np.fft.rfft(wave)) ** 2
    f = np.fft.rfftfreq(len(wave), 1 / SR)
    return float(spec[(f >= lo) & (f < hi)].sum())


def vowel(f0: float = 110.0, formants=(700, 1200, 2600), seconds: float = 1.0) -> np.ndarray:
    """A harmonic series under a formant envelope (a crude /a/)."""
    t = np.arange(int(SR * seconds)) / SR
    out = np.zeros_like(t)
    for k in range(1, int(7000 / f0)):
        f = k * f0
        amp = sum(1.0 / (1 + ((f - fc) / 120.0) ** 2) for fc in formants)
        out += amp * np.sin(2 * np.pi * f * t)
    return (0.3 * out / np.abs(out).max()).astype(np.float32)


def centroid(wave: np.ndarray) -> float:
    spec = np.abs(np.fft.rfft(wave)) ** 2
    f = np.fft.rfftfreq(len(wave), 1 / SR)
    return float((spec * f).sum() / spec.sum())


# --- the voice -----------------------------------------------------------------------------------------


def test_speed_resampling_scales_length_and_frequency():
    out = resample_length(tone(500.0), int(0.8 * SR))  # 1.25x as fast
    assert len(out) == int(0.8 * SR)
    assert peak_hz(out) == pytest.approx(625.0, abs=3.0)


def test_pitch_shift_moves_the_tone_and_keeps_the_length():
    out = pitch_shift(tone(400.0), 12.0)
    assert len(out) == SR
    assert peak_hz(out) == pytest.approx(800.0, rel=0.03)


def test_reverb_keeps_loudness_and_adds_a_tail():
    burst = np.zeros(SR, np.float32)
    burst[1000:3000] = tone(300.0, 2000 / SR)
    ir = room_impulse(0.5, 0.6, np.random.default_rng(0))
    assert len(ir) == int(0.5 * SR) and ir[0] == 1.0
    out = reverberate(burst, ir)
    assert np.sqrt(np.mean(out**2)) == pytest.approx(np.sqrt(np.mean(burst**2)), rel=1e-3)
    tail = slice(4000, 8000)  # after the burst ended: silence before, the room after
    assert np.abs(burst[tail]).max() == 0 and np.sqrt(np.mean(out[tail] ** 2)) > 0.01


def test_telephone_keeps_the_voice_band_only():
    wave = tone(100.0) + tone(1000.0) + tone(6000.0)
    out = telephone(wave)
    assert len(out) == len(wave)
    assert band_energy(out, 900, 1100) > 0.5 * band_energy(wave, 900, 1100)
    assert band_energy(out, 50, 150) < 0.05 * band_energy(wave, 50, 150)
    assert band_energy(out, 5000, 7000) < 0.01 * band_energy(wave, 5000, 7000)


def test_voice_augmentation_is_seeded_and_off_by_default():
    wave = vowel()
    cfg = VoiceConfig(pitch=1.0, reverb=1.0, band=0.5, gain=1.0)
    a = augment_voice(wave, cfg, np.random.default_rng(3))
    b = augment_voice(wave, cfg, np.random.default_rng(3))
    assert np.array_equal(a, b) and len(a) == len(wave) and not np.allclose(a, wave)
    assert np.abs(a).max() <= 1.0
    assert np.array_equal(augment_voice(wave, VoiceConfig(), np.random.default_rng(3)), wave)
    assert not VoiceConfig().active and cfg.active


# --- the face and the clock ----------------------------------------------------------------------------


def clip(t: int = 10) -> np.ndarray:
    rng = np.random.default_rng(0)
    base = np.zeros((50, 100, 3), np.uint8)
    base[15:35, 25:75] = (200, 90, 90)  # lips
    base += rng.integers(0, 30, base.shape, dtype=np.uint8)
    return np.repeat(base[None], t, axis=0)


def test_affine_jitter_moves_the_mouth_and_is_the_same_on_every_frame():
    video = clip()
    c = AugmentConfig(affine_scale=(1.3, 1.3), affine_aspect=(1.0, 1.0), affine_rotate=0.0, affine_shift=0.0)
    out = affine_jitter(video, c, np.random.default_rng(0))
    assert out.shape == video.shape and out.dtype == np.uint8
    red = lambda v: ((v[0, ..., 0] > 150) & (v[0, ..., 1] < 140)).sum()  # noqa: E731
    assert red(out) == pytest.approx(1.3**2 * red(video), rel=0.1)  # 1.3x larger in both directions
    assert np.array_equal(out[0], out[-1])
    same = AugmentConfig(affine_scale=(1.0, 1.0), affine_aspect=(1.0, 1.0), affine_rotate=0.0, affine_shift=0.0)
    assert np.abs(affine_jitter(video, same, np.random.default_rng(0)).astype(int) - video).max() <= 1


def test_photometric_grey_blur_and_jpeg():
    video = clip(3)
    c = AugmentConfig(brightness=0.0, contrast=(1.5, 1.5), gamma=(1.0, 1.0), colour=0.0)
    out = photometric(video, c, np.random.default_rng(0))
    assert out.std() > 1.2 * video.std() and out.dtype == np.uint8  # clipped at black, so under 1.5x
    grey = to_grey(video)
    assert np.array_equal(grey[..., 0], grey[..., 1]) and np.array_equal(grey[..., 1], grey[..., 2])
    blurred = gaussian_blur(video, 1.5)
    assert np.abs(np.diff(blurred.astype(int), axis=2)).mean() < 0.7 * np.abs(np.diff(video.astype(int), axis=2)).mean()
    jpg = jpeg_compress(video, 10)
    assert jpg.shape == video.shape and 0 < np.abs(jpg.astype(int) - video).mean() < 20


def test_appearance_draws_nothing_when_off():
    """Older recipes replay the same batches: with every new option off, no random number is drawn."""
    rng = np.random.default_rng(5)
    out = VideoAugment(AugmentConfig(), train=True).appearance(clip(2), rng)
    assert np.array_equal(out, clip(2)) and rng.random() == np.random.default_rng(5).random()


def test_speed_and_shift_indices():
    fast = speed_index(75, 1.2)
    assert len(fast) == 62 and fast[0] == 0 and fast[-1] <= 74 and np.all(np.diff(fast) >= 0)
    assert len(speed_index(75, 0.85)) == 88
    assert shift_index(10, 3, -2).tolist() == [0, 0, 0] + list(range(8))
    assert shift_index(10, -4, 2).tolist() == list(range(4, 10)) + [9, 9]
    rng = np.random.default_rng(0)
    for _ in range(200):  # cuts never reach into the words (frames 20-60) nor past the margin
        lead, tail = draw_shift(75, (20, 60), 30, rng, margin=2)
        assert -18 <= lead <= 30 and -13 <= tail <= 30


# --- the stand-ins -------------------------------------------------------------------------------------


def test_formant_shift_moves_the_envelope_not_the_pitch():
    wave = vowel(f0=110.0)
    up, down = formant_shift(wave, 1.2), formant_shift(wave, 0.85)
    assert len(up) == len(wave)
    assert np.sqrt(np.mean(up**2)) == pytest.approx(np.sqrt(np.mean(wave**2)), rel=1e-3)
    assert centroid(up) > 1.08 * centroid(wave) and centroid(down) < 0.95 * centroid(wave)
    # the harmonics stay at multiples of 110 Hz: the energy between them stays small
    spec = np.abs(np.fft.rfft(up)) ** 2
    f = np.fft.rfftfreq(len(up), 1 / SR)
    on = np.isclose((f / 110.0) % 1.0, 0.0, atol=0.02) | np.isclose((f / 110.0) % 1.0, 1.0, atol=0.02)
    assert spec[on].sum() > 0.9 * spec.sum()


def test_standins_are_fixed_per_clip_and_all_used():
    ids = [f"s1/clip{i}" for i in range(300)]
    assert [standin_for(i).name for i in ids] == [standin_for(i).name for i in ids]
    assert {standin_for(i).name for i in ids} == {s.name for s in STANDINS}


def test_standin_video_changes_shape_and_colour_deterministically():
    video = clip(4)
    who = STANDINS[0]
    a, b = standin_video(video, who, "x"), standin_video(video, who, "x")
    assert a.shape == video.shape and np.array_equal(a, b)
    assert np.abs(a.astype(int) - video).mean() > 5
