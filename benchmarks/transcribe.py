"""End-to-end transcription time per 3-second GRID clip, split by stage, plus model load time.

    python benchmarks/transcribe.py --clips 20 --out benchmarks/results/transcribe.json

Stages: ``decode`` (decoding the video alone, measured in a separate pass over the same clip:
in the pipeline it runs in a background thread, overlapped with landmarks), ``landmarks``
(the face-landmark model), ``crop`` (alignment warps), ``model`` (the lipreading network),
``decoder`` (CTC decoding). ``total`` is the wall time of ``Transcriber.transcribe`` per clip,
after the first clip (which also pays the landmark model's start-up, reported as ``first_clip``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from _machine import machine_info

GRID = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "grid" / "s1"


def timed_method(obj, name: str, bucket: dict, key: str) -> None:
    """Wrap ``obj.name`` so each call adds its wall time to ``bucket[key]``."""
    fn = getattr(obj, name)

    def wrapper(*args, **kwargs):
        t0 = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            bucket[key] = bucket.get(key, 0.0) + time.perf_counter() - t0

    setattr(obj, name, wrapper)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="lipnet-grid-s1")
    ap.add_argument("--clips", type=int, default=20)
    ap.add_argument("--grid", default=str(GRID))
    ap.add_argument("--decoder", default=None, help="greedy | beam (default: the model's)")
    ap.add_argument("--out", default="benchmarks/results/transcribe.json")
    a = ap.parse_args()

    t0 = time.perf_counter()
    from lipread.pipelines.transcribe import Transcriber, load_model

    import_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    loaded = load_model(a.model)
    tr = Transcriber(loaded, loaded.decode_options(decoder=a.decoder))
    load_s = time.perf_counter() - t0
    from lipread.io.video import read_video

    clips = sorted(Path(a.grid).glob("*.mp4"))[: a.clips + 1]
    stages: dict[str, float] = {}
    timed_method(tr.frontend, "_crops", stages, "crop")
    first_s, totals, per_clip = None, [], []
    for i, clip in enumerate(clips):
        detect_before = dict(stages)
        before = {k: tr.times.seconds.get(k, 0.0) for k in ("model", "decoder")}
        t0 = time.perf_counter()
        text = tr.transcribe(clip).text
        total = time.perf_counter() - t0
        if i == 0:  # the backend exists now: time its detect calls from here on
            timed_method(tr.frontend.backend, "detect", stages, "landmarks")
            first_s = total
            continue
        t1 = time.perf_counter()
        read_video(clip)
        decode = time.perf_counter() - t1
        row = {"clip": clip.name, "text": text, "total": total, "decode": decode,
               "landmarks": stages.get("landmarks", 0.0) - detect_before.get("landmarks", 0.0),
               "crop": stages.get("crop", 0.0) - detect_before.get("crop", 0.0)}
        for k in ("model", "decoder"):
            row[k] = tr.times.seconds.get(k, 0.0) - before[k]
        per_clip.append(row)
        totals.append(total)
    tr.close()
    keys = ("decode", "landmarks", "crop", "model", "decoder", "total")
    mean = {k: statistics.mean(r[k] for r in per_clip) for k in keys}
    result = {
        "benchmark": "transcribe", "machine": machine_info(), "model": a.model,
        "decoder": tr.options.decoder, "clips": len(per_clip), "clip_seconds": 3.0,
        "import_seconds": import_s, "model_load_seconds": load_s, "first_clip_seconds": first_s,
        "mean_seconds_per_clip": mean, "median_total_seconds": statistics.median(totals),
        "per_clip": per_clip,
    }
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(result, indent=2))
    print(json.dumps({k: v for k, v in result.items() if k not in ("per_clip", "machine")}, indent=2))


if __name__ == "__main__":
    main()
