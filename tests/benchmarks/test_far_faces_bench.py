"""benchmarks/far_faces.py: the landmarks of a clip at its own size land on the face of its wide shot."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.grid

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"{name}_bench", BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_full_size_landmarks_map_onto_the_wide_shot(grid_dir):
    from lipread.face.backends import create_backend
    from lipread.io.video import read_video

    long_video, far_faces = _load("long_video"), _load("far_faces")
    rec = long_video.val_records(grid_dir)[0]
    frames = read_video(rec.video).frames[40:42]  # frames with a face (some clips open on grey frames)
    size, scale = (1280, 720), 0.8  # large enough for FaceMesh to read the wide frame directly
    wide = long_video.place(frames, size, scale)
    meta = {"id": rec.id, "size": list(size), "scale": scale}
    mapped = far_faces.full_size_landmarks(meta, grid_dir)[40:42]
    backend = create_backend("mediapipe")
    try:
        direct = backend.detect(wide)
    finally:
        backend.close()
    for m, d in zip(mapped, direct):
        assert len(m) == 1 and len(d) == 1
        err = np.linalg.norm(m[0] - d[0], axis=1)
        width = np.ptp(d[0][:, 0])
        assert np.median(err) < 0.03 * width, f"mapped points are {np.median(err):.1f} px from the face's"
        assert np.median(err) < np.median(np.linalg.norm(m[0] + [40, 0] - d[0], axis=1))  # a shift would show
