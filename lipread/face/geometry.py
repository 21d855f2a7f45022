"""The landmark set, the mean face and the crop presets, all read from ``mean_face.json``.

Every backend reports the same ``N`` named points (legend: N landmarks, ``(N, 2)`` pixel x, y):
5 stable points (nose tip, the four eye corners) used for alignment, then 20 outer and 20 inner
lip points. ``mean_face.json`` holds their mediapipe FaceMesh indices and their mean positions in
*face-box units* (the OpenCV Haar face box of the same frame is the unit square), measured on the
GRID clips by :mod:`lipread.face.mean_face`. Box units let the OpenCV fallback place the points
from a face box, and the similarity warp aligns the stable points to this mean face.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

MEAN_FACE_PATH = Path(__file__).with_name("mean_face.json")


@dataclass(frozen=True)
class FaceGeometry:
    """Named landmark indices and the mean face.

    ``mediapipe_indices`` (N,) FaceMesh indices of the points; ``mean`` (N, 2) float32 mean positions
    in face-box units; ``stable``/``lips``/``outer_lips`` indices into the N points.
    """

    names: tuple[str, ...]
    mediapipe_indices: np.ndarray
    mean: np.ndarray
    stable: np.ndarray
    lips: np.ndarray
    outer_lips: np.ndarray
    source: str

    @property
    def n_points(self) -> int:
        return len(self.names)

    @property
    def mouth_width(self) -> float:
        """Distance between the mouth corners in the mean face (box units)."""
        left, right = self.mean[self.names.index("mouth_left")], self.mean[self.names.index("mouth_right")]
        return float(np.linalg.norm(left - right))


@lru_cache(maxsize=1)
def face_geometry() -> FaceGeometry:
    """Load ``mean_face.json`` once."""
    data = json.loads(MEAN_FACE_PATH.read_text())
    names = tuple(p["name"] for p in data["points"])
    groups = {g: np.array([i for i, p in enumerate(data["points"]) if g in p["groups"]]) for g in
              ("stable", "lips", "outer_lips")}
    return FaceGeometry(
        names=names,
        mediapipe_indices=np.array([p["mediapipe"] for p in data["points"]], dtype=np.int64),
        mean=np.array([p["mean"] for p in data["points"]], dtype=np.float32),
        stable=groups["stable"],
        lips=groups["lips"],
        outer_lips=groups["outer_lips"],
        source=data["source"],
    )


@dataclass(frozen=True)
class CropPreset:
    """Output size and scale of a mouth crop.

    ``size`` (width, height) in pixels; ``mouth_width`` the mean face's mouth-corner distance in
    output pixels (sets the scale); ``center_y`` where the lip centre sits (fraction of the height).
    """

    name: str
    size: tuple[int, int]
    mouth_width: float
    center_y: float = 0.5


PRESETS = {
    # LipNet (Assael et al. 2016): 100x50 RGB mouth crops; the mouth spans about half the width.
    "lipnet": CropPreset("lipnet", (100, 50), mouth_width=50.0, center_y=0.5),
    # auto_avsr / AV-HuBERT style: 96x96 around the mouth (models crop to 88x88 at train time).
    "aligned96": CropPreset("aligned96", (96, 96), mouth_width=44.0, center_y=0.45),
    # aligned96 at half the scale: the same view in 48x48 (crop 44x44), for tiny CPU models and tests.
    "aligned48": CropPreset("aligned48", (48, 48), mouth_width=22.0, center_y=0.45),
}
