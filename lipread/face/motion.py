"""How much a mouth moves, from its landmarks: the speech-activity signal of a video without sound.

Legend: T frames, N landmarks of :mod:`lipread.face.geometry`, ``(T, N, 2)`` pixel coordinates.
Openings are divided by the mouth's width, so the signal does not depend on the face's size in the frame.
"""

from __future__ import annotations

import numpy as np

from lipread.face.geometry import face_geometry


def mouth_openings(landmarks: np.ndarray) -> np.ndarray:
    """(T, N, 2) -> (T, 2): the inner and outer lip openings (upper to lower lip), in mouth widths."""
    names = face_geometry().names
    i = {n: names.index(n) for n in ("upper_lip_inner", "lower_lip_inner", "upper_lip_top", "lower_lip_bottom",
                                     "mouth_left", "mouth_right")}
    width = np.linalg.norm(landmarks[:, i["mouth_left"]] - landmarks[:, i["mouth_right"]], axis=-1)
    width = np.maximum(width, 1e-6)
    inner = np.linalg.norm(landmarks[:, i["upper_lip_inner"]] - landmarks[:, i["lower_lip_inner"]], axis=-1)
    outer = np.linalg.norm(landmarks[:, i["upper_lip_top"]] - landmarks[:, i["lower_lip_bottom"]], axis=-1)
    return np.stack([inner / width, outer / width], axis=1)


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
