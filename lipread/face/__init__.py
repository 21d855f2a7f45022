"""Face landmarks (mediapipe / opencv backends in a registry), speaker tracking, mouth alignment and crops."""

from lipread.face.backends import LANDMARK_BACKENDS, create_backend
from lipread.face.geometry import PRESETS, face_geometry

__all__ = ["LANDMARK_BACKENDS", "PRESETS", "create_backend", "face_geometry"]
