"""Lips-only WER against face width: GRID clips scaled down into a wide frame (issue 25).

    python benchmarks/face_size.py --clips 20 --out ~/lipread-face/face_size

Each validation clip of GRID s1 (``read_grid(...)``, ``split == "val"``) is written again, every frame
scaled so the face is ``W`` px wide (:func:`lipread.face.size.face_width`) and centred in a 1280x720
grey frame (H.264, crf 18), and transcribed by ``wlas-grid-s1`` with lips only; the original clip is the
"orig" row. One JSON line per clip and width goes to ``OUT/results.jsonl``; the table is printed at the end.
The check of the smallest face is off here (``min_face_width=0``): this measurement is what sets it.
"""

from __future__ import annotations

import argparse
import json
import time
from fractions import Fraction
from pathlib import Path

import numpy as np

WIDTHS = (140, 70, 50, 40, 30, 24, 20, 16, 12)


def place(frame: np.ndarray, scale: float, size: tuple[int, int], centre_x: float = 0.5) -> np.ndarray:
    """``frame`` (H, W, 3) scaled by ``scale`` and centred at ``centre_x`` of a grey ``size`` (w, h) frame."""
    import cv2

    w, h = size
    img = cv2.resize(frame, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    out = np.full((h, w, 3), 128, np.uint8)
    y, x = (h - img.shape[0]) // 2, int(round(w * centre_x - img.shape[1] / 2))
    out[y : y + img.shape[0], x : x + img.shape[1]] = img
    return out


def write_video(out: Path, frames, size: tuple[int, int], crf: int = 18) -> Path:
    """Write RGB ``frames`` (an iterable of (h, w, 3) uint8) as a 25-fps H.264 mp4 (video only)."""
    import av

    with av.open(str(out), "w") as container:
        v = container.add_stream("libx264", rate=Fraction(25), options={"crf": str(crf), "preset": "ultrafast"})
        v.width, v.height, v.pix_fmt = size[0], size[1], "yuv420p"
        for img in frames:
            for packet in v.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                container.mux(packet)
        for packet in v.encode():
            container.mux(packet)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--grid", default="/work/shared/data/grid")
    ap.add_argument("--clips", type=int, default=20)
    ap.add_argument("--out", type=Path, default=Path.home() / "lipread-face" / "face_size")
    ap.add_argument("--size", default="1280x720")
    ap.add_argument("--model", default="wlas-grid-s1")
    ap.add_argument("--widths", default=",".join(map(str, ("orig", *WIDTHS))),
                    help="comma list of face widths (px), 'orig' for the clip as it is")
    args = ap.parse_args()
    from lipread.data.corpora.grid import read_grid
    from lipread.face.backends import MediaPipeBackend
    from lipread.face.size import face_width
    from lipread.io.video import read_video
    from lipread.metrics import wer
    from lipread.pipelines.transcribe import Transcriber

    size = tuple(int(v) for v in args.size.split("x"))
    args.out.mkdir(parents=True, exist_ok=True)
    entries = [e for e in read_grid(args.grid) if e.split == "val"][: args.clips]
    tr = Transcriber(args.model, modality="video")
    tr.frontend.config.min_face_width = 0
    probe = MediaPipeBackend(max_faces=1)
    rows: dict[str, list[tuple[str, str]]] = {}
    with open(args.out / "results.jsonl", "a") as log:
        for e in entries:
            frames = read_video(e.record.video).frames
            probe.reset()
            full = np.median([face_width(f[0]) for f in probe.detect(frames) if f])
            for w in [v if v == "orig" else int(v) for v in args.widths.split(",")]:
                path = Path(e.record.video)
                if w != "orig":
                    path = write_video(args.out / f"{Path(path).stem}_{args.size}_{w}.mp4",
                                       (place(f, w / full, size) for f in frames), size)
                t = time.time()
                try:
                    hyp = tr.transcribe(path).text
                except Exception as exc:  # noqa: BLE001 - a miss is a result here
                    hyp = f"<{type(exc).__name__}>"
                row = {"clip": e.record.id, "frame": args.size, "width": w, "full_width": round(float(full), 1), "ref": e.record.text,
                       "hyp": hyp, "wer": wer([e.record.text], [hyp if not hyp.startswith("<") else ""]),
                       "seconds": round(time.time() - t, 2)}
                log.write(json.dumps(row) + "\n")
                log.flush()
                rows.setdefault(str(w), []).append((e.record.text, hyp if not hyp.startswith("<") else ""))
    print(f"{'width':>6} {'clips':>5} {'WER %':>6}")
    for w, pairs in rows.items():
        print(f"{w:>6} {len(pairs):>5} {100 * wer([r for r, _ in pairs], [h for _, h in pairs]):6.2f}")
    tr.close()


if __name__ == "__main__":
    main()
