"""PreparedDataset: a map-style dataset over a prepared cache (see :mod:`lipread.data.cache`).

``dataset[i]`` is a :class:`Sample`: the clip's mouth frames (T, H, W, C) uint8 after augmentation,
its token ids, and its audio features (4T, F) when the cache has them. Augmentation randomness is
drawn from ``numpy.random.default_rng([seed, epoch, i])``: call ``set_epoch(epoch)`` before each
epoch and a resumed run reproduces the same samples (also across DataLoader worker processes).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import torch.utils.data

from lipread.data.augment import AugmentConfig, VideoAugment, augment_config, frame_labels, word_span
from lipread.data.cache import CacheReader, ClipInfo
from lipread.errors import DataError
from lipread.text import Tokenizer
from lipread.types import AUDIO_FRAMES_PER_VIDEO_FRAME, VIDEO_FPS

SPLIT_NAMES = ("train", "val", "test")
SAMPLES_PER_FRAME = 640
"""16 kHz sound samples per 25 fps video frame."""


def shift_wave(wave: np.ndarray, lead: int, tail: int, rng: np.random.Generator) -> np.ndarray:
    """``lead`` samples added at the start (negative: cut) and ``tail`` at the end: what is added is quiet
    noise 50 dB under the clip's RMS, as a pause in a recording sounds."""
    wave = np.asarray(wave, dtype=np.float32)
    level = float(np.sqrt(np.mean(wave**2))) * 10 ** (-50 / 20) if len(wave) else 1e-5
    start, end = max(0, -lead), len(wave) - max(0, -tail)
    body = wave[start:max(start, end)]
    pad = lambda n: (rng.standard_normal(max(0, n)) * level).astype(np.float32)  # noqa: E731
    return np.concatenate([pad(lead), body, pad(tail)])


@dataclass
class Sample:
    """One clip as the dataset returns it. ``video``: (T, H, W, C) uint8; ``audio``: (4T, F) float32 or None."""

    id: str
    text: str
    speaker: str
    video: np.ndarray
    targets: list[int]
    audio: np.ndarray | None = None
    frame_labels: np.ndarray | None = None
    """(T,) int64 per-frame align-head targets (``frame_labels=True`` and word alignments), else None."""


def default_vocabulary(corpus: str) -> str:
    return "grid" if corpus == "grid" else "english"


class PreparedDataset(torch.utils.data.Dataset):
    """Clips of one ``split`` (``train``/``val``/``test``, or None for all) of a prepared cache.

    ``tokenizer``: a Tokenizer or vocabulary name (default: ``grid`` for GRID caches, else ``english``).
    ``augment``: AugmentConfig or a dict of its fields applied to the preset's defaults (None = the
    defaults); with ``train=False`` only the centre crop is applied. ``audio=False`` skips audio features.
    ``frame_labels=True`` adds per-frame align-head targets from the clips' word alignments.

    ``audio_features`` (an AudioFeatureConfig or a dict of its fields) computes the audio features from the
    cache's stored sound instead of reading the cached ones (caches prepared with ``--audio`` keep it);
    that is what lets ``noise`` (training: a :class:`~lipread.audio.noise.NoiseConfig`, random per clip)
    or ``eval_noise`` (``(kind, snr_db, seed)``: the same noise for a clip in every run) be mixed into the
    sound first. Babble is drawn from the other clips of the same split.

    ``voice`` (training: a :class:`~lipread.audio.voice.VoiceConfig` or dict) changes the sound like another
    speaker's (pitch, reverberation, a phone channel, gain) before the noise; it needs ``audio_features``.
    The augmentation's ``speed`` and ``time_shift`` change the frames and the sound together.
    ``standin=True`` (evaluation) gives each clip to one of the stand-in speakers of
    :mod:`lipread.data.standin` (its voice needs ``audio_features``); the sample's speaker names it.
    """

    def __init__(
        self,
        cache_dir: str | os.PathLike,
        split: str | None = None,
        tokenizer: Tokenizer | str | None = None,
        augment: AugmentConfig | dict | None = None,
        train: bool = False,
        seed: int = 0,
        audio: bool = True,
        frame_labels: bool = False,
        audio_features=None,
        noise=None,
        eval_noise: tuple[str, float, int] | None = None,
        voice=None,
        standin: bool = False,
    ):
        if split is not None and split not in SPLIT_NAMES:
            raise DataError(f"unknown split {split!r}", fix=f"Use one of {', '.join(SPLIT_NAMES)} (or none for all).")
        self.reader = CacheReader(cache_dir)
        self.cache_dir = str(cache_dir)
        self.split = split
        self.clips: list[ClipInfo] = [c for c in self.reader.clips if split is None or c.split == split]
        if not self.clips:
            counts = self.split_counts()
            has = ", ".join(f"{n} {name}" for name, n in counts.items()) or "no clips"
            raise DataError(f"no clips in split {split!r} (the cache has {has})", cache_dir,
                            "Check the split name, or prepare the corpus with a validation fraction.")
        config = self.reader.config
        corpus = config.get("corpus", {}).get("name", "")
        if tokenizer is None:
            tokenizer = default_vocabulary(corpus)
        self.tokenizer = Tokenizer.from_name(tokenizer) if isinstance(tokenizer, str) else tokenizer
        frontend = config.get("frontend", {})
        aug = augment if isinstance(augment, AugmentConfig) else augment_config(frontend.get("preset", ""), augment)
        self.augment = VideoAugment(aug, train=train)
        self.seed, self.epoch, self.use_audio, self.train = seed, 0, audio, train
        self.frame_labels = frame_labels
        self.audio_features = self.noise = self.eval_noise = self.mixer = None
        if audio_features is not None or noise is not None or eval_noise is not None:
            self._setup_wave(audio_features, noise, eval_noise)
        from lipread.audio.voice import VoiceConfig
        from lipread.config import build_config

        self.voice = voice if voice is None or isinstance(voice, VoiceConfig) else build_config(VoiceConfig, dict(voice))
        if self.voice is not None and self.voice.active and self.use_audio and self.audio_features is None:
            raise DataError("voice augmentation changes the sound, so the audio features must be computed from "
                            "the cache's waveform", cache_dir, "Set data.audio_features (e.g. {kind: mfcc}).")
        self.standin = bool(standin)
        if self.standin and self.use_audio and self.audio_features is None and self.clips[0].audio_shape is not None:
            raise DataError("stand-in speakers change the sound, so the audio features must be computed from the "
                            "cache's waveform", cache_dir, "Pass audio_features (evaluate does this for a model "
                            "that hears).")
        if frame_labels and not any(c.words for c in self.clips):
            raise DataError(f"split {split!r} has no word alignments for frame labels", cache_dir,
                            "Prepare a corpus with word times (GRID .align files, LRS word timings), or set "
                            "the recipe's align_weight to 0.")

    def _setup_wave(self, audio_features, noise, eval_noise) -> None:
        from lipread.audio.features import AudioFeatureConfig
        from lipread.audio.noise import NoiseConfig, NoiseMixer
        from lipread.config import build_config

        if not all(c.wave_len is not None for c in self.clips):
            raise DataError("this cache kept no sound (its clips have no waveform), so audio features cannot be "
                            "computed from it and noise cannot be mixed in", self.cache_dir,
                            "Prepare the corpus again with --audio (this version keeps the 16 kHz sound).")
        if audio_features is None:
            audio_features = self.reader.config.get("frontend", {}).get("audio_features", {})
        self.audio_features = (audio_features if isinstance(audio_features, AudioFeatureConfig)
                               else build_config(AudioFeatureConfig, dict(audio_features)))
        self.noise = noise if noise is None or isinstance(noise, NoiseConfig) else build_config(NoiseConfig, dict(noise))
        self.eval_noise = eval_noise
        talkers = self.noise.talkers if self.noise is not None else 6
        self.mixer = NoiseMixer(self._babble_sources, talkers=talkers)

    def _babble_sources(self, rng: np.random.Generator, clip_id: str) -> list[np.ndarray]:
        """Sound of as many other clips of this split as babble has talkers (never ``clip_id`` itself): only
        those are read from the cache."""
        n = self.mixer.talkers
        others = [i for i in rng.choice(len(self.clips), size=min(len(self.clips), n + 1), replace=False)
                  if self.clips[int(i)].id != clip_id][:n]
        return [self.reader.wave(self.clips[int(i)]) for i in others]

    def _audio_from_wave(self, info: ClipInfo, frames: int, rng: np.random.Generator,
                         wave: np.ndarray | None = None, index: int = 0) -> np.ndarray:
        """Features of ``wave`` (default: the clip's stored sound) after the voice augmentation and noise of
        training, or the fixed noise of an evaluation."""
        from lipread.audio.features import compute_features
        from lipread.audio.noise import clip_seed
        from lipread.audio.voice import augment_voice

        wave = self.reader.wave(info) if wave is None else wave
        if self.eval_noise is not None:
            kind, snr, seed = self.eval_noise
            wave = self.mixer.mix(wave, kind, float(snr), np.random.default_rng(clip_seed(seed, info.id)), info.id)
        elif self.train:
            if self.voice is not None and self.voice.active:
                wave = augment_voice(wave, self.voice, np.random.default_rng([self.seed, self.epoch, index, 3]))
            if self.noise is not None:
                wave = self.mixer.random(wave, self.noise, rng, info.id)
        return compute_features(wave, self.audio_features, n_video_frames=frames)

    def split_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for c in self.reader.clips:
            counts[c.split] = counts.get(c.split, 0) + 1
        return counts

    @property
    def lengths(self) -> list[int]:
        """Frames per clip (before augmentation), for length-bucketed batching."""
        return [c.frames for c in self.clips]

    @property
    def preprocess(self) -> dict:
        """How the clips were cropped (the front-end config) and the model input size after cropping."""
        frontend = dict(self.reader.config.get("frontend", {}))
        _, h, w, c = self.clips[0].shape
        crop = self.augment.config.crop
        frontend["input_size"] = list(crop) if crop else [h, w]
        frontend["channels"] = c
        return frontend

    @property
    def has_audio(self) -> bool:
        return self.use_audio and (self.clips[0].audio_shape is not None or self.audio_features is not None)

    def set_epoch(self, epoch: int) -> None:
        """Augmentations of epoch ``epoch`` (set before creating the DataLoader iterator)."""
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return len(self.clips)

    def __getitem__(self, index: int) -> Sample:
        info = self.clips[index]
        video = np.array(self.reader.mouth(info))  # a writable copy, not a view of the memory map
        rng = np.random.default_rng([self.seed, self.epoch, index])
        from_wave = self.use_audio and self.audio_features is not None
        wave = self.reader.wave(info) if from_wave else None
        audio = None
        if not from_wave and self.use_audio:
            audio = self.reader.audio(info)
            audio = None if audio is None else np.array(audio)
        speaker = info.speaker
        if self.standin:
            from lipread.data.standin import standin_for, standin_video, standin_voice

            who = standin_for(info.id)
            video = standin_video(video, who, info.id)
            wave = None if wave is None else standin_voice(wave, who)
            speaker = f"standin-{who.name}"
        text = info.text
        labels = None
        if self.frame_labels and info.words:
            labels = frame_labels(info.words, video.shape[0], info.fps or VIDEO_FPS, self.tokenizer.encode,
                                  offset=info.start or 0.0)
        span = self._word_span(info, video.shape[0], rng)
        if span is not None:
            start, end, text = span
            video = video[start:end]
            labels = None if labels is None else labels[start:end]
            if audio is not None:
                audio = audio[start * AUDIO_FRAMES_PER_VIDEO_FRAME : end * AUDIO_FRAMES_PER_VIDEO_FRAME]
            if wave is not None:
                wave = wave[start * SAMPLES_PER_FRAME : end * SAMPLES_PER_FRAME]
        if self.train:
            video, wave, audio, labels = self._retime(index, info, video, wave, audio, labels, span)
        if from_wave:
            audio = self._audio_from_wave(info, video.shape[0], np.random.default_rng([self.seed, self.epoch, index, 1]),
                                          wave=wave, index=index)
        video, audio, labels = self.augment.apply(video, rng, audio, labels)
        targets = self.tokenizer.encode(text)
        return Sample(info.id, text, speaker, video, targets, audio, labels)

    def _retime(self, index: int, info: ClipInfo, video, wave, audio, labels, span):
        """Training: the augmentation's ``speed`` (frames and sound resampled together) and ``time_shift``
        (start and end moved; repeated edge frames come with quiet sound). Draws from its own generator, and
        nothing when both are off."""
        c = self.augment.config
        if c.speed <= 0 and c.time_shift <= 0:
            return video, wave, audio, labels
        from lipread.audio.voice import resample_length
        from lipread.data.augment import audio_index, draw_shift, shift_index, speed_index

        rng = np.random.default_rng([self.seed, self.epoch, index, 2])
        order = np.arange(video.shape[0])
        if c.speed > 0 and rng.random() < c.speed:
            factor = float(rng.uniform(*c.speed_range))
            order = speed_index(video.shape[0], factor)
            if wave is not None:
                wave = resample_length(wave, int(round(len(wave) * len(order) / video.shape[0])))
        if c.time_shift > 0 and span is None and rng.random() < c.time_shift:
            speech = self._speech_frames(info, labels, video.shape[0])
            if speech is not None and len(order) != video.shape[0]:  # the words' frames after the speed change
                ratio = len(order) / video.shape[0]
                speech = (int(speech[0] * ratio), int(np.ceil(speech[1] * ratio)))
            lead, tail = draw_shift(len(order), speech, c.time_shift_frames, rng)
            order = order[shift_index(len(order), lead, tail)]
            if wave is not None:
                wave = shift_wave(wave, lead * SAMPLES_PER_FRAME, tail * SAMPLES_PER_FRAME, rng)
        video = video[order]
        labels = None if labels is None else labels[order]
        if audio is not None:  # cached features: rows follow the frames (no pitch change)
            rows = audio_index(order)
            audio = audio[np.minimum(rows, audio.shape[0] - 1)]
        return video, wave, audio, labels

    def _speech_frames(self, info: ClipInfo, labels, frames: int) -> tuple[int, int] | None:
        """(first, end) frames of the clip's words, from the align labels or the word times; None if unknown."""
        if labels is not None and np.any(labels > 0):
            nz = np.flatnonzero(labels > 0)
            return int(nz[0]), int(nz[-1]) + 1
        words = [w for w in (info.words or []) if str(w[0]) not in ("sil", "sp") and w[2] > w[1]]
        if not words:
            return None
        fps, offset = info.fps or VIDEO_FPS, info.start or 0.0
        return max(0, int((words[0][1] - offset) * fps)), min(frames, int(np.ceil((words[-1][2] - offset) * fps)))

    def _word_span(self, info: ClipInfo, frames: int, rng: np.random.Generator):
        """Training only: with probability ``word_spans``, a random run of the clip's aligned words."""
        c = self.augment.config
        p = c.word_spans
        if c.word_spans_decay_epochs > 0:
            p *= max(0.0, 1.0 - self.epoch / c.word_spans_decay_epochs)
        if not self.train or p <= 0 or not info.words or rng.random() >= p:
            return None
        return word_span(info.words, frames, info.fps or VIDEO_FPS, rng, offset=info.start or 0.0,
                         margin=self.augment.config.span_margin, max_words=self.augment.config.max_words)
