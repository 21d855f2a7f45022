"""Lips-only WER against face width: GRID clips scaled down into a wide frame (issue 25).

    python benchmarks/face_size.py --clips 20 --work ~/lipread-face/face_size
    python benchmarks/face_size.py --clips 20 --size 1920x1080 --widths 140,40,30,24

Each validation clip of GRID s1 (``read_grid(...)``, ``split == "val"``) is written again, every frame
scaled so the face is ``W`` px wide (:func:`lipread.face.size.face_width`) and centred in a 1280x720
grey frame (H.264, crf 18), and transcribed by ``wlas-grid-s1`` with lips only; the original clip is the
"orig" row. One JSON line per clip and width goes to ``WORK/results.jsonl`` as it is read; at the end the
frame size's WER per width, files without a face and rows replace that frame size's entry in ``--out``
(default ``benchmarks/results/face_size.json``), with the command, model, commit and machine.
The check of the smallest face is off here (``min_face_width=0``): this measurement is what sets it
(:data:`lipread.face.size.MIN_FACE_WIDTH`).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from datetime import datetime, timezone
from fractions import Fraction
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import machine_info  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "results" / "face_size.json"

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
    ap.add_argument("--work", type=Path, default=Path.home() / "lipread-face" / "face_size",
                    help="where the scaled clips and results.jsonl are written")
    ap.add_argument("--out", type=Path, default=OUT, help="the results JSON (this frame size's entry is replaced)")
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
    args.work.mkdir(parents=True, exist_ok=True)
    entries = [e for e in read_grid(args.grid) if e.split == "val"][: args.clips]
    tr = Transcriber(args.model, modality="video")
    tr.frontend.config.min_face_width = 0
    probe = MediaPipeBackend(max_faces=1)
    rows: dict[str, list[tuple[str, str]]] = {}
    table: list[dict] = []
    with open(args.work / "results.jsonl", "a") as log:
        for e in entries:
            frames = read_video(e.record.video).frames
            probe.reset()
            full = np.median([face_width(f[0]) for f in probe.detect(frames) if f])
            for w in [v if v == "orig" else int(v) for v in args.widths.split(",")]:
                path = Path(e.record.video)
                if w != "orig":
                    path = write_video(args.work / f"{Path(path).stem}_{args.size}_{w}.mp4",
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
                table.append({k: row[k] for k in ("clip", "width", "hyp", "wer")})
                rows.setdefault(str(w), []).append((e.record.text, hyp if not hyp.startswith("<") else ""))
    tr.close()
    wer_percent = {w: round(100 * wer([r for r, _ in pairs], [h for _, h in pairs]), 2) for w, pairs in rows.items()}
    print(f"{'width':>6} {'clips':>5} {'WER %':>6}")
    for w, pairs in rows.items():
        print(f"{w:>6} {len(pairs):>5} {wer_percent[w]:6.2f}")
    results = json.loads(args.out.read_text()) if args.out.exists() else {"issue": 25}
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    results.setdefault("frames", {})[args.size] = {
        "command": " ".join(["python benchmarks/face_size.py", *sys.argv[1:]]), "model": args.model,
        "commit": commit, "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": machine_info(), "clips": len(entries), "wer_percent": wer_percent,
        "no_face": {w: sum(r["hyp"] == "<NoFaceError>" for r in table if str(r["width"]) == w) for w in rows},
        "rows": table}
    args.out.write_text(json.dumps(results, indent=1) + "\n")
    print(f"-> {args.out}")


if __name__ == "__main__":
    main()
