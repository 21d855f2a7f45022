"""Smooth landmarks, align them to the mean face and cut mouth crops (auto_avsr's method, vectorized).

Legend: T frames, N landmarks, H/W crop height/width. Transforms are ``(T, 2, 3)`` float32 affine
matrices mapping source-frame pixels to crop pixels (``cv2.warpAffine`` convention).
"""

from __future__ import annotations

import numpy as np

from lipread.face.geometry import CropPreset, FaceGeometry


def smooth(landmarks: np.ndarray, radius: int = 6) -> np.ndarray:
    """Centred moving average over ``±radius`` frames (no lag); the window shrinks at the ends.

    ``landmarks`` (T, ...) float -> same shape float32.
    """
    T = len(landmarks)
    if T == 0 or radius <= 0:
        return landmarks.astype(np.float32)
    flat = landmarks.reshape(T, -1).astype(np.float64)
    csum = np.concatenate([np.zeros((1, flat.shape[1])), np.cumsum(flat, axis=0)])
    idx = np.arange(T)
    lo, hi = np.maximum(idx - radius, 0), np.minimum(idx + radius + 1, T)
    out = (csum[hi] - csum[lo]) / (hi - lo)[:, None]
    return out.reshape(landmarks.shape).astype(np.float32)


def similarity(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares similarity (rotation, uniform scale, shift) mapping ``src`` onto ``dst``, per frame.

    ``src`` (T, K, 2), ``dst`` (K, 2) -> (T, 2, 3) float64 matrices (Umeyama's closed form in complex numbers).
    """
    zs = src[..., 0] + 1j * src[..., 1]  # (T, K)
    zd = dst[:, 0] + 1j * dst[:, 1]  # (K,)
    ms, md = zs.mean(axis=1, keepdims=True), zd.mean()
    cs, cd = zs - ms, zd - md
    a = (np.conj(cs) * cd).sum(axis=1) / np.maximum((np.abs(cs) ** 2).sum(axis=1), 1e-12)  # (T,)
    b = md - a * ms[:, 0]
    out = np.empty((len(a), 2, 3))
    out[:, 0, 0], out[:, 0, 1], out[:, 0, 2] = a.real, -a.imag, b.real
    out[:, 1, 0], out[:, 1, 1], out[:, 1, 2] = a.imag, a.real, b.imag
    return out


def apply(transforms: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Apply (T, 2, 3) affine matrices to (T, N, 2) points -> (T, N, 2)."""
    return np.einsum("tij,tnj->tni", transforms[:, :, :2], points) + transforms[:, None, :, 2]


def crop_transforms(landmarks: np.ndarray, geometry: FaceGeometry, preset: CropPreset,
                    radius: int = 6) -> np.ndarray:
    """Source-to-crop affine matrices (T, 2, 3) float32 from filled-in landmarks (T, N, 2).

    The stable points are smoothed over ``±radius`` frames and similarity-aligned to the mean face
    scaled so its mouth is ``preset.mouth_width`` pixels wide; the crop is centred on the smoothed
    outer-lip centre in that aligned frame, placed at ``(W/2, preset.center_y * H)``.
    """
    scale = preset.mouth_width / geometry.mouth_width
    ref = geometry.mean * scale
    smoothed = smooth(landmarks, radius)
    to_ref = similarity(smoothed[:, geometry.stable], ref[geometry.stable])  # (T, 2, 3)
    mouth = apply(to_ref, smoothed[:, geometry.outer_lips]).mean(axis=1)  # (T, 2) in reference pixels
    mouth = smooth(mouth, radius)
    w, h = preset.size
    shift = np.array([w / 2, preset.center_y * h]) - mouth  # (T, 2)
    out = to_ref.copy()
    out[:, :, 2] += shift
    return out.astype(np.float32)


def warp_crops(frames: np.ndarray, transforms: np.ndarray, size: tuple[int, int], gray: bool = False,
               out: np.ndarray | None = None, interpolation: int | None = None) -> np.ndarray:
    """Cut crops: ``frames`` (T, H, W, 3) uint8 RGB, ``transforms`` (T, 2, 3) -> (T, h, w, C) uint8, C = 1 if gray.
    ``interpolation``: an OpenCV flag (default bilinear, what corpora are prepared with)."""
    import cv2

    w, h = size
    c = 1 if gray else 3
    flags = cv2.INTER_LINEAR if interpolation is None else interpolation
    if out is None:
        out = np.empty((len(frames), h, w, c), dtype=np.uint8)
    for i, (frame, m) in enumerate(zip(frames, transforms)):
        crop = cv2.warpAffine(frame, m, (w, h), flags=flags, borderMode=cv2.BORDER_REPLICATE)
        if gray:
            out[i, :, :, 0] = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY)
        else:
            out[i] = crop
    return out
