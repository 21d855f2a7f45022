"""Benchmark `lipread prepare` (clips/s) on the shared GRID clips, and loader samples/s from the cache.

    .venv/bin/python benchmarks/prepare.py [--clips 100] [--workers 2] [--out benchmarks/results/prepare.json]

Prepare runs the real CLI (preset lipnet, RGB, --audio) on the first ``--clips`` clips (by id) of
speaker 1 into a temporary cache; the clip count, the model loading of each worker included, so
the rate is what a user sees. The loader part reads that cache through PreparedDataset + the
frame-budget sampler + collate, without and with the training augmentation.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _machine import machine_info

FULL_RUN_COMMAND = ("nice -n 5 lipread prepare grid ../shared/data/grid /work/cache/grid_lipnet --preset lipnet "
                    "--audio --workers 2 --val-fraction 0.1 --split-seed 0")
REPO = Path(__file__).resolve().parents[1]
GRID = Path(os.environ.get("LIPREAD_GRID_DIR", REPO.parent / "shared" / "data" / "grid"))


def bench_prepare(clips: int, workers: int, out: Path) -> dict:
    cmd = [sys.executable, "-m", "lipread", "-q", "prepare", "grid", str(GRID), str(out), "--preset", "lipnet",
           "--audio", "--workers", str(workers), "--limit", str(clips), "--val-fraction", "0.1"]
    t0 = time.perf_counter()
    res = subprocess.run(cmd, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if res.returncode != 0:
        raise SystemExit(f"prepare failed ({res.returncode}):\n{res.stderr[-3000:]}")
    summary = json.loads((out / "summary.json").read_text())
    return {"command": " ".join(["lipread", *cmd[3:]]), "clips": summary["done"], "failed": summary["failures"],
            "wall_seconds": round(seconds, 2), "clips_per_second": round(summary["done"] / seconds, 3),
            "cache_mb": round(sum(p.stat().st_size for p in out.rglob("*") if p.is_file()) / 2**20, 1)}


def bench_loader(cache: Path, train: bool, samples: int) -> dict:
    from lipread.data import FrameBudgetBatchSampler, PreparedDataset, collate

    ds = PreparedDataset(cache, None, train=train)
    sampler = FrameBudgetBatchSampler(ds.lengths, max_batch_size=8, seed=0)
    n, t0, epoch = 0, time.perf_counter(), 0
    while n < samples:
        ds.set_epoch(epoch)
        sampler.set_epoch(epoch)
        for indices in sampler:
            batch = collate([ds[i] for i in indices])
            n += len(batch)
            if n >= samples:
                break
        epoch += 1
    seconds = time.perf_counter() - t0
    return {"train_augment": train, "samples": n, "batch_size": 8, "seconds": round(seconds, 3),
            "samples_per_second": round(n / seconds, 1), "num_workers": 0}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clips", type=int, default=100)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--samples", type=int, default=800, help="samples read per loader measurement")
    ap.add_argument("--full-run-seconds", type=float, default=None,
                    help="wall time of a separate full 900-clip run (FULL_RUN_COMMAND), to record alongside")
    ap.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "prepare.json"))
    args = ap.parse_args()
    if not (GRID / "s1").is_dir():
        raise SystemExit(f"GRID clips not found at {GRID} (set LIPREAD_GRID_DIR)")
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp) / "cache"
        prep = bench_prepare(args.clips, args.workers, cache)
        print(json.dumps(prep), file=sys.stderr)
        loader = [bench_loader(cache, False, args.samples), bench_loader(cache, True, args.samples)]
    result = {"benchmark": "prepare", "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "machine": machine_info(),
              "data": f"shared GRID speaker 1, first {args.clips} of 900 clips by id (75 frames, 360x288, 25 fps)",
              "prepare": prep, "loader": loader}
    if args.full_run_seconds:
        result["full_run"] = {"command": FULL_RUN_COMMAND, "clips": 900, "wall_seconds": args.full_run_seconds,
                              "clips_per_second": round(900 / args.full_run_seconds, 3)}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
