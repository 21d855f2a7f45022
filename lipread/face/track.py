"""Follow every face (or one speaker) through a video, and fill the frames where no face was found.

Legend: T frames, N landmarks; landmarks are ``(N, 2)`` pixel coordinates.
"""

from __future__ import annotations

import numpy as np

from lipread.errors import UsageError


def _box(points: np.ndarray) -> tuple[np.ndarray, float]:
    """Centre (2,) and size (sqrt of the bounding-box area) of a landmark set."""
    lo, hi = points.min(axis=0), points.max(axis=0)
    return (lo + hi) / 2, float(np.sqrt(max((hi - lo).prod(), 1e-6)))


class FaceTracks:
    """Follows every face through a video: per frame, each candidate joins the track whose last
    position is nearest (within ``max_jump`` of that track's face size; nearest pairs first, one
    candidate per track), else starts a new track. A track lost for a while is taken up again by a
    face that comes back near where it was. Track ids count up as tracks start; faces found in the
    same frame are numbered left to right, so the faces of the first frame are 0, 1, ... left to right.

    ``update(candidates)`` per frame; then ``points(n_points)`` (K, T, N, 2) and ``found`` (K, T) bool.
    """

    def __init__(self, max_jump: float = 1.0):
        self.max_jump = max_jump
        self._last: list[tuple[np.ndarray, float]] = []
        self._frames: list[dict[int, np.ndarray]] = []

    def update(self, candidates: list[np.ndarray]) -> dict[int, np.ndarray]:
        """This frame's faces by track id."""
        boxes = [_box(c) for c in candidates]
        pairs = sorted((float(np.linalg.norm(b[0] - c)) / s, t, i) for t, (c, s) in enumerate(self._last)
                       for i, b in enumerate(boxes))
        taken: dict[int, np.ndarray] = {}
        used: set[int] = set()
        for d, t, i in pairs:
            if d > self.max_jump or t in taken or i in used:
                continue
            taken[t] = candidates[i]
            used.add(i)
            self._last[t] = boxes[i]
        for i in sorted((i for i in range(len(candidates)) if i not in used), key=lambda i: boxes[i][0][0]):
            taken[len(self._last)] = candidates[i]
            self._last.append(boxes[i])
        self._frames.append(taken)
        return taken

    def __len__(self) -> int:
        return len(self._last)

    @property
    def found(self) -> np.ndarray:
        """(K, T) bool: track k was seen in frame t."""
        out = np.zeros((len(self._last), len(self._frames)), dtype=bool)
        for t, faces in enumerate(self._frames):
            out[list(faces), t] = True
        return out

    def points(self, n_points: int) -> np.ndarray:
        """(K, T, N, 2) float32 landmarks per track (zeros where not seen)."""
        out = np.zeros((len(self._last), len(self._frames), n_points, 2), dtype=np.float32)
        for t, faces in enumerate(self._frames):
            for k, pts in faces.items():
                out[k, t] = pts
        return out


def box_xywh(points: np.ndarray) -> tuple[float, float, float, float]:
    """(x, y, w, h) bounding box of landmark sets (…, N, 2), over all of them."""
    pts = points.reshape(-1, 2)
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    return float(lo[0]), float(lo[1]), float(hi[0] - lo[0]), float(hi[1] - lo[1])


def check_face_option(value) -> str:
    """``auto`` | ``largest`` | a face number ``N`` >= 0 (as a string); anything else is a UsageError."""
    text = str(value).strip().lower()
    if text in ("auto", "largest") or (text.isdigit() and text == str(int(text))):
        return text
    raise UsageError(f"bad face choice {value!r}", fix="Use auto, largest or a face number (0 = leftmost).")


def interpolate_missing(landmarks: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Fill frames where ``valid`` is False: linear between found frames, copied at the ends.

    ``landmarks`` (T, N, 2), ``valid`` (T,) bool with at least one True. Returns a new (T, N, 2) array.
    """
    t = np.arange(len(valid))
    good = np.flatnonzero(valid)
    if len(good) == len(valid):
        return landmarks.copy()
    flat = landmarks.reshape(len(valid), -1)
    out = np.empty_like(flat)
    for j in range(flat.shape[1]):
        out[:, j] = np.interp(t, good, flat[good, j])  # np.interp holds the end values outside
    return out.reshape(landmarks.shape)


def missing_ranges(valid: np.ndarray, fps: float) -> list[tuple[float, float]]:
    """Time ranges ``(start_s, end_s)`` of runs of frames with no face."""
    ranges = []
    padded = np.concatenate([[True], valid, [True]])
    starts = np.flatnonzero(padded[:-1] & ~padded[1:])
    ends = np.flatnonzero(~padded[:-1] & padded[1:])
    for s, e in zip(starts, ends):
        ranges.append((s / fps, e / fps))
    return ranges
