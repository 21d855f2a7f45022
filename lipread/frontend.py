"""The front end: video file -> stable mouth crops (+ optional audio features).

decode (PyAV, 25 fps, chunks) -> landmarks (mediapipe tracking; opencv fallback) -> every face tracked
-> the speaker chosen (with 2+ faces: the face whose mouth moves with the sound, see :mod:`lipread.face.sync`)
-> fill missed frames -> smooth ±6 frames -> similarity-align to the mean face -> warp crops.

Legend: T frames at 25 fps, N landmarks, H/W crop size, C channels (3 RGB or 1 gray), F features.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field

import numpy as np

from lipread.audio.features import AudioFeatureConfig, compute_features, fit_samples
from lipread.background import Background
from lipread.errors import ConfigError, NoFaceError
from lipread.face.align import crop_transforms, warp_crops
from lipread.face.backends import (
    LANDMARK_BACKENDS,
    LandmarkBackend,
    SplitBackend,
    create_backend,
    landmark_workers,
)
from lipread.face.geometry import PRESETS, face_geometry
from lipread.face.roi import RegionStore, chunk_region
from lipread.face.size import check_face_size, needed_width
from lipread.face.track import FaceTracks, box_xywh, check_face_option, interpolate_missing, missing_ranges
from lipread.io.video import DecodeReport, iter_video_chunks, prefetch
from lipread.types import VIDEO_FPS

log = logging.getLogger("lipread.frontend")

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
    beyond it the video is decoded twice); ``waveform`` keep the sound (``waveform``) even without the features
    (a long file's pauses are found in it); ``min_face_width`` the narrowest median face (px) read, None for
    :data:`lipread.face.size.MIN_FACE_WIDTH`, 0 for no check (a narrower one raises ``FaceTooSmallError``).

    ``face`` which face is read when several are seen: ``auto`` (the one whose mouth moves with the sound,
    or without sound the one whose mouth moves most; stretches of a long range may switch when speakers take
    turns), ``largest`` (the largest face throughout), or ``"N"`` (the N-th face, numbered left to right as
    first seen). ``sync_max_lag`` the largest audio/video offset looked for (seconds); ``sync_correct``
    read the sound shifted by the estimated offset when it is at least this many seconds (None: never)."""

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
    waveform: bool = False
    face: str = "auto"
    sync_max_lag: float = 0.6
    sync_correct: float | None = None
    min_face_width: float | None = None
    landmark_every: int = 1
    """Landmarks are found on every this-many-th frame (and on each decoded chunk's last), the frames between
    interpolated (:func:`detect_every`): 2 halves the landmark model's time; the crops, smoothed over
    ±``smooth_radius`` frames, barely move. 1: every frame (what corpora are prepared with)."""
    landmark_workers: int = 1
    """mediapipe trackers reading a video's frames at once, in turn (:class:`~lipread.face.backends.SplitBackend`):
    1 (what corpora are prepared with), 2, or 0 for two where the process may use two cores. Two halve the
    landmarks' time on two cores; each tracker then follows every other frame."""

    def __post_init__(self):
        self.face = check_face_option(self.face)
        if isinstance(self.audio_features, dict):
            self.audio_features = AudioFeatureConfig(**self.audio_features)
        if self.preset not in PRESETS:
            raise ConfigError(f"unknown crop preset {self.preset!r}", fix=f"Use one of {', '.join(PRESETS)}.")
        if self.landmark_workers not in (0, 1, 2):
            raise ConfigError(f"landmark_workers must be 0 (auto), 1 or 2, not {self.landmark_workers!r}")
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
    faces: list[dict] = field(default_factory=list)
    """Every face tracked (short-lived detections dropped): ``{"id", "box": (x, y, w, h) source pixels over
    the range, "frames": frames seen}``; ids 0, 1, ... count left to right as first seen."""
    face: np.ndarray | None = None
    """(T,) int the id of the face read in each frame."""
    face_choice: list[dict] = field(default_factory=list)
    """Stretches of frames read from one face: ``{"start", "end" (seconds in the source), "face" (id),
    "reason" (e.g. "sync with sound 0.62 vs 0.11", "only face", "largest", "--face 1"), "score"}``."""
    av_offset: float | None = None
    """The sound's offset against the lips in seconds, positive = sound late (estimated from the read face's
    mouth motion; None without sound, or where the estimate is unreliable or was not made)."""
    av_offset_corr: float | None = None
    """The correlation of the read face's mouth opening with the sound at ``av_offset``."""
    av_offset_applied: bool = False
    """The sound (``audio_features``/``waveform``) was read shifted by ``av_offset``."""


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
        """The landmark backend; two mediapipe trackers in turn when ``landmark_workers`` asks for two (made
        again when the setting changes between files)."""
        if self._backend is None:
            self._backend = create_backend(self.config.landmarks, max_faces=self.config.max_faces)
        two = landmark_workers(self.config.landmark_workers) > 1
        if isinstance(self._backend, SplitBackend) and not two:
            self._backend = self._backend.unsplit()
        elif two and not isinstance(self._backend, SplitBackend) and self._backend.name == "mediapipe":
            self._backend = self._split(self._backend)
        return self._backend

    def _split(self, backend: LandmarkBackend) -> SplitBackend:
        return SplitBackend(backend, lambda: create_backend(backend.name, max_faces=self.config.max_faces))

    def _landmarks(self, path, start, end, backend: LandmarkBackend, report: DecodeReport, keep: bool,
                   progress=None):
        """Pass 1: decode and track every face's landmarks. Returns (tracks, kept|None, size, t0);
        ``tracks`` a :class:`FaceTracks`, ``kept`` a :class:`RegionStore` of the parts of the frames the crops
        of any face need."""
        backend.reset()
        tracker = None
        kept: RegionStore | None = None
        region = None
        limit = self.config.keep_frames_mb * 2**20
        t0 = None
        state: dict = {}
        chunks = iter_video_chunks(path, self.config.chunk_size, start, end, report=report, chunk_mb=CHUNK_MB)
        for chunk in prefetch(chunks) if self.config.prefetch else chunks:
            if tracker is None:
                h, w = chunk.frames.shape[1:3]
                tracker = FaceTracks()
                t0 = float(chunk.times[0])
                kept = RegionStore((w, h)) if keep else None
            found = detect_every(backend, chunk.frames, self.config.landmark_every, state)
            picks = [p for faces in found for p in tracker.update(faces).values()]
            if progress is not None:
                progress(len(chunk.frames))
            if kept is not None:
                # a chunk with no face keeps the last face's region (the crops there copy its landmarks)
                region = chunk_region(picks, (w, h), self.geometry, self.preset) or region
                kept.add(chunk.frames, region)
                kept = kept if kept.nbytes <= limit else None
        return tracker, kept, (w, h), t0

    def process(self, path: str | os.PathLike, start: float | None = None, end: float | None = None,
                progress=None, has_sound: bool | None = None) -> FrontEndResult:
        """Run the front end on one file (or its ``start``..``end`` segment, seconds).

        ``progress`` (optional) is called with the number of frames done after each decoded chunk.
        ``has_sound``: whether the file has an audio track, when the caller knows it (its probe): the file
        is then not opened again to find out.
        """
        path = os.fspath(path)
        cfg = self.config
        report = DecodeReport(path)
        backend = self.backend
        sound = None  # a whole file's sound, read beside the landmarks (they leave a core idle at first)
        if start is None and end is None and has_sound and (cfg.audio or cfg.waveform):
            from lipread.io.audio import read_audio

            sound = Background(read_audio, path, name="lipread-audio")
        tracks, kept, size, t0 = self._landmarks(path, start, end, backend, report, True, progress)
        if not tracks.found.any() and backend.name != "opencv":
            log.info("%s: %s found no face; trying the opencv backend", path, backend.name)
            if self._fallback is None:
                self._fallback = create_backend("opencv")
            backend = self._fallback
            tracks, _, size, t0 = self._landmarks(path, start, end, backend, DecodeReport(path), False)
        found = tracks.found  # (K, T)
        n = found.shape[1]
        if not found.any():
            need = needed_width(cfg.min_face_width)
            raise NoFaceError(f"no face found in any of {n} frames", path,
                              "Use a video where the speaker's face is visible and frontal"
                              + (f", at least {need:.0f} px wide." if need else "."))
        keep = self._lasting(found)
        found, points = found[keep], tracks.points(self.geometry.n_points)[keep]  # (K, T), (K, T, N, 2)
        filled = np.stack([interpolate_missing(p, f) for p, f in zip(points, found)])
        faces = [{"id": i, "box": tuple(round(v, 1) for v in box_xywh(p[f])), "frames": int(f.sum())}
                 for i, (p, f) in enumerate(zip(points, found))]
        audio_at = t0 if start is not None else None
        audio_end = None if end is None else (t0 or 0.0) + n / VIDEO_FPS

        def range_sound() -> np.ndarray:
            """The range's sound: the read started beside the landmarks, else read now."""
            if sound is not None:
                return sound.result()
            from lipread.io.audio import read_audio

            return read_audio(path, start=audio_at, end=audio_end)

        choice, audio = self._choose(path, filled, found, range_sound, has_sound)
        chosen = choice.per_frame(n)  # face ids: indices into the kept tracks
        valid = found[chosen, np.arange(n)]
        if not valid.all():
            ranges = ", ".join(f"{a:.2f}-{b:.2f}s" for a, b in missing_ranges(valid, VIDEO_FPS))
            log.warning("%s: no face in %d of %d frames (%s); filled by interpolation",
                        path, int((~valid).sum()), len(valid), ranges)
        landmarks = filled[chosen, np.arange(n)]
        check_face_size(landmarks, valid, path, cfg.min_face_width)
        transforms = np.empty((n, 2, 3), np.float32)
        for k in np.unique(chosen):  # each face smoothed on its own, so a switch does not blend two faces
            transforms[chosen == k] = crop_transforms(filled[k], self.geometry, self.preset, cfg.smooth_radius)[chosen == k]
        mouth = self._crops(path, start, end, kept, transforms)
        features = waveform = None
        applied = False
        if cfg.audio or cfg.waveform:
            from lipread.io.audio import read_audio

            shift = choice.offset if (choice.offset is not None and cfg.sync_correct is not None
                                      and abs(choice.offset) >= cfg.sync_correct) else 0.0
            if shift:
                applied = True
                log.info("%s: the sound is %.0f ms %s; read shifted to match the lips", path, abs(shift) * 1000,
                         "late" if shift > 0 else "early")
                audio = read_audio(path, start=(audio_at or 0.0) + shift,
                                   end=None if audio_end is None else audio_end + shift)
            elif audio is None:
                audio = range_sound()
            if cfg.audio:
                features = compute_features(audio, cfg.audio_features, n_video_frames=n)
            waveform = fit_samples(audio, n)
        face_choice = [{"start": round((t0 or 0.0) + st.start / VIDEO_FPS, 3),
                        "end": round((t0 or 0.0) + st.end / VIDEO_FPS, 3), "face": st.face,
                        "reason": st.reason, "score": None if st.score is None else round(st.score, 3)}
                       for st in choice.stretches]
        if len(faces) > 1:
            log.info("%s: %d faces; read %s", path, len(faces),
                     "; ".join(f"face {c['face']} {c['start']:.2f}-{c['end']:.2f}s ({c['reason']})" for c in face_choice))
        return FrontEndResult(path=path, mouth=mouth, valid=valid, landmarks=landmarks.astype(np.float32),
                              transforms=transforms, audio_features=features, fps=VIDEO_FPS, start=t0 or 0.0,
                              duration=n / VIDEO_FPS, backend=backend.name, frame_size=size,
                              report=report, waveform=waveform, faces=faces, face=chosen, face_choice=face_choice,
                              av_offset=choice.offset, av_offset_corr=choice.offset_corr, av_offset_applied=applied)

    @staticmethod
    def _lasting(found: np.ndarray) -> np.ndarray:
        """Indices of the tracks seen long enough to count as faces (a tenth of the frames, at least 3);
        the longest one when none is."""
        seen = found.sum(axis=1)
        keep = np.flatnonzero(seen >= max(3, 0.1 * found.shape[1]))
        return keep if len(keep) else np.array([int(np.argmax(seen))])

    def _choose(self, path, filled, found, range_sound, has_sound: bool | None = None):
        """Which face to read where: a :class:`~lipread.face.sync.Choice` over the kept tracks, and the sound of
        the range when it was read for the choice (else None); ``range_sound()`` gives that sound."""
        from lipread.face.sync import (
            Choice,
            Stretch,
            choose_face,
            estimate_offset,
            mouth_opening,
            predicted_opening,
        )

        cfg = self.config
        k, n = found.shape
        want = cfg.face
        if want.isdigit() and k > 1:
            if int(want) < k:
                return Choice([Stretch(0, n, int(want), f"--face {want}")]), None
            log.warning("%s: --face %s but only %d faces are seen here (0-%d); choosing automatically", path, want,
                        k, k - 1)
        if want == "largest" and k > 1:
            sizes = [np.median([np.sqrt(max(np.ptp(p[:, 0]) * np.ptp(p[:, 1]), 0.0)) for p in f[s]])
                     for f, s in zip(filled, found)]
            return Choice([Stretch(0, n, int(np.argmax(sizes)), "largest")]), None
        if k == 1 and not (cfg.audio or cfg.waveform):
            return Choice([Stretch(0, n, 0, "only face")]), None  # no sound to read: no cost
        from lipread.io.audio import has_audio

        openings = np.stack([mouth_opening(f, self.geometry) for f in filled])
        if not (has_audio(path) if has_sound is None else has_sound):
            return choose_face(openings, None), None
        audio = range_sound()
        predicted = predicted_opening(audio, n)
        lag = max(1, int(round(cfg.sync_max_lag * VIDEO_FPS)))
        if k == 1:
            offset, corr = estimate_offset(openings[0], predicted, lag)
            ok = corr >= 0.3
            return Choice([Stretch(0, n, 0, "only face")], offset if ok else None, corr if ok else None), audio
        return choose_face(openings, predicted, max_lag=lag), audio

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


def detect_every(backend: LandmarkBackend, frames: np.ndarray, every: int, state: dict) -> list[list[np.ndarray]]:
    """``backend.detect`` on every ``every``-th frame of a video (counted across its chunks in ``state``, a dict
    kept for the video) and on the chunk's last frame; the frames between get the points interpolated between
    the frames around them (the same faces, in the same order, moved linearly; else the nearer frame's)."""
    if every <= 1:
        return backend.detect(frames)
    n = len(frames)
    first = state.get("next", 0)
    state["next"] = first + n
    picked = [i for i in range(n) if (first + i) % every == 0 or i == n - 1]
    found = backend.detect(frames[picked])
    out: list[list[np.ndarray]] = [[] for _ in range(n)]
    before, faces_before = -1, state.get("last")  # the previous chunk's last frame sits at index -1
    for i, faces in zip(picked, found):
        out[i] = faces
        for j in range(before + 1, i):
            t = (j - before) / (i - before)
            if faces_before is None:
                out[j] = faces
            elif len(faces_before) == len(faces) and faces:
                out[j] = [((1 - t) * a + t * b).astype(np.float32) for a, b in zip(faces_before, _same_order(faces_before, faces))]
            else:
                out[j] = faces_before if t < 0.5 else faces
        before, faces_before = i, faces
    state["last"] = faces_before
    return out


def _same_order(reference: list[np.ndarray], faces: list[np.ndarray]) -> list[np.ndarray]:
    """``faces`` reordered so that each is the one nearest (by centre) the face at its place in ``reference``."""
    if len(faces) < 2:
        return faces
    centres = np.array([f.mean(axis=0) for f in faces])
    order = [int(np.argmin(np.linalg.norm(centres - r.mean(axis=0), axis=1))) for r in reference]
    return [faces[k] for k in order] if len(set(order)) == len(order) else faces


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
