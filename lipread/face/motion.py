"""How much a mouth moves, from its landmarks: the speech-activity signal of a video without sound.

Legend: T frames, N landmarks of :mod:`lipread.face.geometry`, ``(T, N, 2)`` pixel coordinates.
Openings are divided by the mouth's width, so the signal does not depend on the face's size in the frame.
"""

from __future__ import annotations

import numpy as np

from lipread.face.geometry import FaceGeometry, face_geometry

INNER_PAIRS = (("upper_lip_inner", "lower_lip_inner"), ("inner_lip_82", "inner_lip_87"),
               ("inner_lip_312", "inner_lip_317"), ("inner_lip_81", "inner_lip_178"),
               ("inner_lip_311", "inner_lip_402"))
"""Upper/lower inner-lip points facing each other (the mean face's inner lip, centre outwards)."""


def mouth_opening(landmarks: np.ndarray, geometry: FaceGeometry | None = None) -> np.ndarray:
    """(T,) inner-lip gap (the mean of the :data:`INNER_PAIRS` distances) over mouth width of ``landmarks``
    (T, N, 2)."""
    idx = (geometry or face_geometry()).names.index
    pts = np.asarray(landmarks, dtype=np.float64)
    up = pts[:, [idx(a) for a, _ in INNER_PAIRS]]
    lo = pts[:, [idx(b) for _, b in INNER_PAIRS]]
    gap = np.linalg.norm(up - lo, axis=2).mean(axis=1)
    return gap / _mouth_width(pts, idx)


def _mouth_width(pts: np.ndarray, idx) -> np.ndarray:
    return np.maximum(np.linalg.norm(pts[:, idx("mouth_left")] - pts[:, idx("mouth_right")], axis=1), 1e-6)


def mouth_openings(landmarks: np.ndarray) -> np.ndarray:
    """(T, N, 2) -> (T, 2): the inner (:func:`mouth_opening`) and outer lip openings (upper to lower lip),
    in mouth widths."""
    idx = face_geometry().names.index
    pts = np.asarray(landmarks, dtype=np.float64)
    outer = np.linalg.norm(pts[:, idx("upper_lip_top")] - pts[:, idx("lower_lip_bottom")], axis=-1)
    return np.stack([mouth_opening(pts), outer / _mouth_width(pts, idx)], axis=1)


def mouth_activity(landmarks: np.ndarray, valid: np.ndarray | None = None, smooth: int = 7) -> np.ndarray:
    """(T, N, 2) -> (T,): how fast the lips open and close, averaged over ``smooth`` frames (mouth widths
    per frame). Frames without a face (``valid`` False) count as still."""
    openings = mouth_openings(np.asarray(landmarks, dtype=np.float64))
    if len(openings) < 2:
        return np.zeros(len(openings))
    speed = np.abs(np.gradient(openings, axis=0)).sum(axis=1)
    if valid is not None:
        speed = np.where(np.asarray(valid, dtype=bool), speed, 0.0)
    kernel = np.ones(max(1, smooth)) / max(1, smooth)
    return np.convolve(speed, kernel, mode="same")
