"""Audio features with librosa: MFCC (default) or log-mel filterbanks, 4 frames per video frame.

Legend: S samples, F feature dims, T video frames. 25 ms window, 10 ms hop at 16 kHz gives 100
feature frames a second, exactly :data:`~lipread.types.AUDIO_FRAMES_PER_VIDEO_FRAME` per 25 fps
video frame; the result is trimmed or edge-padded to ``4 * T`` rows. librosa is imported lazily
(its first import costs seconds).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lipread.errors import ConfigError
from lipread.types import AUDIO_FRAMES_PER_VIDEO_FRAME, AUDIO_SAMPLE_RATE


@dataclass
class AudioFeatureConfig:
    """``kind`` "mfcc" | "logmel"; ``n_mfcc`` coefficients; ``n_mels`` mel bands; ``deltas`` adds Δ and ΔΔ;
    ``cmvn`` per-utterance mean/variance normalization; ``win_ms``/``hop_ms`` window and hop."""

    kind: str = "mfcc"
    n_mfcc: int = 13
    n_mels: int = 40
    deltas: bool = False
    cmvn: bool = False
    win_ms: float = 25.0
    hop_ms: float = 10.0

    @property
    def dim(self) -> int:
        """Feature size F."""
        base = self.n_mfcc if self.kind == "mfcc" else self.n_mels
        return base * (3 if self.deltas else 1)


def compute_features(audio: np.ndarray, config: AudioFeatureConfig | None = None,
                     n_video_frames: int | None = None, sample_rate: int = AUDIO_SAMPLE_RATE) -> np.ndarray:
    """Features ``(4 * T, F)`` float32 from mono ``audio`` (S,) float32.

    Without ``n_video_frames`` the length is what librosa gives (``1 + S // hop``).
    """
    import librosa

    config = config or AudioFeatureConfig()
    if config.kind not in ("mfcc", "logmel"):
        raise ConfigError(f"unknown audio feature kind {config.kind!r}", fix="Use 'mfcc' or 'logmel'.")
    win = int(round(sample_rate * config.win_ms / 1000))
    hop = int(round(sample_rate * config.hop_ms / 1000))
    n_fft = 1 << (win - 1).bit_length()
    audio = np.asarray(audio, dtype=np.float32)
    if len(audio) < win:
        audio = np.pad(audio, (0, win - len(audio)))
    mel = librosa.feature.melspectrogram(y=audio, sr=sample_rate, n_fft=n_fft, hop_length=hop, win_length=win,
                                         n_mels=config.n_mels, center=True, power=2.0)
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
    feats = feats.T.astype(np.float32)  # (frames, F)
    if n_video_frames is not None:
        feats = fit_length(feats, n_video_frames * AUDIO_FRAMES_PER_VIDEO_FRAME)
    if config.cmvn:
        feats = (feats - feats.mean(axis=0)) / np.maximum(feats.std(axis=0), 1e-5)
    return feats.astype(np.float32)


def fit_length(feats: np.ndarray, length: int) -> np.ndarray:
    """Trim or edge-pad (T_a, F) features to ``length`` rows."""
    if len(feats) >= length:
        return feats[:length]
    return np.pad(feats, ((0, length - len(feats)), (0, 0)), mode="edge")


def fit_samples(audio: np.ndarray, n_video_frames: int, sample_rate: int = AUDIO_SAMPLE_RATE,
                fps: float = 25.0) -> np.ndarray:
    """Trim or zero-pad a waveform (S,) to exactly ``n_video_frames / fps`` seconds."""
    n = int(round(n_video_frames / fps * sample_rate))
    audio = np.asarray(audio, dtype=np.float32)
    return audio[:n] if len(audio) >= n else np.pad(audio, (0, n - len(audio)))
