"""Typed records that cross stage boundaries (see docs/DESIGN.md, "Records between stages").

Shape legend: B batch, T video frames, H/W height/width in pixels, C channels, N landmarks,
V vocabulary size. Frames are RGB uint8 at 25 fps unless a field says otherwise. Times are seconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

VIDEO_FPS = 25.0
"""Frame rate every stage after decoding works at."""
AUDIO_SAMPLE_RATE = 16_000
"""Sample rate of decoded audio (mono float32)."""
AUDIO_FRAMES_PER_VIDEO_FRAME = 4
"""MFCC frames per video frame: 10 ms hop at 25 fps."""


@dataclass
class WordSpan:
    """One word with its start and end time in seconds, and the model's confidence in it ([0, 1] or None)."""

    word: str
    start: float
    end: float
    confidence: float | None = None


def mean_confidence(words: list[WordSpan]) -> float | None:
    """Mean of the words' confidences, rounded to 4 places; None when no word has one."""
    known = [w.confidence for w in words if w.confidence is not None]
    return round(sum(known) / len(known), 4) if known else None


@dataclass
class Record:
    """One utterance of a corpus, as every corpus reader yields it.

    ``start``/``end`` (seconds) select a segment of a longer video; ``None`` means the whole file.
    ``words`` carries word times when the corpus has them (GRID alignments, LRS word tables).
    """

    id: str
    video: str
    text: str
    speaker: str = ""
    start: float | None = None
    end: float | None = None
    words: list[WordSpan] | None = None


@dataclass
class Hypothesis:
    """A decoded hypothesis: text, token ids, total score (log domain), word times and confidences,
    and the utterance's confidence ([0, 1], the mean of its words'; None when unknown)."""

    text: str
    tokens: list[int]
    score: float
    words: list[WordSpan] = field(default_factory=list)
    confidence: float | None = None


@dataclass
class Segment:
    """A stretch of a transcript (one decoding window)."""

    start: float
    end: float
    text: str
    words: list[WordSpan] = field(default_factory=list)
    face: dict | None = None
    """The face read for this segment when the video shows several or was asked for: ``id`` (faces are
    numbered left to right as first seen), ``box`` (x, y, w, h) pixels, ``reason``; None when unknown."""

    @property
    def confidence(self) -> float | None:
        """Mean confidence of the segment's words (None when no word has one)."""
        return mean_confidence(self.words)


@dataclass
class Transcript:
    """What ``lipread transcribe`` returns for one video."""

    path: str
    duration: float
    segments: list[Segment] = field(default_factory=list)
    model: str = ""
    warnings: list[str] = field(default_factory=list)
    """Why this output may not be trustworthy (e.g. the clip is unlike the model's training data)."""
    modality: str = "video"
    """What the model read: av (lips and sound), video (lips only) or audio (sound only)."""
    faces: list[dict] = field(default_factory=list)
    """The faces seen (``id``, ``box`` (x, y, w, h) pixels, ``frames``), in the stretch that showed the most."""
    av_offset: float | None = None
    """How late the sound is against the lips (seconds, negative: early), from their synchrony; None when
    there is no sound or the estimate is unreliable."""

    @property
    def confidence(self) -> float | None:
        """Mean confidence of the transcript's words (None when no word has one)."""
        return mean_confidence(self.words)

    @property
    def text(self) -> str:
        return " ".join(s.text for s in self.segments if s.text).strip()

    @property
    def words(self) -> list[WordSpan]:
        return [w for s in self.segments for w in s.words]


def as_uint8_frames(frames: np.ndarray) -> np.ndarray:
    """Check a frame stack is (T, H, W[, C]) uint8 and return it."""
    if frames.dtype != np.uint8 or frames.ndim not in (3, 4):
        raise ValueError(f"expected (T,H,W[,C]) uint8 frames, got {frames.dtype} {frames.shape}")
    return frames
