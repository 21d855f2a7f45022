"""Keep only the part of each frame that its mouth crop can need, so memory does not follow frame size.

The crops are cut after all landmarks of a window are known (they are smoothed over ±6 frames), so
the decoded frames have to wait. A 4K frame is 25 MB; the mouth crop needs a few hundred pixels of
it. After the landmarks of a chunk are found, :func:`chunk_region` takes the region of the frame
that the chunk's crops cover (from the unsmoothed landmarks, padded for the smoothing to move it)
and the scale at which that region still has ``detail`` source pixels per crop pixel; the
:class:`RegionStore` keeps that region of each frame, downscaled (``INTER_AREA``) when the source is
finer than that. At crop time a frame whose crop footprint falls outside its kept region is
reported, and the caller decodes the video again for the crops (the old, exact path).

Legend: T frames, N landmarks; boxes are ``(x0, y0, x1, y1)`` integer source pixels, end-exclusive.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from lipread.face.align import crop_transforms
from lipread.face.geometry import CropPreset, FaceGeometry


def crop_footprint(transforms: np.ndarray, size: tuple[int, int], margin: float = 1.0) -> np.ndarray:
    """Source-pixel bounding boxes ``(T, 4)`` of the crops of ``transforms`` (T, 2, 3) source->crop,
    grown by ``margin`` source pixels for bilinear sampling."""
    w, h = size
    corners = np.array([[0, 0], [w, 0], [0, h], [w, h]], dtype=np.float64)  # (4, 2)
    a = transforms[:, :, :2].astype(np.float64)
    b = transforms[:, :, 2].astype(np.float64)
    inv = np.linalg.inv(a)  # (T, 2, 2)
    pts = np.einsum("tij,tkj->tki", inv, corners[None] - b[:, None, :])  # (T, 4, 2) source pixels
    lo, hi = pts.min(axis=1) - margin, pts.max(axis=1) + margin
    return np.concatenate([lo, hi], axis=1)


def chunk_region(picks: list[np.ndarray | None], frame_size: tuple[int, int], geometry: FaceGeometry,
                 preset: CropPreset, pad: float = 0.25, detail: float = 2.0) -> tuple[tuple[int, int, int, int], float] | None:
    """The source box and scale to keep for a chunk whose chosen faces are ``picks`` ((N, 2) or None).

    The box holds every unsmoothed crop footprint of the chunk, grown on each side by ``pad`` times
    the footprint's larger side; the scale keeps ``detail`` source pixels per crop pixel (never above
    1). None when the chunk has no face.
    """
    found = [p for p in picks if p is not None]
    if not found:
        return None
    m = crop_transforms(np.stack(found).astype(np.float32), geometry, preset, radius=0)
    boxes = crop_footprint(m, preset.size)
    lo, hi = boxes[:, :2].min(axis=0), boxes[:, 2:].max(axis=0)
    grow = pad * float((hi - lo).max())
    w, h = frame_size
    x0, y0 = (int(max(0, np.floor(v - grow))) for v in lo)
    x1, y1 = int(min(w, np.ceil(hi[0] + grow))), int(min(h, np.ceil(hi[1] + grow)))
    if x1 - x0 < 2 or y1 - y0 < 2:
        return None
    crop_per_source = float(np.median(np.sqrt(np.abs(np.linalg.det(m[:, :, :2].astype(np.float64))))))
    scale = min(1.0, detail * crop_per_source)
    return (x0, y0, x1, y1), scale


@dataclass
class RegionStore:
    """Per frame, the kept region (``(h, w, 3)`` uint8, maybe downscaled) and its placement.

    ``add(frames, region)`` stores a chunk; ``warp_transforms(transforms)`` rewrites source->crop
    matrices to region->crop ones and says which frames' crops are fully inside their regions.
    """

    frame_size: tuple[int, int]
    images: list[np.ndarray | None] = field(default_factory=list)
    boxes: list[tuple[int, int, int, int] | None] = field(default_factory=list)
    nbytes: int = 0

    def add(self, frames: np.ndarray, region: tuple[tuple[int, int, int, int], float] | None) -> None:
        import cv2

        if region is None:
            self.images += [None] * len(frames)
            self.boxes += [None] * len(frames)
            return
        (x0, y0, x1, y1), scale = region
        size = (max(2, round((x1 - x0) * scale)), max(2, round((y1 - y0) * scale)))
        for frame in frames:
            part = frame[y0:y1, x0:x1]
            img = np.ascontiguousarray(part) if scale >= 1.0 else cv2.resize(part, size, interpolation=cv2.INTER_AREA)
            self.images.append(img)
            self.boxes.append((x0, y0, x1, y1))
            self.nbytes += img.nbytes

    def __len__(self) -> int:
        return len(self.images)

    def warp_transforms(self, transforms: np.ndarray, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
        """``(T, 2, 3)`` region->crop matrices and ``(T,)`` bool: the crop lies inside the kept region
        (a side of the region on the frame's edge counts as inside: the warp replicates it there)."""
        n = min(len(transforms), len(self.images))
        ok = np.zeros(len(transforms), dtype=bool)
        out = transforms.astype(np.float64).copy()
        feet = crop_footprint(transforms[:n], size)
        fw, fh = self.frame_size
        for i in range(n):
            box, img = self.boxes[i], self.images[i]
            if box is None:
                continue
            x0, y0, x1, y1 = box
            fx0, fy0, fx1, fy1 = feet[i]
            if not ((fx0 >= x0 or x0 == 0) and (fy0 >= y0 or y0 == 0) and (fx1 <= x1 or x1 == fw)
                    and (fy1 <= y1 or y1 == fh)):
                continue
            # region pixel q (cv2.resize's centres): source p = (q + 0.5) / s - 0.5 + origin, per axis
            sx, sy = img.shape[1] / (x1 - x0), img.shape[0] / (y1 - y0)
            a = out[i, :, :2].copy()
            shift = np.array([0.5 / sx - 0.5 + x0, 0.5 / sy - 0.5 + y0])
            out[i, :, 2] += a @ shift
            out[i, :, 0] /= sx
            out[i, :, 1] /= sy
            ok[i] = True
        return out.astype(np.float32), ok
