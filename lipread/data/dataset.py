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

    def _audio_from_wave(self, info: ClipInfo, frames: int, rng: np.random.Generator) -> np.ndarray:
        from lipread.audio.features import compute_features
        from lipread.audio.noise import clip_seed

        wave = self.reader.wave(info)
        if self.eval_noise is not None:
            kind, snr, seed = self.eval_noise
            wave = self.mixer.mix(wave, kind, float(snr), np.random.default_rng(clip_seed(seed, info.id)), info.id)
        elif self.noise is not None and self.train:
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
        if self.use_audio and self.audio_features is not None:
            audio = self._audio_from_wave(info, video.shape[0], np.random.default_rng([self.seed, self.epoch, index, 1]))
        else:
            audio = self.reader.audio(info) if self.use_audio else None
            audio = None if audio is None else np.array(audio)
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
        video, audio, labels = self.augment.apply(video, rng, audio, labels)
        targets = self.tokenizer.encode(text)
        return Sample(info.id, text, info.speaker, video, targets, audio, labels)

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
