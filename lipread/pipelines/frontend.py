"""The front end: video file -> stable mouth crops (+ optional audio features).

decode (PyAV, 25 fps, chunks) -> landmarks (mediapipe tracking; opencv fallback) -> one speaker
-> fill missed frames -> smooth ±6 frames -> similarity-align to the mean face -> warp crops.

Legend: T frames at 25 fps, N landmarks, H/W crop size, C channels (3 RGB or 1 gray), F features.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field

import numpy as np

from lipread.audio.features import AudioFeatureConfig, compute_features, fit_samples
from lipread.errors import ConfigError, NoFaceError
from lipread.face.align import crop_transforms, warp_crops
from lipread.face.backends import LANDMARK_BACKENDS, LandmarkBackend, create_backend
from lipread.face.geometry import PRESETS, face_geometry
from lipread.face.roi import RegionStore, chunk_region
from lipread.face.size import check_face_size, needed_width
from lipread.face.track import SpeakerTracker, interpolate_missing, missing_ranges
from lipread.io.video import DecodeReport, iter_video_chunks, prefetch
from lipread.types import VIDEO_FPS

log = logging.getLogger("lipread.pipelines.frontend")

CHUNK_MB = 48
"""Decoded frames per chunk are capped at this many MB (32 frames of 360p, 1 of 4K), so the frames in
flight between the decoding thread and the landmarks stay small whatever the frame size."""


@dataclass
class FrontEndConfig:
    """``preset`` "lipnet" (100x50) | "aligned96" (96x96); ``gray`` one channel; ``landmarks`` backend name
    (falls back to "opencv"); ``audio`` compute ``audio_features``; ``max_faces`` faces tracked when
    several are seen; ``smooth_radius`` landmark smoothing (±frames); ``chunk_size`` frames decoded at a
    time (at most ``CHUNK_MB`` of them; decoded in a background thread when ``prefetch``); ``keep_frames_mb``
    the most kept for cropping (only the region around the mouth is kept, see :mod:`lipread.face.roi`;
    beyond it the video is decoded twice); ``min_face_width`` the narrowest median face (px) read, None for
    :data:`lipread.face.size.MIN_FACE_WIDTH`, 0 for no check (a narrower one raises ``FaceTooSmallError``)."""

    preset: str = "lipnet"
    gray: bool = False
    landmarks: str = "mediapipe"
    audio: bool = False
    audio_features: AudioFeatureConfig = field(default_factory=AudioFeatureConfig)
    max_faces: int = 4
    smooth_radius: int = 6
    chunk_size: int = 32
    prefetch: bool = True
    keep_frames_mb: int = 1024
    min_face_width: float | None = None

    def __post_init__(self):
        if isinstance(self.audio_features, dict):
            self.audio_features = AudioFeatureConfig(**self.audio_features)
        if self.preset not in PRESETS:
            raise ConfigError(f"unknown crop preset {self.preset!r}", fix=f"Use one of {', '.join(PRESETS)}.")
        if self.landmarks not in LANDMARK_BACKENDS:
            raise ConfigError(f"unknown landmark backend {self.landmarks!r}",
                              fix=f"Use one of {', '.join(LANDMARK_BACKENDS.list())}.")


@dataclass
class FrontEndResult:
    """``mouth`` (T, H, W, C) uint8; ``valid`` (T,) bool face found (before filling); ``landmarks`` (T, N, 2)
    float32 source pixels (filled, unsmoothed); ``transforms`` (T, 2, 3) float32 source->crop;
    ``audio_features`` (4T, F) float32 or None; ``waveform`` (S,) float32 16 kHz mono, T / fps seconds long, or
    None (kept with the features so noise can be mixed into the sound later); ``fps``; ``start``/``duration`` seconds in the source;
    ``backend`` the landmark backend used; ``frame_size`` source (width, height); ``report`` decoding report."""

    path: str
    mouth: np.ndarray
    valid: np.ndarray
    landmarks: np.ndarray
    transforms: np.ndarray
    audio_features: np.ndarray | None
    fps: float = VIDEO_FPS
    start: float = 0.0
    duration: float = 0.0
    backend: str = ""
    frame_size: tuple[int, int] = (0, 0)
    report: DecodeReport | None = None
    waveform: np.ndarray | None = None


class FrontEnd:
    """Keeps the landmark model loaded across files: ``FrontEnd(config).process(path, start, end)``."""

    def __init__(self, config: FrontEndConfig | None = None):
        self.config = config or FrontEndConfig()
        self.geometry = face_geometry()
        self.preset = PRESETS[self.config.preset]
        self._backend: LandmarkBackend | None = None
        self._fallback: LandmarkBackend | None = None

    @property
    def backend(self) -> LandmarkBackend:
        if self._backend is None:
            self._backend = create_backend(self.config.landmarks, max_faces=self.config.max_faces)
        return self._backend

    def _landmarks(self, path, start, end, backend: LandmarkBackend, report: DecodeReport, keep: bool,
                   progress=None):
        """Pass 1: decode and find one speaker's landmarks. Returns (landmarks, valid, kept|None, size, t0);
        ``kept`` is a :class:`RegionStore` of the parts of the frames the crops need."""
        backend.reset()
        tracker = None
        points, valid = [], []
        kept: RegionStore | None = None
        region = None
        limit = self.config.keep_frames_mb * 2**20
        n = self.geometry.n_points
        t0 = None
        chunks = iter_video_chunks(path, self.config.chunk_size, start, end, report=report, chunk_mb=CHUNK_MB)
        for chunk in prefetch(chunks) if self.config.prefetch else chunks:
            if tracker is None:
                h, w = chunk.frames.shape[1:3]
                tracker = SpeakerTracker((w, h))
                t0 = float(chunk.times[0])
                kept = RegionStore((w, h)) if keep else None
            picks = [tracker.update(faces) for faces in backend.detect(chunk.frames)]
            for pick in picks:
                valid.append(pick is not None)
                points.append(pick if pick is not None else np.zeros((n, 2), np.float32))
            if progress is not None:
                progress(len(chunk.frames))
            if kept is not None:
                # a chunk with no face keeps the last face's region (the crops there copy its landmarks)
                region = chunk_region(picks, (w, h), self.geometry, self.preset) or region
                kept.add(chunk.frames, region)
                kept = kept if kept.nbytes <= limit else None
        return np.stack(points), np.array(valid, dtype=bool), kept, (w, h), t0

    def process(self, path: str | os.PathLike, start: float | None = None, end: float | None = None,
                progress=None) -> FrontEndResult:
        """Run the front end on one file (or its ``start``..``end`` segment, seconds).

        ``progress`` (optional) is called with the number of frames done after each decoded chunk.
        """
        path = os.fspath(path)
        cfg = self.config
        report = DecodeReport(path)
        backend = self.backend
        landmarks, valid, kept, size, t0 = self._landmarks(path, start, end, backend, report, True, progress)
        if not valid.any() and backend.name != "opencv":
            log.info("%s: %s found no face; trying the opencv backend", path, backend.name)
            if self._fallback is None:
                self._fallback = create_backend("opencv")
            backend = self._fallback
            landmarks, valid, _, size, t0 = self._landmarks(path, start, end, backend, DecodeReport(path), False)
        if not valid.any():
            need = needed_width(cfg.min_face_width)
            raise NoFaceError(f"no face found in any of {len(valid)} frames", path,
                              "Use a video where the speaker's face is visible and frontal"
                              + (f", at least {need:.0f} px wide." if need else "."))
        check_face_size(landmarks, valid, path, cfg.min_face_width)
        if not valid.all():
            ranges = ", ".join(f"{a:.2f}-{b:.2f}s" for a, b in missing_ranges(valid, VIDEO_FPS))
            log.warning("%s: no face in %d of %d frames (%s); filled by interpolation",
                        path, int((~valid).sum()), len(valid), ranges)
        filled = interpolate_missing(landmarks, valid)
        transforms = crop_transforms(filled, self.geometry, self.preset, cfg.smooth_radius)
        mouth = self._crops(path, start, end, kept, transforms)
        features = waveform = None
        if cfg.audio:
            from lipread.io.audio import read_audio

            audio = read_audio(path, start=t0 if start is not None else None,
                               end=None if end is None else t0 + len(valid) / VIDEO_FPS)
            features = compute_features(audio, cfg.audio_features, n_video_frames=len(valid))
            waveform = fit_samples(audio, len(valid))
        return FrontEndResult(path=path, mouth=mouth, valid=valid, landmarks=filled.astype(np.float32),
                              transforms=transforms, audio_features=features, fps=VIDEO_FPS, start=t0 or 0.0,
                              duration=len(valid) / VIDEO_FPS, backend=backend.name, frame_size=size,
                              report=report, waveform=waveform)

    def _crops(self, path, start, end, kept: RegionStore | None, transforms) -> np.ndarray:
        """Pass 2: warp crops from the kept regions; frames whose crop is not inside its kept region
        (or all, when nothing was kept) are cut from the video decoded again."""
        w, h = self.preset.size
        gray = self.config.gray
        out = np.empty((len(transforms), h, w, 1 if gray else 3), dtype=np.uint8)
        todo = np.ones(len(transforms), dtype=bool)
        if kept is not None and len(kept):
            local, inside = kept.warp_transforms(transforms, self.preset.size)
            for i in np.flatnonzero(inside):
                warp_crops(kept.images[i][None], local[i : i + 1], self.preset.size, gray, out=out[i : i + 1])
            todo &= ~inside
        if todo.any():
            log.debug("%s: %d of %d crops not inside the kept regions; decoding again", path, todo.sum(), len(todo))
            for c in iter_video_chunks(path, self.config.chunk_size, start, end, chunk_mb=CHUNK_MB):
                i = c.index
                n = min(len(c.frames), len(transforms) - i)
                for j in np.flatnonzero(todo[i : i + n]):
                    warp_crops(c.frames[j : j + 1], transforms[i + j : i + j + 1], self.preset.size, gray,
                               out=out[i + j : i + j + 1])
        return out

    def close(self) -> None:
        for b in (self._backend, self._fallback):
            if b is not None:
                b.close()


def process_video(path: str | os.PathLike, config: FrontEndConfig | None = None, start: float | None = None,
                  end: float | None = None) -> FrontEndResult:
    """Mouth crops (and optional audio features) of one video; see :class:`FrontEnd`.

    Raises :class:`~lipread.errors.MediaError` (unreadable / no video / zero frames),
    :class:`~lipread.errors.NoFaceError`, :class:`~lipread.errors.NoAudioError` (audio asked, none there).
    """
    front = FrontEnd(config)
    try:
        return front.process(path, start, end)
    finally:
        front.close()
