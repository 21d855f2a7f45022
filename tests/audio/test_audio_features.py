"""Audio decoding and features: 16 kHz mono, 4 feature frames per video frame, deltas, CMVN, log-mel."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from lipread.audio import AudioFeatureConfig, compute_features, dsp
from lipread.audio.features import fit_length
from lipread.errors import ConfigError, NoAudioError
from lipread.io.audio import read_audio
from lipread.io.writer import write_audio, write_video

REPO = Path(__file__).resolve().parents[2]
TONE = np.sin(2 * np.pi * 440 * np.arange(16000) / 16000).astype(np.float32) * 0.5


@pytest.mark.parametrize("frames", [25, 24, 26])
def test_length_is_4x_frames_trimmed_or_padded(frames):
    feats = compute_features(TONE, n_video_frames=frames)
    assert feats.shape == (4 * frames, 13) and feats.dtype == np.float32
    assert np.isfinite(feats).all()


def test_unfitted_length_is_100_per_second():
    assert len(compute_features(TONE)) == 1 + 16000 // 160


def test_deltas_cmvn_and_logmel():
    cfg = AudioFeatureConfig(deltas=True, cmvn=True)
    noise = np.random.default_rng(0).normal(0, 0.1, 16000).astype(np.float32)
    feats = compute_features(noise, cfg, n_video_frames=25)
    assert feats.shape == (100, 39) == (100, cfg.dim)
    assert np.allclose(feats.mean(axis=0), 0, atol=1e-4) and np.allclose(feats.std(axis=0), 1, atol=1e-3)
    logmel = compute_features(TONE, AudioFeatureConfig(kind="logmel", n_mels=40), n_video_frames=25)
    assert logmel.shape == (100, 40)
    band = logmel.mean(axis=0).argmax()  # a 440 Hz tone peaks in a low mel band
    assert band < 15
    with pytest.raises(ConfigError):
        compute_features(TONE, AudioFeatureConfig(kind="plp"))


def test_read_audio_resamples_to_16k_mono(tmp_path):
    path = write_audio(tmp_path / "a.wav", np.tile(TONE, 2), sample_rate=16000)
    audio = read_audio(path)
    assert audio.dtype == np.float32 and audio.ndim == 1 and len(audio) == 32000
    seg = read_audio(path, start=0.5, end=1.0)
    assert len(seg) == 8000


def test_video_without_audio_raises_no_audio(tmp_path):
    path = write_video(tmp_path / "silent.mkv", np.zeros((5, 16, 16, 3), np.uint8))
    with pytest.raises(NoAudioError, match="no audio track"):
        read_audio(path)


@pytest.mark.grid
def test_grid_audio_and_mfcc_length(grid_clips):
    audio = read_audio(grid_clips[0])
    assert abs(len(audio) - 48000) < 800  # 3 s at 16 kHz (AAC pads the last frame)
    assert np.abs(audio).max() > 0.05  # the speaker is audible
    assert compute_features(audio, n_video_frames=75).shape == (300, 13)


# --- the NumPy features against librosa's (issue 27) -------------------------------------------------------
#
# compute_features used librosa until issue 27; _librosa_features below is that code, the reference.
# Tolerances (absolute, on the features as computed, before CMVN):
# - MFCC and log-mel: ATOL + RTOL * |value|. librosa takes the DCT in float32 (scipy.fft), a couple of
#   float32 spacings off, and c0 reaches -632 (silence), where one spacing is 6.1e-5: 1e-4 alone does not
#   hold there (1.2e-4 seen). Log-mel comes out bit-equal.
# - deltas: ATOL + DELTA_RTOL * the largest |value| of their coefficient in the clip. scipy >= 1.15 (under
#   librosa.feature.delta) fits the first and last width // 2 frames' polynomials in float32 for float32
#   input; the error scales with the coefficient, not its delta (2e-4 on the deltas of silence's c0, whose
#   true value is 0).
# - after CMVN: those differences divided by the coefficient's spread (see _cmvn_tolerance): where a
#   coefficient does not vary (digital silence; the delta-deltas of a clip of 3, 5, 7 or 9 frames, which is
#   one window, so one parabola) both sides normalize rounding noise and part, by up to 2.7 (the tolerance
#   grows to match); test_cmvn_of_digital_silence says what holds there.

ATOL = 1e-4
RTOL = 2.4e-7  # two float32 epsilons
DELTA_RTOL = 2e-6  # 1.4e-6 seen at width 3 (clips under 50 ms), 3e-7 at width 9


def _librosa_features(audio, config=None, n_video_frames=None, sample_rate=16000):
    """compute_features as it was with librosa (lipread before issue 27)."""
    import warnings

    librosa = pytest.importorskip("librosa")
    config = config or AudioFeatureConfig()
    win = int(round(sample_rate * config.win_ms / 1000))
    hop = int(round(sample_rate * config.hop_ms / 1000))
    n_fft = 1 << (win - 1).bit_length()
    audio = np.asarray(audio, dtype=np.float32)
    if len(audio) < win:
        audio = np.pad(audio, (0, win - len(audio)))
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="n_fft=.* is too large")
        mel = librosa.feature.melspectrogram(y=audio, sr=sample_rate, n_fft=n_fft, hop_length=hop,
                                             win_length=win, n_mels=config.n_mels, center=True, power=2.0)
    logmel = librosa.power_to_db(mel, ref=1.0, top_db=None)
    feats = librosa.feature.mfcc(S=logmel, n_mfcc=config.n_mfcc) if config.kind == "mfcc" else logmel
    if config.deltas:
        width = min(9, feats.shape[1] if feats.shape[1] % 2 else feats.shape[1] - 1)
        if width >= 3:
            d1 = librosa.feature.delta(feats, width=width, order=1)
            d2 = librosa.feature.delta(feats, width=width, order=2)
        else:
            d1 = d2 = np.zeros_like(feats)
        feats = np.concatenate([feats, d1, d2], axis=0)
    feats = feats.T.astype(np.float32)
    if n_video_frames is not None:
        feats = fit_length(feats, n_video_frames * 4)
    if config.cmvn:
        feats = (feats - feats.mean(axis=0)) / np.maximum(feats.std(axis=0), 1e-5)
    return feats.astype(np.float32)


def _raw_tolerance(ref: np.ndarray, config: AudioFeatureConfig) -> np.ndarray:
    """Per-value tolerance of un-normalized features ``ref`` (frames, F), librosa's."""
    tol = ATOL + RTOL * np.abs(ref)
    if config.deltas:
        base = ref.shape[1] // 3
        scale = np.abs(ref[:, :base]).max(axis=0)
        tol[:, base:] = ATOL + DELTA_RTOL * np.tile(scale, 2)
    return tol


def _cmvn_tolerance(raw_ref: np.ndarray, ref: np.ndarray, raw_tol: np.ndarray) -> np.ndarray:
    """Tolerance after CMVN. With |a - b| <= t in a column (a librosa's, b ours): the centred values differ by
    <= 2t, the spreads by <= t, so the normalized ones by <= (2 + |z|) t / max(std_a - t, 1e-5)."""
    t = raw_tol.max(axis=0)
    spread = np.maximum(raw_ref.std(axis=0) - t, 1e-5)
    return ATOL + (2 + np.abs(ref)) * t / spread


def _compare(audio, config, n_video_frames=None):
    """Check compute_features against librosa's; the largest differences (raw, after CMVN or None)."""
    raw_cfg = replace(config, cmvn=False)
    ref = _librosa_features(audio, raw_cfg)
    ours = compute_features(audio, raw_cfg)
    assert ours.shape == ref.shape == (1 + max(len(audio), int(round(16 * config.win_ms))) // int(round(16 * config.hop_ms)),
                                       config.dim)
    assert ours.dtype == np.float32
    tol = _raw_tolerance(ref, config)
    diff = np.abs(ours - ref)
    worst = np.unravel_index(np.argmax(diff - tol), diff.shape)
    assert (diff <= tol).all(), f"frame {worst[0]}, feature {worst[1]}: {ours[worst]} vs librosa {ref[worst]}"
    if n_video_frames is not None:
        ref, tol = fit_length(ref, 4 * n_video_frames), fit_length(tol, 4 * n_video_frames)
        fitted = compute_features(audio, raw_cfg, n_video_frames=n_video_frames)
        assert fitted.shape == (4 * n_video_frames, config.dim) and fitted.dtype == np.float32
        assert (np.abs(fitted - ref) <= tol).all()
    if not config.cmvn:
        return float(diff.max()), None
    norm_ref = _librosa_features(audio, config, n_video_frames)
    norm = compute_features(audio, config, n_video_frames=n_video_frames)
    assert norm.shape == norm_ref.shape and norm.dtype == np.float32
    norm_diff = np.abs(norm - norm_ref)
    assert (norm_diff <= _cmvn_tolerance(ref, norm_ref, tol)).all()
    return float(diff.max()), float(norm_diff.max())


_RNG = np.random.default_rng(27)
_T = np.arange(48000) / 16000
SIGNALS = {
    "noise": _RNG.normal(0, 0.1, 16000),
    "clipped noise": np.clip(_RNG.normal(0, 1, 16000), -1, 1),
    "quiet noise": _RNG.normal(0, 1e-4, 16000),
    "tone": 0.5 * np.sin(2 * np.pi * 440 * _T[:16000]),
    "chirp": 0.3 * np.sin(2 * np.pi * (100 + 1000 * _T) * _T),
    "impulse": np.eye(1, 16000, 8000)[0],
    "silence": np.zeros(16000),
    "odd length": _RNG.normal(0, 0.1, 12345),
    **{f"{n} samples": _RNG.normal(0, 0.1, n) for n in (0, 1, 100, 399, 400, 401, 480, 640, 643, 800, 960, 1120,
                                                         1280)},
}
"""Noise, tones, silence, and clips shorter than a window up to 9 frames (delta widths 3, 5, 7, 9)."""
CONFIGS = {
    **{f"{kind}{'+deltas' if d else ''}{'+cmvn' if c else ''}": AudioFeatureConfig(kind=kind, deltas=d, cmvn=c)
       for kind in ("mfcc", "logmel") for d in (False, True) for c in (False, True)},
    "mfcc 20 of 64 mels+deltas": AudioFeatureConfig(n_mfcc=20, n_mels=64, deltas=True),
    "logmel 80+deltas": AudioFeatureConfig(kind="logmel", n_mels=80, deltas=True),
    "20 ms window+deltas+cmvn": AudioFeatureConfig(win_ms=20.0, deltas=True, cmvn=True),
    "32 ms window, 16 ms hop": AudioFeatureConfig(win_ms=32.0, hop_ms=16.0, deltas=True),
}


@pytest.mark.parametrize("config", list(CONFIGS.values()), ids=list(CONFIGS))
@pytest.mark.parametrize("signal", list(SIGNALS), ids=list(SIGNALS))
def test_features_equal_librosa_on_synthetic_signals(signal, config):
    audio = np.asarray(SIGNALS[signal], dtype=np.float32)
    _compare(audio, config, n_video_frames=25 if len(audio) == 16000 and config.hop_ms == 10.0 else None)


@pytest.mark.grid
def test_features_equal_librosa_on_grid_speech(grid_clips):
    """Real speech, as recorded and with white noise: within the tolerances, and after CMVN within 1e-4
    outright (the coefficients vary, so the normalization does not magnify the float32 rounding)."""
    rng = np.random.default_rng(0)
    worst_norm = 0.0
    for clip in grid_clips[:3]:
        speech = read_audio(clip)
        for audio in (speech, speech + rng.normal(0, 0.02, speech.shape).astype(np.float32)):
            for config in CONFIGS.values():
                n = 75 if config.hop_ms == 10.0 else None
                _, norm = _compare(audio, config, n_video_frames=n)
                worst_norm = max(worst_norm, norm or 0.0)
    assert worst_norm < 1e-4


def test_cmvn_of_digital_silence():
    """No coefficient of digital silence varies, so CMVN divides rounding noise by rounding noise (or by its
    1e-5 floor), ours as much as librosa's: c0 is -632.4555 in every frame and its float32 mean is a step
    off, which CMVN turns into about +-1. What holds: the un-normalized features agree, and the normalized
    ones are finite and within the sqrt(frames) any normalized column keeps to."""
    silence = np.zeros(16000, np.float32)
    for config in (AudioFeatureConfig(deltas=True, cmvn=True), AudioFeatureConfig(kind="logmel", deltas=True,
                                                                                  cmvn=True)):
        _compare(silence, replace(config, cmvn=False))
        norm = compute_features(silence, config, n_video_frames=25)
        assert np.isfinite(norm).all() and np.abs(norm).max() <= np.sqrt(len(norm))


def test_padding_is_zeros_not_reflection():
    """The first and last frames see zeros beyond the clip, librosa >= 0.10's default: a comparison with
    librosa's reflect padding would fail, so the comparisons above do check the padding."""
    librosa = pytest.importorskip("librosa")
    audio = np.asarray(SIGNALS["noise"], np.float32)
    ours = dsp.power_stft(audio, 512, 160, 400)
    zeros = np.abs(librosa.stft(audio, n_fft=512, hop_length=160, win_length=400, pad_mode="constant")) ** 2
    reflect = np.abs(librosa.stft(audio, n_fft=512, hop_length=160, win_length=400, pad_mode="reflect")) ** 2
    scale = zeros.max()
    assert ours.shape == zeros.shape and ours.dtype == np.float32
    assert np.abs(ours - zeros).max() <= 1e-6 * scale
    assert np.abs(ours[:, 0] - reflect[:, 0]).max() > 1e-2 * scale


@pytest.mark.parametrize("sr,n_fft,n_mels", [(16000, 512, 40), (16000, 512, 80), (16000, 1024, 64),
                                             (22050, 2048, 128), (8000, 256, 26)])
def test_mel_filterbank_equals_librosa(sr, n_fft, n_mels):
    librosa = pytest.importorskip("librosa")
    ref = librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels)
    ours = dsp.mel_filterbank(sr, n_fft, n_mels)
    assert ours.shape == ref.shape and ours.dtype == np.float32
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-7 * ref.max())
    assert dsp.mel_filterbank(sr, n_fft, n_mels) is ours and not ours.flags.writeable  # cached, read-only


def test_dct_and_savgol_equal_scipy_in_float64():
    """In float64, where scipy has no float32 shortcut, the DCT and the deltas (edges included) agree to
    float64 rounding: the float32 tolerances above are librosa's rounding, not a different method."""
    scipy_fft = pytest.importorskip("scipy.fft")
    signal = pytest.importorskip("scipy.signal")
    rng = np.random.default_rng(1)
    logmel = rng.normal(-40, 20, (40, 50))
    np.testing.assert_allclose(dsp.mfcc(logmel, 13), scipy_fft.dct(logmel, axis=0, type=2, norm="ortho")[:13],
                               rtol=0, atol=1e-10)
    for n in (3, 4, 5, 8, 9, 10, 31):
        x = rng.normal(0, 10, (6, n)) + 300.0
        for width in range(3, min(n, 11) + 1, 2):
            for order in range(1, min(width, 4)):
                ref = signal.savgol_filter(x, width, polyorder=order, deriv=order, axis=-1, mode="interp")
                np.testing.assert_allclose(dsp.savgol_delta(x, width, order), ref, rtol=0, atol=1e-9,
                                           err_msg=f"n={n} width={width} order={order}")


def test_savgol_delta_rejects_what_librosa_rejects():
    x = np.zeros((2, 5))
    for width, order in ((4, 1), (1, 1), (7, 1), (3, 0)):
        with pytest.raises(ValueError):
            dsp.savgol_delta(x, width, order)


def test_yin_equals_librosa_bit_for_bit():
    librosa = pytest.importorskip("librosa")
    rng = np.random.default_rng(2)
    t = np.arange(24000) / 16000
    voiced = sum(np.sin(2 * np.pi * 130 * k * t) / k for k in range(1, 8)) * 0.2
    for wave in (voiced, voiced + rng.normal(0, 0.05, t.shape), rng.normal(0, 0.1, 5000), np.zeros(3000),
                 voiced[:700]):
        wave = np.asarray(wave, np.float32)
        ref = librosa.yin(wave, fmin=60, fmax=400, sr=16000, frame_length=1024, hop_length=160)
        ours = dsp.yin(wave, 60, 400, 16000, 1024, 160)
        assert ours.shape == ref.shape and ours.dtype == ref.dtype
        np.testing.assert_array_equal(ours, ref)
    assert abs(np.median(dsp.yin(np.asarray(voiced, np.float32), 60, 400, 16000, 1024, 160)) - 130) < 2


@pytest.mark.grid
def test_yin_equals_librosa_on_grid_speech(grid_clips):
    librosa = pytest.importorskip("librosa")
    rng = np.random.default_rng(3)
    for clip in grid_clips[:4]:
        speech = read_audio(clip)
        for wave in (speech, speech + rng.normal(0, 0.02, speech.shape).astype(np.float32), speech * 1e-3):
            ref = librosa.yin(wave, fmin=60, fmax=400, sr=16000, frame_length=1024, hop_length=160)
            np.testing.assert_array_equal(dsp.yin(wave, 60, 400, 16000, 1024, 160), ref)


def test_inference_imports_neither_librosa_nor_numba():
    """Reading a clip (transcribe, live, the front end, the speaker check) computes its features without
    importing librosa or numba (issue 27: their start-up took ~2.7 s before the first MFCC)."""
    code = (
        "import sys, numpy as np\n"
        "import lipread.pipelines.transcribe, lipread.pipelines.live, lipread.frontend\n"
        "import lipread.pipelines.domain, lipread.pipelines.speaker, lipread.cli.main\n"
        "from lipread.audio import AudioFeatureConfig, compute_features\n"
        "from lipread.pipelines.speaker import voice_features\n"
        "wave = np.random.default_rng(0).normal(0, 0.1, 16000).astype(np.float32)\n"
        "compute_features(wave, AudioFeatureConfig(deltas=True, cmvn=True), n_video_frames=25)\n"
        "assert voice_features(wave) is not None\n"
        "print(sorted(m for m in ('librosa', 'numba') if m in sys.modules))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]"
