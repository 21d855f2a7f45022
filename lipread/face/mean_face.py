"""Measure the mean face in ``mean_face.json`` from real clips (run once; the result is committed).

For sampled frames where mediapipe finds landmarks and OpenCV's Haar cascade finds exactly one face
box, the landmarks are expressed in box units ((x - box_x) / box_w, (y - box_y) / box_h) and averaged.
The point names, mediapipe indices and groups are read from the JSON itself; only ``mean`` and
``source`` are rewritten::

    python -m lipread.face.mean_face /path/to/grid/s1 --clips 60
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from lipread.face.geometry import MEAN_FACE_PATH


def measure(clips: list[Path], every: int = 5) -> tuple[np.ndarray, int]:
    """Mean (N, 2) landmark positions in Haar-box units over ``clips`` (every ``every``-th frame)."""
    from lipread.face.backends import MediaPipeBackend, OpenCVBackend
    from lipread.io.video import read_video

    mp_backend, cv_backend = MediaPipeBackend(max_faces=1), OpenCVBackend()
    samples = []
    for clip in clips:
        frames = read_video(clip).frames
        mp_backend.reset()
        faces = mp_backend.detect(frames)
        for i in range(0, len(frames), every):
            boxes = cv_backend.boxes(frames[i])
            if len(faces[i]) != 1 or len(boxes) != 1:
                continue
            x, y, w, h = boxes[0]
            samples.append((faces[i][0] - np.array([x, y])) / np.array([w, h]))
    mp_backend.close()
    if not samples:
        raise RuntimeError("no frame had both a mediapipe face and a single Haar face box")
    return np.mean(samples, axis=0), len(samples)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("clip_dir", type=Path)
    parser.add_argument("--clips", type=int, default=60)
    args = parser.parse_args(argv)
    clips = sorted(args.clip_dir.glob("*.mp4"))[:: max(1, len(list(args.clip_dir.glob("*.mp4"))) // args.clips)]
    mean, n = measure(clips[: args.clips])
    data = json.loads(MEAN_FACE_PATH.read_text())
    for point, xy in zip(data["points"], mean):
        point["mean"] = [round(float(v), 5) for v in xy]
    data["source"] = (f"mediapipe 0.10.21 FaceMesh landmarks in OpenCV Haar face-box units, averaged over {n} "
                      f"frames of {len(clips[: args.clips])} GRID speaker-1 clips (python -m lipread.face.mean_face)")
    points = ",\n".join("  " + json.dumps(p) for p in data.pop("points"))
    head = json.dumps(data, indent=1)[:-2]  # one point per line keeps the file readable
    MEAN_FACE_PATH.write_text(f'{head},\n "points": [\n{points}\n ]\n}}\n')
    print(f"wrote {MEAN_FACE_PATH} from {n} frames")


if __name__ == "__main__":
    main()
