"""Kept mouth regions: the crops cut from them match the crops cut from whole frames, and a large
video transcribes in bounded memory with the same text."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lipread.face.align import crop_transforms, warp_crops
from lipread.face.geometry import PRESETS, face_geometry
from lipread.face.roi import RegionStore, chunk_region, crop_footprint

REPO = Path(__file__).resolve().parents[2]


def face_at(cx: float, cy: float, size: float) -> np.ndarray:
    return face_geometry().mean * size + np.array([cx - size / 2, cy - size / 2], np.float32)


def textured(h: int, w: int, seed: int = 0) -> np.ndarray:
    """A smooth random image (cv2-blurred noise) so that resampling differences stay small."""
    import cv2

    noise = (np.random.default_rng(seed).random((h, w, 3)) * 255).astype(np.uint8)
    return cv2.GaussianBlur(noise, (0, 0), max(1.0, w / 400))


def test_footprint_contains_the_crop():
    geo, preset = face_geometry(), PRESETS["lipnet"]
    m = crop_transforms(np.repeat(face_at(200, 150, 160)[None], 3, 0), geo, preset)
    box = crop_footprint(m, preset.size)[0]
    w, h = preset.size
    inv = np.linalg.inv(m[0, :, :2])
    for c in ([0, 0], [w, h], [w / 2, h / 2]):
        p = inv @ (np.array(c) - m[0, :, 2])
        assert box[0] <= p[0] <= box[2] and box[1] <= p[1] <= box[3]


@pytest.mark.parametrize("size,side", [(160, 480), (900, 2400)])
def test_crops_from_kept_regions_match_whole_frame_crops(size, side):
    """A face small in its frame is kept at full resolution (crops equal); a large one is kept
    downscaled to 2 source pixels per crop pixel (crops close)."""
    geo, preset = face_geometry(), PRESETS["lipnet"]
    frames = np.stack([textured(side * 3 // 4, side, seed=i) for i in range(4)])
    h, w = frames.shape[1:3]
    picks = [face_at(w / 2 + 3 * i, h / 2, size) for i in range(4)]
    region = chunk_region(picks, (w, h), geo, preset)
    assert region is not None
    (x0, y0, x1, y1), scale = region
    assert (scale == 1.0) == (size == 160)
    store = RegionStore((w, h))
    store.add(frames, region)
    assert store.nbytes < frames.nbytes / 4
    m = crop_transforms(np.stack(picks), geo, preset)
    local, ok = store.warp_transforms(m, preset.size)
    assert ok.all()
    full = warp_crops(frames, m, preset.size)
    kept = np.stack([warp_crops(store.images[i][None], local[i : i + 1], preset.size)[0] for i in range(4)])
    diff = np.abs(full.astype(int) - kept.astype(int))
    if scale == 1.0:
        assert diff.max() <= 1
    else:
        assert diff.mean() < 3


def test_a_crop_outside_its_region_is_reported():
    geo, preset = face_geometry(), PRESETS["lipnet"]
    frames = np.zeros((2, 480, 640, 3), np.uint8)
    store = RegionStore((640, 480))
    store.add(frames[:1], chunk_region([face_at(200, 200, 150)], (640, 480), geo, preset))
    store.add(frames[1:], None)
    m = crop_transforms(np.stack([face_at(450, 250, 150), face_at(200, 200, 150)]), geo, preset)
    _, ok = store.warp_transforms(m, preset.size)
    assert list(ok) == [False, False]  # moved out of its region; no region kept


def test_mediapipe_imports_without_matplotlib():
    code = ("import sys; from lipread.face.backends import import_mediapipe; mp = import_mediapipe(); "
            "assert mp.solutions.face_mesh; assert 'matplotlib' not in sys.modules, 'matplotlib imported'; "
            "import matplotlib.pyplot as plt; assert callable(plt.figure)")
    r = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]


@pytest.mark.grid
def test_grid_crops_from_regions_equal_crops_from_whole_frames(grid_clips):
    """On 360x288 GRID video the regions are kept at full resolution: the crops are the old ones
    (up to float rounding in the composed warp) and every crop comes from its region."""
    from lipread.frontend import FrontEnd, FrontEndConfig

    for clip in grid_clips[:2]:
        front, exact = FrontEnd(FrontEndConfig()), FrontEnd(FrontEndConfig(keep_frames_mb=0))
        a, b = front.process(clip), exact.process(clip)
        front.close()
        exact.close()
        diff = np.abs(a.mouth.astype(int) - b.mouth.astype(int))
        assert diff.max() <= 1 and diff.mean() < 1e-3, clip
