"""Front-end speed: end-to-end frames/s (decode + landmarks + crop) and peak memory on GRID clips.

Writes JSON with the decode-only rate beside it (the upper limit) and the machine it ran on::

    nice python benchmarks/crop.py --clips 40 --out benchmarks/results/crop.json
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time
from pathlib import Path

from _machine import machine_info

REPO = Path(__file__).resolve().parents[1]
GRID = Path(os.environ.get("LIPREAD_GRID_DIR", REPO.parent / "shared" / "data" / "grid"))


def decode_rate(clips: list[Path]) -> float:
    from lipread.io.video import iter_video_chunks

    t, n = time.perf_counter(), 0
    for clip in clips:
        for chunk in iter_video_chunks(clip, 32):
            n += len(chunk.frames)
    return n / (time.perf_counter() - t)


def frontend_rate(clips: list[Path], preset: str) -> tuple[float, float]:
    from lipread.frontend import FrontEnd, FrontEndConfig

    front = FrontEnd(FrontEndConfig(preset=preset))
    front.process(clips[0])  # warm up: model load, first-call costs
    t, n, valid = time.perf_counter(), 0, 0.0
    for clip in clips:
        r = front.process(clip)
        n += len(r.valid)
        valid += r.valid.sum()
    rate = n / (time.perf_counter() - t)
    front.close()
    return rate, valid / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clips", type=int, default=40)
    parser.add_argument("--presets", default="lipnet,aligned96")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "crop.json")
    args = parser.parse_args()
    all_clips = sorted((GRID / "s1").glob("*.mp4"))
    if not all_clips:
        raise SystemExit(f"no GRID clips at {GRID}/s1 (set LIPREAD_GRID_DIR)")
    clips = all_clips[:: max(1, len(all_clips) // args.clips)][: args.clips]
    decode_rate(clips[:2])  # warm the page cache
    result = {"clips": len(clips), "frames": 75 * len(clips), "source": "GRID s1 mp4, 360x288, 75 frames each",
              "decode_fps": round(decode_rate(clips), 1), "presets": {}}
    for preset in args.presets.split(","):
        rate, found = frontend_rate(clips, preset)
        result["presets"][preset] = {"end_to_end_fps": round(rate, 1), "face_found": round(float(found), 4)}
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    result["load_average_1min"] = round(os.getloadavg()[0], 2)
    result["machine"] = machine_info(("torch", "numpy", "mediapipe", "av", "opencv-contrib-python"))
    result["command"] = "nice python benchmarks/crop.py " + " ".join(
        f"--{k.replace('_', '-')} {v}" for k, v in vars(args).items() if k != "out")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
