"""Audio features: MFCC (default) or log-mel filterbanks, 4 frames per video frame.

Legend: S samples, F feature dims, T video frames. 25 ms window, 10 ms hop at 16 kHz gives 100
feature frames a second, exactly :data:`~lipread.types.AUDIO_FRAMES_PER_VIDEO_FRAME` per 25 fps
video frame; the result is trimmed or edge-padded to ``4 * T`` rows.

The features are librosa 0.11's (``melspectrogram(center=True, power=2)`` with a Hann window,
``power_to_db(ref=1.0, top_db=None)``, ``feature.mfcc``, ``feature.delta``), computed by
:mod:`lipread.audio.dsp` in plain NumPy: librosa's import and numba's compilation cost a new process
1.7-2.5 s before its first MFCC on a loaded 2-core VM, this code 3-8 ms (issue 27;
``benchmarks/results/mfcc.json``).
``tests/audio/test_audio_features.py`` keeps the librosa version and checks the two agree on speech and
synthetic signals: log-mel within the MFCC's tolerance (bit-equal on everything tried);
MFCC within 1e-4 + 2.4e-7 x |value| (librosa's float32 DCT is a couple of float32 steps off, and c0 reaches
-632); deltas within 1e-4 + 2e-6 x their coefficient's largest magnitude in the clip (scipy, under librosa,
fits the edge frames' polynomials in float32); after CMVN, those divided by the coefficient's spread, so
where a coefficient does not vary (digital silence; the delta-deltas of a clip of 3, 5, 7 or 9 frames) both
sides normalize rounding noise and differ (by up to 2.7); on speech they agree within 1.1e-5.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lipread.audio import dsp
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

    Without ``n_video_frames`` the length is that of centred frames (``1 + S // hop``); audio shorter than a
    window is zero-padded to one.
    """
    config = config or AudioFeatureConfig()
    if config.kind not in ("mfcc", "logmel"):
        raise ConfigError(f"unknown audio feature kind {config.kind!r}", fix="Use 'mfcc' or 'logmel'.")
    win = int(round(sample_rate * config.win_ms / 1000))
    hop = int(round(sample_rate * config.hop_ms / 1000))
    n_fft = 1 << (win - 1).bit_length()
    audio = np.asarray(audio, dtype=np.float32)
    if len(audio) < win:
        audio = np.pad(audio, (0, win - len(audio)))
    mel = dsp.melspectrogram(audio, sample_rate, n_fft, hop, win, config.n_mels)
    logmel = dsp.power_to_db(mel)
    feats = dsp.mfcc(logmel, config.n_mfcc) if config.kind == "mfcc" else logmel
    if config.deltas:
        width = min(9, feats.shape[1] if feats.shape[1] % 2 else feats.shape[1] - 1)
        if width >= 3:
            d1 = dsp.savgol_delta(feats, width, order=1)
            d2 = dsp.savgol_delta(feats, width, order=2)
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
