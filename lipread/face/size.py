"""Face size in pixels, and the smallest face the lips can be read from.

Legend: N landmarks of :mod:`lipread.face.geometry`, ``(N, 2)`` pixel x, y; T frames.

The face width is that of the OpenCV Haar face box the mean face is measured in (a frontal face from
ear to ear, about 140 px in a 360x288 GRID frame): the spread of the 5 stable points (nose tip and
eye corners) over their spread in the mean face, so it is the same for every backend and any roll.
"""

from __future__ import annotations

import os

import numpy as np

from lipread.errors import FaceTooSmallError
from lipread.face.geometry import face_geometry

MIN_FACE_WIDTH = 30
"""Smallest median face width (px) read: ``FrontEnd`` refuses a video whose face is narrower.

Set by ``benchmarks/face_size.py`` (issue 25; rows in ``benchmarks/results/face_size.json``): the 20
validation clips of GRID s1 (``read_grid``, split "val"), each scaled so the face is W px wide and centred
in a 1280x720 grey frame (H.264 crf 18), read by ``wlas-grid-s1`` with lips only (``modality="video"``):

    face width (px)   orig  140   70    50    40   30    24    20    16    12
    lips-only WER %   10.8  11.7  11.7  12.5  9.2  10.0  11.7  10.0  55.8  95.8

    in 1920x1080:       140 12.5,  40 9.2,  30 10.8,  24 24.2

(120 words, so one word is 0.8 points; the model that ships, rerun in session 13.) 30 px is the smallest
width that reads, like every larger one, within 2 points of the full-size face (140 px) in both frames;
24 px reads as well in 1280x720 but 11.7 points worse in 1920x1080, and 16 px fails (no face found in 8 of
20 clips at 16 px, 19 of 20 at 12 px)."""


def face_width(points: np.ndarray) -> float:
    """Face width in pixels of one face's ``(N, 2)`` landmarks (see the module docstring)."""
    geo = face_geometry()
    p = np.asarray(points, dtype=np.float64)[geo.stable]
    m = geo.mean[geo.stable].astype(np.float64)
    return float(np.sqrt(((p - p.mean(0)) ** 2).sum() / ((m - m.mean(0)) ** 2).sum()))


def needed_width(min_width: float | None = None) -> float:
    """The smallest face width read: ``min_width``, or :data:`MIN_FACE_WIDTH` when None (0: no minimum)."""
    return MIN_FACE_WIDTH if min_width is None else min_width


def median_face_width(landmarks: np.ndarray, valid: np.ndarray | None = None) -> float:
    """Median face width (px) over the frames of ``landmarks`` (T, N, 2) where ``valid`` (T,) is True."""
    lm = np.asarray(landmarks)
    if valid is not None:
        lm = lm[np.asarray(valid, dtype=bool)]
    if not len(lm):
        return 0.0
    return float(np.median([face_width(p) for p in lm]))


def check_face_size(landmarks: np.ndarray, valid: np.ndarray, path: str | os.PathLike,
                    min_width: float | None = None) -> float:
    """The median face width (px); raises :class:`~lipread.errors.FaceTooSmallError` below ``min_width``
    (default :data:`MIN_FACE_WIDTH`; 0 turns the check off)."""
    need = needed_width(min_width)
    width = median_face_width(landmarks, valid)
    if need and width < need:
        raise FaceTooSmallError(
            f"the face is too small to read lips: {width:.0f} px wide, at least {need:.0f} px needed", path,
            f"Move closer to the camera, or crop the video around the speaker, so the face is at least "
            f"{need:.0f} px wide.")
    return width
