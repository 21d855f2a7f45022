"""Landmark smoothing, similarity alignment, gap filling, speaker tracking and the backends."""

from __future__ import annotations

import numpy as np
import pytest

from lipread.errors import DependencyError
from lipread.face import backends
from lipread.face.align import apply, crop_transforms, similarity, smooth, warp_crops
from lipread.face.geometry import PRESETS, face_geometry
from lipread.face.track import interpolate_missing, missing_ranges


def test_smooth_is_centred_no_lag():
    ramp = np.arange(30, dtype=np.float32)[:, None, None] * np.ones((1, 3, 2), np.float32)
    out = smooth(ramp, radius=6)
    assert np.allclose(out[6:-6], ramp[6:-6])  # a centred mean of a line is the line: no lag
    noisy = ramp + np.random.default_rng(0).normal(0, 1, ramp.shape).astype(np.float32)
    assert np.abs(smooth(noisy, 6) - ramp)[6:-6].std() < 0.5 * np.abs(noisy - ramp).std()


def test_similarity_recovers_known_transform():
    rng = np.random.default_rng(1)
    dst = rng.random((5, 2)) * 100
    angle, scale, shift = 0.3, 1.7, np.array([12.0, -4.0])
    rot = scale * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    src = (np.linalg.inv(rot) @ (dst - shift).T).T  # src maps onto dst under (rot, shift)
    m = similarity(np.stack([src, src + 1]), dst)
    assert np.allclose(m[0, :, :2], rot, atol=1e-9) and np.allclose(m[0, :, 2], shift, atol=1e-9)
    assert np.allclose(apply(m[:1], src[None])[0], dst, atol=1e-9)


def test_interpolate_missing_and_ranges():
    lm = np.arange(10, dtype=np.float32)[:, None, None] * np.ones((1, 2, 2), np.float32)
    valid = np.array([0, 1, 1, 0, 0, 1, 1, 1, 1, 0], bool)
    filled = interpolate_missing(np.where(valid[:, None, None], lm, -99), valid)
    assert np.allclose(filled[1:9], lm[1:9])  # linear inside
    assert np.allclose(filled[0], lm[1]) and np.allclose(filled[9], lm[8])  # copied at the ends
    assert missing_ranges(valid, 25.0) == [(0.0, 0.04), (0.12, 0.2), (0.36, 0.4)]


def face_at(cx: float, cy: float, size: float) -> np.ndarray:
    return face_geometry().mean * size + np.array([cx - size / 2, cy - size / 2], np.float32)


def test_crop_transform_puts_mean_face_mouth_at_centre():
    geo, preset = face_geometry(), PRESETS["lipnet"]
    lm = np.repeat(face_at(200, 150, 160)[None], 10, axis=0)
    m = crop_transforms(lm, geo, preset)
    lips = apply(m.astype(np.float64), lm[:, geo.outer_lips].astype(np.float64))
    assert np.allclose(lips.mean(axis=1), [50, 25], atol=1e-3)
    corners = apply(m.astype(np.float64), lm[:, [geo.names.index("mouth_left"), geo.names.index("mouth_right")]])
    assert np.linalg.norm(corners[0, 0] - corners[0, 1]) == pytest.approx(preset.mouth_width, rel=1e-4)
    crops = warp_crops(np.zeros((10, 300, 400, 3), np.uint8), m, preset.size, gray=True)
    assert crops.shape == (10, 50, 100, 1)


def test_registry_lists_backends_and_falls_back(monkeypatch):
    assert backends.LANDMARK_BACKENDS.list() == ["mediapipe", "opencv"]

    def missing(**_):
        raise DependencyError("mediapipe is not importable")

    monkeypatch.setitem(backends.LANDMARK_BACKENDS._items, "mediapipe", missing)
    assert isinstance(backends.create_backend("mediapipe"), backends.OpenCVBackend)


@pytest.mark.grid
def test_backends_agree_on_the_mouth_in_a_grid_frame(grid_clips):
    from lipread.io.video import read_video

    frames = read_video(grid_clips[0], end=0.2).frames
    geo = face_geometry()
    mp_faces = backends.MediaPipeBackend().detect(frames)
    cv_faces = backends.OpenCVBackend().detect(frames)
    assert all(len(f) == 1 for f in mp_faces) and all(len(f) == 1 for f in cv_faces)
    mp_mouth = mp_faces[0][0][geo.lips].mean(axis=0)
    cv_mouth = cv_faces[0][0][geo.lips].mean(axis=0)
    width = np.ptp(mp_faces[0][0][:, 0])
    assert np.linalg.norm(mp_mouth - cv_mouth) < 0.25 * width  # geometry puts the mouth near the real one
