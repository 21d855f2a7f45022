"""Draw landmarks and the crop box on source frames, so a person can check what was cropped."""

from __future__ import annotations

import numpy as np


def crop_box(transform: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """(4, 2) source-pixel corners of the crop of ``size`` (w, h) under a (2, 3) source->crop transform."""
    w, h = size
    a, b = transform[:, :2].astype(np.float64), transform[:, 2].astype(np.float64)
    corners = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float64)
    return (np.linalg.inv(a) @ (corners - b).T).T


def draw_overlay(frames: np.ndarray, landmarks: np.ndarray, valid: np.ndarray, transforms: np.ndarray,
                 size: tuple[int, int]) -> np.ndarray:
    """Copy of ``frames`` (T, H, W, 3) with landmarks (green when found, orange when filled in) and the crop box."""
    import cv2

    out = frames.copy()
    for img, pts, ok, m in zip(out, landmarks, valid, transforms):
        colour = (0, 220, 0) if ok else (255, 140, 0)
        for x, y in pts:
            cv2.circle(img, (int(round(x)), int(round(y))), 1, colour, -1, lineType=cv2.LINE_AA)
        box = crop_box(m, size).round().astype(np.int32)
        cv2.polylines(img, [box], True, (255, 40, 40), 1, lineType=cv2.LINE_AA)
    return out
