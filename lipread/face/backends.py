"""Face landmark backends behind a registry: ``mediapipe`` (default) and ``opencv`` (fallback).

A backend turns a chunk of RGB frames ``(n, H, W, 3)`` uint8 into, per frame, a list of candidate
faces, each ``(N, 2)`` float32 pixel coordinates of the points in :mod:`lipread.face.geometry`.
Choosing one speaker among several faces is :mod:`lipread.face.track`'s job.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
import threading
import types

import numpy as np

from lipread.errors import DependencyError
from lipread.face.far import FarFaces
from lipread.face.geometry import face_geometry
from lipread.face.size import face_width
from lipread.native import native_stderr_to
from lipread.registry import Registry

log = logging.getLogger("lipread.face.backends")

LANDMARK_BACKENDS: Registry = Registry("landmark backend")


def _downscale(frame: np.ndarray, max_side: int) -> np.ndarray:
    import cv2

    h, w = frame.shape[:2]
    scale = max_side / max(h, w)
    if scale >= 1.0:
        return frame
    return cv2.resize(frame, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)


class LandmarkBackend:
    """Base class. ``reset()`` before each new video; ``detect(frames)`` -> per frame a list of (N, 2)."""

    name = "base"

    def reset(self) -> None:  # pragma: no cover - trivial
        pass

    def detect(self, frames: np.ndarray) -> list[list[np.ndarray]]:
        raise NotImplementedError

    def close(self) -> None:  # pragma: no cover - trivial
        pass


class _ImportOnUse(types.ModuleType):
    """Stands in for a module until an attribute is first used, then imports the real one."""

    def __getattr__(self, attr):
        if attr.startswith("__") or sys.modules.get(self.__name__) is self:
            raise AttributeError(attr)  # asked while still standing in: not the real module's business
        return getattr(importlib.import_module(self.__name__), attr)


def import_mediapipe():
    """``import mediapipe`` without importing matplotlib (about 2 s of a cold start, plus building its
    font cache on a fresh machine): mediapipe's drawing helpers import ``matplotlib.pyplot`` at import
    time and use it only to plot. While mediapipe imports, ``matplotlib`` and ``matplotlib.pyplot``
    are placeholders that import the real module when used; afterwards they are taken out of
    ``sys.modules`` again, so any later ``import matplotlib`` gets the real one."""
    if "mediapipe" in sys.modules or "matplotlib.pyplot" in sys.modules:
        return importlib.import_module("mediapipe")
    names = [n for n in ("matplotlib", "matplotlib.pyplot") if n not in sys.modules]
    stubs = {n: _ImportOnUse(n) for n in names}
    if "matplotlib" in stubs:
        stubs["matplotlib"].__path__ = []  # a package, so that `import matplotlib.pyplot` resolves
        if "matplotlib.pyplot" in stubs:
            stubs["matplotlib"].pyplot = stubs["matplotlib.pyplot"]
    sys.modules.update(stubs)
    try:
        return importlib.import_module("mediapipe")
    finally:
        for n, stub in stubs.items():
            if sys.modules.get(n) is stub:
                del sys.modules[n]


QUIET_FRAMES = 8
"""Frames at the start of each video during which mediapipe's native warnings are silenced: a starting
graph prints a handful of harmless ones ("Feedback manager requires a model with a single signature...")
from its worker threads, several lines per video."""


REDETECT_EVERY = 10
"""After a full-resolution detection that finds no face, frames skipped before the next one (0.4 s at
25 fps): a video with no face in view costs a detection every 10 frames, not every frame."""


LOOK_FOR_NEW_EVERY = 50
"""While following far faces, every this many frames (2 s) the full-resolution detector looks for faces
not followed yet (someone coming into view), while fewer than ``max_faces`` are followed."""


LOOK_FAR_EVERY = 250
"""On the fast path, a frame that was downscaled is also searched for far faces at its first frame and every
this many frames after (10 s; one tiled detection, about 40-50 ms at 720p-1080p): a far face beside a near
one is a candidate too. Frames not downscaled (at most ``max_side``, e.g. GRID's 360x288) never are."""


@LANDMARK_BACKENDS.register("mediapipe")
class MediaPipeBackend(LandmarkBackend):
    """mediapipe 0.10.21 FaceMesh in video (tracking) mode, models from inside the wheel.

    Tracking runs the face detector only when a face is lost, which is what makes it fast. The first
    frame of each video is checked with a static multi-face pass: with one face, a single-face
    tracker runs (fastest); with several, a tracker for up to ``max_faces`` faces runs, so that
    :class:`~lipread.face.track.FaceTracks` can follow each person throughout.
    Frames are downscaled to at most ``max_side`` pixels for speed (landmarks are normalized, so
    they map back to full resolution exactly).

    Far faces (:mod:`lipread.face.far`): when the downscaled frame shows no face, or a face narrower
    than ``refine_below`` px there, faces are detected on tiles of the full-resolution frame and read
    (with those found downscaled) on an enlarged crop around each, then followed crop by crop until
    lost; after a try that finds nothing, the next is ``REDETECT_EVERY`` frames later. A downscaled frame
    with faces is searched for far ones beside them every ``look_far_every`` frames (0: never).
    """

    name = "mediapipe"

    def __init__(self, max_faces: int = 4, max_side: int = 640, min_confidence: float = 0.5,
                 refine_below: float = 96.0, look_far_every: int = LOOK_FAR_EVERY):
        try:
            os.environ.setdefault("GLOG_minloglevel", "2")
            os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
            mp = import_mediapipe()
        except ImportError as exc:
            raise DependencyError(f"mediapipe is not importable ({exc})",
                                  fix="pip install mediapipe==0.10.21, or use landmarks='opencv'.") from None
        self._mp = mp
        self.max_faces = max_faces
        self.max_side = max_side
        self.min_confidence = min_confidence
        self._trackers: dict[int, object] = {}
        self._active = None
        self._quiet_frames = 0
        self._probe = None
        self._idx = face_geometry().mediapipe_indices.tolist()
        self.refine_below = refine_below
        self.look_far_every = look_far_every
        self._far = FarFaces(mp, max_faces, min_confidence)
        self._far.set_indices(self._idx)
        self._cooldown = 0  # frames until the next full-resolution detection may run
        self._far_frames = 0  # frames followed by far-face tracks since the last reset
        self._fast_frames = 0  # frames read on the downscaled frame since the last reset

    def _tracker(self, n: int):
        if n not in self._trackers:
            self._trackers[n] = self._mp.solutions.face_mesh.FaceMesh(
                static_image_mode=False, refine_landmarks=False, max_num_faces=n,
                min_detection_confidence=self.min_confidence, min_tracking_confidence=self.min_confidence)
        return self._trackers[n]

    def reset(self) -> None:
        self._active = None
        self._quiet_frames = 0
        self._far.clear()
        self._cooldown = 0
        self._far_frames = 0
        self._fast_frames = 0

    def _choose_tracker(self, image: np.ndarray) -> None:
        n = 1
        if self.max_faces > 1:
            if self._probe is None:
                self._probe = self._mp.solutions.face_mesh.FaceMesh(
                    static_image_mode=True, max_num_faces=self.max_faces,
                    min_detection_confidence=self.min_confidence)
            found = self._probe.process(image).multi_face_landmarks
            n = min(self.max_faces, len(found) + 1) if found and len(found) > 1 else 1
        self._active = self._tracker(n)
        self._active.reset()
        log.debug("mediapipe: tracking up to %d face(s)", n)

    def detect(self, frames: np.ndarray) -> list[list[np.ndarray]]:
        out: list[list[np.ndarray]] = []
        h, w = frames.shape[1:3]
        scale = np.array([w, h], dtype=np.float32)
        idx = self._idx
        for frame in frames:
            if self._far.tracks:  # following far faces: crop around each, no detection
                self._far_frames += 1
                with native_stderr_to(None):
                    if self._far_frames % LOOK_FOR_NEW_EVERY == 0 and len(self._far.tracks) < self.max_faces:
                        self._far.add_new(frame)
                    found = self._far.track(frame)
                if found:
                    out.append(found)
                    continue
            image = _downscale(frame, self.max_side)
            if self._active is None or self._quiet_frames < QUIET_FRAMES:
                # a starting graph warns from its worker threads during its first frames
                with native_stderr_to(None):
                    if self._active is None:
                        self._choose_tracker(image)
                    faces = self._active.process(image).multi_face_landmarks or []
                self._quiet_frames += 1
            else:
                faces = self._active.process(image).multi_face_landmarks or []
            found = []
            for face in faces:
                lm = face.landmark
                found.append(np.array([(lm[i].x, lm[i].y) for i in idx], dtype=np.float32) * scale)
            self._fast_frames += 1
            if found and image is not frame:
                boxes = None
                if self.look_far_every and (self._fast_frames - 1) % self.look_far_every == 0:  # far ones beside?
                    with native_stderr_to(None):
                        boxes = self._far.boxes(frame)
                    boxes = boxes if self._far.uncovered(boxes, found) else None
                if boxes is not None or image.shape[1] / w * min(map(face_width, found)) < self.refine_below:
                    found = self._far_faces(frame, faces, scale, boxes) or found
            elif not found:
                found = self._far_faces(frame, [], scale)
            out.append(found)
        return out

    def _far_faces(self, frame: np.ndarray, faces: list, scale: np.ndarray, boxes: np.ndarray | None = None
                   ) -> list[np.ndarray]:
        """Faces of a full-resolution frame read on crops: the ``faces`` FaceMesh found in the downscaled
        frame (all of them, large ones too, so none is lost) and those the tiled detector finds besides;
        a fruitless try waits ``REDETECT_EVERY`` frames."""
        if self._cooldown > 0:
            self._cooldown -= 1
            return []
        meshes = [np.array([(p.x, p.y) for p in f.landmark], dtype=np.float64) * scale for f in faces]
        with native_stderr_to(None):
            found = self._far.detect(frame, meshes, boxes)
        self._cooldown = 0 if found else REDETECT_EVERY
        log.debug("far faces: %d found at full resolution", len(found))
        return found

    def close(self) -> None:
        for tracker in [*self._trackers.values(), self._probe]:
            if tracker is not None:
                tracker.close()
        self._probe = None
        self._trackers.clear()
        self._active = None
        self._far.close()


@LANDMARK_BACKENDS.register("opencv")
class OpenCVBackend(LandmarkBackend):
    """OpenCV's Haar frontal-face cascade; the points are the mean face placed in the face box.

    Needs only OpenCV (the cascade files ship in ``cv2.data.haarcascades``). Lip shape is not
    measured, only the mouth's position by face geometry: good enough to crop, not to read landmarks.
    """

    name = "opencv"

    def __init__(self, max_side: int = 320, **_: object):
        import cv2

        path = os.path.join(cv2.data.haarcascades, "haarcascade_frontalface_default.xml")
        self._cascade = cv2.CascadeClassifier(path)
        if self._cascade.empty():
            raise DependencyError(f"cannot load the OpenCV Haar cascade {path}", fix="Reinstall opencv.")
        self.max_side = max_side
        self._mean = face_geometry().mean

    def detect(self, frames: np.ndarray) -> list[list[np.ndarray]]:

        return [[self.from_box(b) for b in self.boxes(frame)] for frame in frames]

    def boxes(self, frame: np.ndarray) -> np.ndarray:
        """Face boxes ``(k, 4)`` float32 ``(x, y, w, h)`` in full-resolution pixels of an RGB frame."""
        import cv2

        small = _downscale(frame, self.max_side)
        s = frame.shape[1] / small.shape[1]
        gray = cv2.equalizeHist(cv2.cvtColor(small, cv2.COLOR_RGB2GRAY))
        side = min(gray.shape[:2])
        boxes = self._cascade.detectMultiScale(gray, scaleFactor=1.1, minNeighbors=5,
                                               minSize=(max(24, side // 8),) * 2)
        return np.asarray(boxes, dtype=np.float32).reshape(-1, 4) * s

    def from_box(self, box: np.ndarray) -> np.ndarray:
        """(N, 2) points of the mean face placed in the face box ``(x, y, w, h)``."""
        x, y, bw, bh = box
        return (self._mean * np.array([bw, bh], dtype=np.float32) + np.array([x, y], dtype=np.float32)).astype(
            np.float32)


class SplitBackend(LandmarkBackend):
    """Two instances of one backend reading alternate frames at the same time, one in a worker thread.

    mediapipe's FaceMesh runs on one core (its graph outside the GIL), so on two cores two trackers read a
    chunk in about half the time. Frames go to the two in turn, counted across the chunks of a video
    (``reset`` starts again), so each instance tracks every other frame it would have seen alone: the same
    faces, tracked over twice the frame gap. Deterministic: which instance reads a frame depends only on its
    place in the video. ``make`` builds the second instance, in the worker at its first frame.
    """

    def __init__(self, first: LandmarkBackend, make):
        import concurrent.futures

        self.first, self.second, self._make = first, None, make
        self.name = first.name
        self._count = 0
        self._pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="lipread-landmarks")

    def reset(self) -> None:
        self._count = 0
        self.first.reset()
        if self.second is not None:
            self.second.reset()

    def _second_detect(self, frames: np.ndarray) -> list[list[np.ndarray]]:
        if self.second is None:
            self.second = self._make()
            self.second.reset()
        return self.second.detect(frames)

    def detect(self, frames: np.ndarray) -> list[list[np.ndarray]]:
        n, start = len(frames), self._count
        self._count += n
        mine, theirs = frames[start % 2 :: 2], frames[(start + 1) % 2 :: 2]  # views: frame i goes to (start + i) % 2
        future = self._pool.submit(self._second_detect, theirs) if len(theirs) else None
        try:
            a = self.first.detect(mine) if len(mine) else []
        finally:
            b = future.result() if future is not None else []  # waited for even when the first failed
        out: list[list[np.ndarray]] = [[] for _ in range(n)]
        out[start % 2 :: 2], out[(start + 1) % 2 :: 2] = a, b
        return out

    def unsplit(self) -> LandmarkBackend:
        """The first instance alone; the worker and the second instance are closed."""
        self._pool.shutdown(wait=True)
        if self.second is not None:
            self.second.close()
            self.second = None
        return self.first

    def close(self) -> None:
        self.unsplit().close()


def landmark_workers(asked: int) -> int:
    """How many landmark trackers read a video at once: ``asked``, or with 0 (auto) two where this process may
    use two cores or more, else one."""
    if asked:
        return asked
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return 2 if cores >= 2 else 1


_STARTED: dict[tuple, list] = {}
"""Backends being started ahead (:func:`prestart`): (name, options) -> [(event set when built, result list), ...]."""
_START_LOCK = threading.Lock()


def prestart(name: str = "mediapipe", copies: int = 1, warm_up: bool = True, **options) -> None:
    """Start building backend ``name`` in a background thread (importing mediapipe, building its graphs on a
    blank frame), OpenCV's colour tables and scipy.fft's import, while the caller goes on (e.g. importing torch and loading the
    model): the next :func:`create_backend` with the same name and options takes it. Native code of both
    runs outside the GIL, so on two cores a new process reads its first file ~0.1 s sooner. ``copies``: as many
    backends, built one after the other and each handed over as soon as it is ready (two trackers read a file
    at once: :class:`SplitBackend`). ``warm_up`` False: the backends only (not OpenCV's tables, scipy.fft)."""
    key = (name, tuple(sorted(options.items())))
    if key in _STARTED:
        return
    slots = _STARTED[key] = [(threading.Event(), []) for _ in range(copies)]

    def build() -> None:
        for ready, result in list(slots):  # a copy: create_backend takes the slots out of the list as they are used
            try:
                backend = LANDMARK_BACKENDS.get(name)(**options)
                backend.detect(np.zeros((1, 64, 64, 3), np.uint8))
                backend.reset()
                result.append(backend)
            except Exception as exc:  # noqa: BLE001  (create_backend builds it again and reports the error itself)
                log.debug("starting the %s backend ahead failed: %s", name, exc)
            finally:
                ready.set()
        if not warm_up:
            return
        try:
            import cv2

            cv2.cvtColor(np.zeros((1, 1, 3), np.float32), cv2.COLOR_RGB2LAB)  # builds its Lab tables (~0.12 s)
            import scipy.fft  # noqa: F401  (the speaker check's pitch (YIN) needs it: ~0.15 s to import)
        except Exception as exc:  # noqa: BLE001  (only a head start: whoever needs them imports them)
            log.debug("warming up OpenCV / scipy.fft failed: %s", exc)

    threading.Thread(target=build, name=f"lipread-start-{name}", daemon=True).start()


def create_backend(name: str, **options) -> LandmarkBackend:
    """Build the backend ``name``; ``mediapipe`` falls back to ``opencv`` when it cannot be imported. A backend
    :func:`prestart` began with the same options is waited for and handed over (once)."""
    key = (name, tuple(sorted(options.items())))
    with _START_LOCK:  # the two trackers of a SplitBackend are made from two threads
        slots = _STARTED.get(key)
        started = slots.pop(0) if slots else None
        if slots == []:  # the last one taken: a later prestart starts anew
            del _STARTED[key]
    if started is not None:
        started[0].wait()
        if started[1]:
            return started[1][0]
    try:
        return LANDMARK_BACKENDS.get(name)(**options)
    except DependencyError as exc:
        if name == "opencv":
            raise
        log.warning("%s; falling back to the opencv landmark backend", exc)
        return LANDMARK_BACKENDS.get("opencv")(**options)
