"""Far faces: find small faces at full resolution, then read landmarks on an enlarged crop around each.

FaceMesh looks for faces in the whole frame with a short-range detector that sees it at 128 px, so a
face under about a tenth of the frame width is missed, and one it does find is read at few pixels.
:class:`FarFaces` instead

1. finds faces with mediapipe's full-range face detector (``FaceDetection(model_selection=1)``, which
   sees its input at 192 px) run on overlapping square tiles of the full-resolution frame: 640-px tiles
   first (faces of about 40 px and up), 320-px tiles when those find nothing (down to about 20 px);
2. runs FaceMesh (video mode, one instance per face) on a square crop around each face, ``CROP_SCALE``
   times the face's size, resampled to ``CROP_SIDE`` px, and maps the points back to frame pixels;
3. on the next frames crops around each face's previous landmarks (tracking: no detection), and drops a
   face when FaceMesh loses it; the caller re-detects when all are lost, and looks for newcomers now
   and then (:meth:`FarFaces.add_new`).

Legend: H, W frame size; N landmarks of :mod:`lipread.face.geometry`; boxes ``(x, y, w, h)`` frame pixels.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

log = logging.getLogger("lipread.face.far")

CROP_SIDE = 256
"""Side in pixels of the square crop FaceMesh reads (its detector sees 128 px, its landmark model 192 px)."""
CROP_SCALE = 2.2
"""Crop side as a multiple of the face's size (the detector box, or the full mesh's bounding box)."""
TILE_SIDES = (640, 320)
"""Square tile sides, in full-resolution pixels, tried in turn until a tile size finds a face."""
TILE_OVERLAP = 0.25
"""Overlap of neighbouring tiles (a fraction of the side), so a face on a tile border is whole in one."""


@dataclass
class _Track:
    """One followed face: its FaceMesh instance and the square it was last seen in (cx, cy, side) px."""

    mesh: object
    centre: np.ndarray
    side: float


def tiles(width: int, height: int, side: int, overlap: float = TILE_OVERLAP) -> list[tuple[int, int, int, int]]:
    """Overlapping tiles ``(x0, y0, x1, y1)`` covering a ``width`` x ``height`` frame, each at most ``side``."""

    def starts(n: int) -> list[int]:
        if n <= side:
            return [0]
        step = max(1, int(side * (1 - overlap)))
        out = list(range(0, n - side, step))
        return out + [n - side]

    return [(x, y, min(x + side, width), min(y + side, height)) for y in starts(height) for x in starts(width)]


def _nms(boxes: np.ndarray, scores: np.ndarray, iou: float = 0.3) -> np.ndarray:
    """Indices of boxes ``(k, 4)`` kept by greedy non-maximum suppression, best score first."""
    order = np.argsort(-scores)
    keep: list[int] = []
    for i in order:
        x, y, w, h = boxes[i]
        ok = True
        for j in keep:
            xj, yj, wj, hj = boxes[j]
            iw = max(0.0, min(x + w, xj + wj) - max(x, xj))
            ih = max(0.0, min(y + h, yj + hj) - max(y, yj))
            inter = iw * ih
            if inter / (w * h + wj * hj - inter + 1e-6) > iou or inter > 0.5 * min(w * h, wj * hj):
                ok = False
                break
        if ok:
            keep.append(int(i))
    return np.array(keep, dtype=np.int64)


class FarFaces:
    """Detect small faces on tiles and follow each with FaceMesh on an enlarged crop.

    ``mp`` the imported mediapipe module; ``max_faces`` faces followed at most; ``min_confidence`` of
    the detector and of FaceMesh. ``detect(frame, meshes)`` (re)starts the tracks from the faces the
    caller found and those the tiled detector finds, ``track(frame)`` follows them; both return a list
    of ``(N, 2)`` float32 frame-pixel landmarks.
    """

    def __init__(self, mp, max_faces: int = 4, min_confidence: float = 0.5):
        self._mp = mp
        self.max_faces = max_faces
        self.min_confidence = min_confidence
        self._detector = None
        self._pool: list[object] = []  # FaceMesh instances not in use
        self.tracks: list[_Track] = []
        self._idx = None

    def set_indices(self, idx: list[int]) -> None:
        self._idx = np.asarray(idx, dtype=np.int64)

    # ---- detection -------------------------------------------------------------------------------
    def boxes(self, frame: np.ndarray) -> np.ndarray:
        """Face boxes ``(k, 4)`` float32 ``(x, y, w, h)`` found on tiles of the full-resolution RGB frame,
        at most ``max_faces``, best first."""
        if self._detector is None:
            self._detector = self._mp.solutions.face_detection.FaceDetection(
                model_selection=1, min_detection_confidence=self.min_confidence)
        h, w = frame.shape[:2]
        for side in TILE_SIDES:
            if side > max(h, w) and side != TILE_SIDES[-1]:
                continue  # one tile would be the whole frame: the smaller tiles see it better
            found, scores = [], []
            for x0, y0, x1, y1 in tiles(w, h, side):
                tile = np.ascontiguousarray(frame[y0:y1, x0:x1])
                for d in self._detector.process(tile).detections or []:
                    b = d.location_data.relative_bounding_box
                    found.append((x0 + b.xmin * (x1 - x0), y0 + b.ymin * (y1 - y0),
                                  b.width * (x1 - x0), b.height * (y1 - y0)))
                    scores.append(d.score[0])
            if found:
                boxes = np.array(found, dtype=np.float32)
                keep = _nms(boxes, np.array(scores))
                return boxes[keep[: self.max_faces]]
        return np.zeros((0, 4), np.float32)

    # ---- tracks ----------------------------------------------------------------------------------
    def _mesh(self):
        if self._pool:
            mesh = self._pool.pop()
            mesh.reset()
            return mesh
        return self._mp.solutions.face_mesh.FaceMesh(
            static_image_mode=False, refine_landmarks=False, max_num_faces=1,
            min_detection_confidence=self.min_confidence, min_tracking_confidence=self.min_confidence)

    def _start(self, frame: np.ndarray, squares: list[tuple[np.ndarray, float]]) -> None:
        self.clear()
        for centre, side in squares[: self.max_faces]:
            self.tracks.append(_Track(self._mesh(), np.asarray(centre, np.float64), float(side)))

    def detect(self, frame: np.ndarray, meshes: list[np.ndarray] = (), boxes: np.ndarray | None = None
               ) -> list[np.ndarray]:
        """Start a track on each face and return the landmarks of those FaceMesh confirms.

        The faces are ``meshes`` (full FaceMesh point sets ``(468, 2)`` frame px found by the caller on the
        downscaled frame), then those the tiled detector finds (``boxes``, when already known) that none of
        them covers."""
        squares = [_square(m) for m in meshes]
        self._start(frame, squares)
        self.add_new(frame, boxes)
        return self.track(frame)

    def add_new(self, frame: np.ndarray, boxes: np.ndarray | None = None) -> None:
        """Detect on tiles (unless ``boxes`` are given) and start a track on each face no track follows yet
        (e.g. someone who came into view); the new faces' landmarks come from the next :meth:`track`."""
        for x, y, bw, bh in self.boxes(frame) if boxes is None else boxes:
            if len(self.tracks) >= self.max_faces:
                break
            centre = np.array([x + bw / 2, y + bh / 2])
            if all(np.linalg.norm(centre - t.centre) > 0.25 * t.side for t in self.tracks):
                self.tracks.append(_Track(self._mesh(), centre, CROP_SCALE * max(bw, bh)))

    def track(self, frame: np.ndarray) -> list[np.ndarray]:
        """Landmarks of each followed face in this frame; faces FaceMesh loses are dropped."""
        kept: list[tuple[_Track, np.ndarray]] = []
        h, w = frame.shape[:2]
        for t in self.tracks:
            crop, origin, span = crop_square(frame, t.centre, t.side)
            res = t.mesh.process(crop).multi_face_landmarks
            if not res:
                self._pool.append(t.mesh)
                continue
            lm = res[0].landmark
            mesh = np.array([(p.x, p.y) for p in lm], dtype=np.float64) * span + origin
            t.centre, t.side = _square(mesh)
            if not (-t.side / 2 < t.centre[0] < w + t.side / 2 and -t.side / 2 < t.centre[1] < h + t.side / 2):
                self._pool.append(t.mesh)
                continue
            kept.append((t, mesh[self._idx].astype(np.float32)))
        kept = _distinct(kept, self._pool)
        self.tracks = [t for t, _ in kept]
        return [points for _, points in kept]

    def uncovered(self, boxes: np.ndarray, faces: list[np.ndarray]) -> bool:
        """Whether a detector box ``(x, y, w, h)`` lies outside every face's landmarks ``(N, 2)`` (a face missed)."""
        for x, y, bw, bh in boxes:
            centre = np.array([x + bw / 2, y + bh / 2])
            if all(np.abs(centre - (f.min(0) + f.max(0)) / 2).max() > max(np.ptp(f, axis=0).max(), bw) for f in faces):
                return True
        return False

    def clear(self) -> None:
        """Stop following every face (their FaceMesh instances are kept for reuse)."""
        self._pool.extend(t.mesh for t in self.tracks)
        self.tracks = []

    def close(self) -> None:
        self.clear()
        for mesh in [*self._pool, self._detector]:
            if mesh is not None:
                mesh.close()
        self._pool, self._detector = [], None


def crop_square(frame: np.ndarray, centre: np.ndarray, side: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The square of ``side`` px around ``centre`` (x, y) of an RGB frame, resampled to ``CROP_SIDE`` px (black
    outside the frame). Returns the crop (CROP_SIDE, CROP_SIDE, 3), and ``origin`` (2,) and ``span`` (2,) in
    frame px such that a point ``u`` in crop units (0..1) is at ``origin + u * span`` in the frame."""
    import cv2

    h, w = frame.shape[:2]
    x0, y0 = np.asarray(centre, np.float64) - side / 2
    if side <= CROP_SIDE:  # enlarged: one bilinear warp, sub-pixel exact
        s = CROP_SIDE / side
        m = np.array([[s, 0, -x0 * s], [0, s, -y0 * s]], dtype=np.float64)
        crop = cv2.warpAffine(frame, m, (CROP_SIDE, CROP_SIDE), flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0))
        return crop, np.array([x0, y0]), np.array([side, side])
    # reduced: cut whole pixels (padded with black) and average them down (INTER_AREA, no aliasing)
    xi0, yi0 = int(np.floor(x0)), int(np.floor(y0))
    xi1, yi1 = int(np.ceil(x0 + side)), int(np.ceil(y0 + side))
    region = np.zeros((yi1 - yi0, xi1 - xi0, 3), np.uint8)
    sx0, sy0, sx1, sy1 = max(xi0, 0), max(yi0, 0), min(xi1, w), min(yi1, h)
    if sx1 > sx0 and sy1 > sy0:
        region[sy0 - yi0 : sy1 - yi0, sx0 - xi0 : sx1 - xi0] = frame[sy0:sy1, sx0:sx1]
    crop = cv2.resize(region, (CROP_SIDE, CROP_SIDE), interpolation=cv2.INTER_AREA)
    return crop, np.array([xi0, yi0], np.float64), np.array([xi1 - xi0, yi1 - yi0], np.float64)


def _square(mesh: np.ndarray) -> tuple[np.ndarray, float]:
    """Centre (2,) and crop side of a full FaceMesh point set ``(468, 2)`` frame px."""
    lo, hi = mesh.min(axis=0), mesh.max(axis=0)
    return (lo + hi) / 2, float(CROP_SCALE * (hi - lo).max())


def _distinct(kept: list[tuple[_Track, np.ndarray]], pool: list) -> list[tuple[_Track, np.ndarray]]:
    """Tracks that drifted onto the same face as an earlier one are dropped (their mesh goes to ``pool``)."""
    out: list[tuple[_Track, np.ndarray]] = []
    for t, points in kept:
        if any(np.linalg.norm(t.centre - o.centre) < 0.15 * min(t.side, o.side) for o, _ in out):
            pool.append(t.mesh)
        else:
            out.append((t, points))
    return out
