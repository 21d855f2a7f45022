"""Audio decoding and features: 16 kHz mono, 4 feature frames per video frame, deltas, CMVN, log-mel."""

from __future__ import annotations

import numpy as np
import pytest

from lipread.audio import AudioFeatureConfig, compute_features
from lipread.errors import ConfigError, NoAudioError
from lipread.io.audio import read_audio
from lipread.io.writer import write_audio, write_video

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
