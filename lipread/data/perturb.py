"""Out-of-domain versions of a clip, to check that a model says when it should not be trusted.

Each function reads a video, changes it in one way a lipreading model never saw in training, and
writes a new (video-only, lossless) file:

- ``reverse``: the frames in reverse order (lips move, but no language is spoken);
- ``still``: one frame held for the clip's length (no speech: the mouth does not move);
- ``cover_mouth``: the mouth region painted over in every frame (a hand or a microphone);
- ``squeeze``: the frame narrowed horizontally (a face turned away foreshortens like this).

Legend: T frames, H/W pixels, frames (T, H, W, 3) RGB uint8.
"""

from __future__ import annotations

import os

import cv2
import numpy as np

from lipread.io.video import read_video
from lipread.io.writer import write_video


def reverse(src: str | os.PathLike, dst: str | os.PathLike) -> str:
    clip = read_video(src)
    return write_video(dst, clip.frames[::-1], clip.fps)


def still(src: str | os.PathLike, dst: str | os.PathLike, index: int = 0) -> str:
    clip = read_video(src)
    return write_video(dst, np.repeat(clip.frames[index : index + 1], len(clip.frames), axis=0), clip.fps)


def squeeze(src: str | os.PathLike, dst: str | os.PathLike, factor: float = 0.5) -> str:
    """Scale each frame's width by ``factor`` about its centre (the sides filled with the edge colour)."""
    clip = read_video(src)
    h, w = clip.frames.shape[1:3]
    m = np.float32([[factor, 0, (1 - factor) * w / 2], [0, 1, 0]])
    out = np.stack([cv2.warpAffine(f, m, (w, h), borderMode=cv2.BORDER_REPLICATE) for f in clip.frames])
    return write_video(dst, out, clip.fps)


def cover_mouth(src: str | os.PathLike, dst: str | os.PathLike, margin: float = 0.25,
                colour: tuple[int, int, int] = (200, 170, 150)) -> str:
    """Paint a box over the mouth in every frame: the mouth crop of the ``lipnet`` preset, mapped back
    to the source frame and grown by ``margin`` of its size on each side."""
    from lipread.frontend import FrontEnd, FrontEndConfig

    frontend = FrontEnd(FrontEndConfig(preset="lipnet"))
    try:
        result = frontend.process(os.fspath(src))
    finally:
        frontend.close()
    clip = read_video(src)
    ch, cw = result.mouth.shape[1:3]
    corners = np.float32([[0, 0], [cw, 0], [0, ch], [cw, ch]])
    out = clip.frames.copy()
    for t in range(min(len(out), len(result.transforms))):
        inverse = cv2.invertAffineTransform(result.transforms[t])
        pts = corners @ inverse[:, :2].T + inverse[:, 2]
        (x0, y0), (x1, y1) = pts.min(0), pts.max(0)
        dx, dy = (x1 - x0) * margin, (y1 - y0) * margin
        cv2.rectangle(out[t], (int(x0 - dx), int(y0 - dy)), (int(x1 + dx), int(y1 + dy)), colour, thickness=-1)
    return write_video(dst, out, clip.fps)


PERTURBATIONS = {"reverse": reverse, "still": still, "cover_mouth": cover_mouth, "squeeze": squeeze}

__all__ = ["PERTURBATIONS", "cover_mouth", "reverse", "squeeze", "still"]
