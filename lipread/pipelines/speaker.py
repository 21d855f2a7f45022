"""Is this the speaker the model learned? Voice and face profiles of a single-speaker model (issue 26).

A model trained on one speaker reads others badly, and its confidence does not always say so. The
checkpoint's ``domain.speaker`` section holds a profile of the training speaker's voice and face, made from
the training clips by :func:`calibrate_speaker`; a file whose voice or face is far from it gets a warning
("a speaker the model never saw").

- **voice**: the mean and spread of 12 MFCCs (c1-c12: the spectral envelope, which the vocal tract and the
  microphone shape) over the frames with speech (within 20 dB of the loudest), and the median pitch (log f0,
  YIN) of those frames: 25 numbers.
- **face**: the mouth crop's mean frame, its lightness (CIE L*) at 6x12 and relative to its own mean (the
  shape of the lips and the mouth), and the crop's mean L*a*b* colour (skin and lips): 75 numbers. A clip is
  measured as it is and mirrored, and the nearer counts (a mirrored selfie video is the same face).

The voice profile is fitted on each training clip twice, as recorded and with the noise the models train
with (white or babble, 0-30 dB), so a noisy room alone does not make the training speaker a stranger.
Sound with nothing above 4.5 kHz (a phone line, 8 kHz audio: :func:`phone_band`) is measured against a second
profile, ``voice_phone``, fitted on the same clips cut to 300-3400 Hz (:func:`phone_channel`; as recorded and
through a telephone channel), the sound measured cut the same way: against the
wide-band profile every phone clip of the training speaker is a stranger (90 of 90 held-out clips warned),
and fitting one profile on both kinds of sound made it blind to the stand-ins' voices (0 of 90 warned).
A profile is the numbers' mean over the training clips and their spread: the voice's full covariance (shrunk
1% towards its diagonal), since what is said moves the MFCCs together; the face's per-number spread. A
clip's **distance** is its Mahalanobis distance divided by the square root of the number of numbers (the
root mean square of z-scores, for the face). The threshold is the 99.5th percentile of the training clips' distances, each
measured against a profile of the other half of the clips, plus half its distance above the median, so held-out clips of the training speaker stay under it (measured on
clips not used to calibrate: ``pipelines/grid/speaker_check.py``). A new microphone, room or light moves
the numbers too; the warning says so.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

VOICE_DIMS = 25
SHRINK = 0.01
"""Share of the diagonal mixed into a full covariance."""
FACE_SIZE = (12, 6)
"""(width, height) the mean mouth frame is shrunk to."""
SPEECH_DB = 20.0
"""Frames within this many dB of the loudest count as speech."""
MIN_SPEECH_FRAMES = 20
"""Fewer speech frames (10 ms each) than this: no voice measure."""
PHONE_BAND_DB = -50.0
"""Sound whose power above 4.5 kHz is this far (dB) under its whole power is phone-band sound (:func:`phone_band`):
8-kHz AAC sound decoded at 16 kHz sits at -84 dB, the training's telephone channel at -66 dB, GRID's own clips
at -17 to -30 dB."""
PHONE_BAND_HZ = 4500.0


def phone_channel(wave: np.ndarray, sample_rate: int = 16000) -> np.ndarray:
    """``wave`` with nothing outside 300-3400 Hz (zeroed in its spectrum): what every phone-band sound has in
    common, whether it came through a phone line (300-3400 Hz, soft edges) or was recorded at 8 kHz (0-4 kHz).
    Applying it twice is applying it once."""
    wave = np.asarray(wave, dtype=np.float32)
    spectrum = np.fft.rfft(wave.astype(np.float64))
    freqs = np.fft.rfftfreq(len(wave), 1.0 / sample_rate)
    spectrum[(freqs < 300.0) | (freqs > 3400.0)] = 0.0
    return np.fft.irfft(spectrum, n=len(wave)).astype(np.float32)


def phone_band(wave: np.ndarray | None, sample_rate: int = 16000) -> bool:
    """True when ``wave`` has (next to) nothing above 4.5 kHz: a phone line, or sound recorded at 8 kHz."""
    if wave is None or len(wave) == 0 or sample_rate < 8000:
        return False
    power = np.abs(np.fft.rfft(np.asarray(wave, dtype=np.float64))) ** 2
    total = float(power.sum())
    if total <= 0.0:
        return False
    high = float(power[np.fft.rfftfreq(len(wave), 1.0 / sample_rate) > PHONE_BAND_HZ].sum())
    return 10.0 * np.log10(high / total + 1e-30) < PHONE_BAND_DB


def voice_features(wave: np.ndarray | None, sample_rate: int = 16000) -> np.ndarray | None:
    """(25,) float64 from mono float32 ``wave``, or None when it has too little sound to measure.

    librosa's numbers (``melspectrogram``, ``mfcc``, ``yin``), which the stored profiles were calibrated
    with, computed by :mod:`lipread.audio.dsp` without librosa's start-up (issue 27): the log pitch is
    bit-equal, the MFCC means and spreads within float32 rounding (tests/pipelines/test_speaker.py)."""
    if wave is None or len(wave) < sample_rate // 4:
        return None
    from lipread.audio import dsp

    wave = np.asarray(wave, dtype=np.float32)
    logmel = dsp.power_to_db(dsp.melspectrogram(wave, sample_rate, n_fft=512, hop=160, win_length=400, n_mels=40))
    energy = logmel.max(axis=0)
    if not np.isfinite(energy).any() or float(energy.max()) < -60.0:  # digital silence
        return None
    speech = energy > float(energy.max()) - SPEECH_DB
    if int(speech.sum()) < MIN_SPEECH_FRAMES:
        return None
    mfcc = dsp.mfcc(logmel[:, speech], n_mfcc=13)[1:]
    f0 = dsp.yin(wave, fmin=60, fmax=400, sample_rate=sample_rate, frame_length=1024, hop_length=160)
    n = min(len(f0), len(speech))
    pitch = float(np.log(np.median(f0[:n][speech[:n]])))
    return np.concatenate([mfcc.mean(axis=1), mfcc.std(axis=1), [pitch]]).astype(np.float64)


def face_features(mouth: np.ndarray | None) -> np.ndarray | None:
    """(75,) float64 from mouth crops (T, H, W, 3) uint8 RGB, or None for no frames / not colour."""
    if mouth is None or len(mouth) == 0 or mouth.ndim != 4 or mouth.shape[-1] != 3:
        return None
    import cv2

    mean = np.asarray(mouth, dtype=np.float32).mean(axis=0) / 255.0
    lab = cv2.cvtColor(mean, cv2.COLOR_RGB2LAB)  # L 0-100, a/b about -128..127
    small = cv2.resize(lab[..., 0], FACE_SIZE, interpolation=cv2.INTER_AREA)
    shape = small - small.mean()
    return np.concatenate([shape.reshape(-1), lab.reshape(-1, 3).mean(axis=0)]).astype(np.float64)


def _moments(x: np.ndarray, full: bool) -> dict:
    profile: dict = {"mean": [round(float(v), 6) for v in x.mean(axis=0)]}
    if full:
        cov = np.cov(x.T)
        cov = (1 - SHRINK) * cov + SHRINK * np.diag(np.diag(cov))
        profile["precision"] = [[float(f"{v:.6g}") for v in row] for row in np.linalg.inv(cov)]
    else:
        # a spread floor (a tenth of the median spread) so a number that never varies cannot dominate
        std = np.maximum(x.std(axis=0), 0.1 * float(np.median(x.std(axis=0))) + 1e-9)
        profile["std"] = [round(float(v), 6) for v in std]
    return profile


def fit_profile(features: Sequence[np.ndarray], full: bool = False) -> dict:
    """A profile (mean, spread, threshold) from the training clips' features; ``full``: a full covariance
    (stored as its inverse, ``precision``), else a spread per number (``std``).

    The threshold comes from distances of clips the profile was not fitted on (a profile of every other
    clip measures the rest, and the other way round), since a clip is always nearer to a profile it shaped;
    the stored profile is then fitted on all of them."""
    x = np.stack([np.asarray(f, dtype=np.float64) for f in features])
    halves = (x[0::2], x[1::2])
    d = np.concatenate([[distance(_moments(fit, full), f) for f in other]
                        for fit, other in (halves, halves[::-1])])
    p50, p995 = np.percentile(d, [50, 99.5])
    profile = _moments(x, full)
    profile["threshold"] = round(float(p995 + 0.5 * (p995 - p50)), 4)
    profile["clips"] = int(len(x))
    return profile


def distance(profile: dict, features: np.ndarray | None) -> float | None:
    """RMS z-score of ``features`` against ``profile`` (None when there is nothing to measure)."""
    if features is None or not profile:
        return None
    mean = np.asarray(profile["mean"])
    if len(features) != len(mean):
        return None
    diff = np.asarray(features, dtype=np.float64) - mean
    if "precision" in profile:
        return float(np.sqrt(max(0.0, diff @ np.asarray(profile["precision"]) @ diff) / len(mean)))
    return float(np.sqrt(np.mean((diff / np.asarray(profile["std"])) ** 2)))


def speaker_distances(speaker: dict | None, mouth: np.ndarray | None = None,
                      wave: np.ndarray | None = None) -> dict[str, float]:
    """``{"voice_distance": .., "face_distance": ..}`` for what could be measured (``voice_phone_distance``
    instead of ``voice_distance`` for phone-band sound)."""
    out: dict[str, float] = {}
    if not speaker:
        return out
    if "voice" in speaker and wave is not None:
        # phone-band sound against the profile of the training voice through a phone line, when there is one,
        # put through the same channel (8-kHz sound keeps 0-4 kHz, a phone line 300-3400 Hz)
        phone = "voice_phone" in speaker and phone_band(wave)
        key = "voice_phone" if phone else "voice"
        d = distance(speaker[key], voice_features(phone_channel(wave) if phone else wave))
        if d is not None:
            out[f"{key}_distance"] = d
    if "face" in speaker and mouth is not None:
        # the nearer of the crop and its mirror image: a front camera mirrors the picture, and the models read
        # both alike (they train with random flips), while GRID's light falls on one side of the face
        # (the features need only the mean frame: it is averaged once, then read as it is and mirrored)
        mean = np.asarray(mouth, dtype=np.float32).mean(axis=0, keepdims=True) if len(mouth) else mouth
        found = [distance(speaker["face"], face_features(m)) for m in (mean, mean[:, :, ::-1])]
        found = [d for d in found if d is not None]
        if found:
            out["face_distance"] = min(found)
    return out


def speaker_warnings(speaker: dict | None, stats: dict[str, float]) -> list[str]:
    """One line each for a voice or a face far from the training speaker's."""
    if not speaker:
        return []
    out = []
    texts = {"voice": "a voice unlike the training speaker's (a speaker the model never saw, or another "
                      "microphone or room)",
             "voice_phone": "a voice unlike the training speaker's over a phone line (a speaker the model never "
                            "saw, or another line or room)",
             "face": "a face unlike the training speaker's (a speaker the model never saw, or other light or "
                     "camera)"}
    for key, text in texts.items():
        value, profile = stats.get(f"{key}_distance"), speaker.get(key)
        if value is not None and profile and value > profile["threshold"]:
            out.append(f"{text}: {key} distance {value:.2f}, training clips up to {profile['threshold']:.2f}; "
                       "the text is likely wrong")
    return out


def calibrate_speaker(cache: str, split: str | None = "train", noisy: bool = True, seed: int = 0) -> dict:
    """The ``domain.speaker`` section from the clips of ``split`` of a prepared cache: a face profile, and a
    voice profile when the cache kept the sound (``noisy``: each clip also with training noise)."""
    from lipread.audio.noise import NoiseConfig, NoiseMixer
    from lipread.audio.voice import telephone
    from lipread.data.cache import CacheReader

    reader = CacheReader(cache)
    clips = [c for c in reader.clips if split is None or c.split == split]
    if not clips:
        raise ValueError(f"no clips in split {split!r} of {cache}")
    faces = [f for f in (face_features(np.asarray(reader.mouth(c))) for c in clips) if f is not None]
    section = {"description": f"{len(clips)} {split or 'all'} clips of {cache}"
                              + (" (the voice: each also with training noise, 0-30 dB)" if noisy else "")
                              + ("; voice_phone: the same cut to 300-3400 Hz, as they are and through a telephone "
                                 "channel" if reader.has_wave else "")}
    if faces:
        section["face"] = fit_profile(faces)
    if reader.has_wave:
        waves = [reader.wave(c) for c in clips]
        if noisy:
            rng = np.random.default_rng(seed)
            mixer = NoiseMixer(lambda r, cid: [waves[int(i)] for i in r.choice(len(waves), min(7, len(waves)), replace=False)
                                               if clips[int(i)].id != cid][:6])
            noise = NoiseConfig(prob=1.0, babble=0.5, snr_min=0.0, snr_max=30.0, talkers=6)
            waves += [mixer.random(w, noise, rng, c.id) for w, c in zip(waves[: len(clips)], clips)]
        voices = [v for v in (voice_features(w) for w in waves) if v is not None]
        if voices:
            section["voice"] = fit_profile(voices, full=True)
        # the phone profile: each clip (and its noisy copy) as a phone line and as 8-kHz sound would give it
        phone_waves = [phone_channel(w) for w in waves] + [phone_channel(telephone(w)) for w in waves]
        phone = [v for v in (voice_features(w) for w in phone_waves) if v is not None]
        if phone:
            section["voice_phone"] = fit_profile(phone, full=True)
    return section


__all__ = ["calibrate_speaker", "distance", "face_features", "fit_profile", "phone_band", "phone_channel", "speaker_distances",
           "speaker_warnings", "voice_features"]
