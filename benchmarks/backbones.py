"""Backbone speed: training (forward + backward) and inference clips/s of the lipreading visual
front end (Conv3d 5x7x7 + ResNet-18 trunk, ``video_resnet18``) on (8, 1, 29, 88, 88) clips.

Writes JSON with the machine it ran on and how many iterations were timed::

    nice python benchmarks/backbones.py --iters 3 --out benchmarks/results/backbones.json
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

from _machine import machine_info


def timed(fn, warmup: int, iters: int) -> list[float]:
    """Seconds per call of ``fn`` over ``iters`` calls after ``warmup`` untimed ones."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(iters):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return times


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="video_resnet18")
    p.add_argument("--shape", default="8,1,29,88,88", help="B,C,T,H,W")
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--iters", type=int, default=3)
    p.add_argument("--threads", type=int, default=0, help="torch threads (0 = torch's default)")
    p.add_argument("--out", type=Path, default=None)
    args = p.parse_args(argv)

    import torch

    from lipread.models import create_model

    if args.threads:
        torch.set_num_threads(args.threads)
    shape = tuple(int(s) for s in args.shape.split(","))
    torch.manual_seed(0)
    model = create_model(args.model, in_chans=shape[1])
    x = torch.rand(shape)

    def train_step():
        model.zero_grad(set_to_none=True)
        model.train()(x).pow(2).mean().backward()

    def infer_step():
        with torch.inference_mode():
            model.eval()(x)

    train = timed(train_step, args.warmup, args.iters)
    infer = timed(infer_step, args.warmup, args.iters)
    b = shape[0]
    result = {
        "model": args.model,
        "description": "3D front end (Conv3d 5x7x7 /(1,2,2) + BN + ReLU + MaxPool3d) + ResNet-18 trunk -> (B, T, 512)",
        "input_shape": list(shape),
        "params": sum(p.numel() for p in model.parameters()),
        "warmup_iters": args.warmup,
        "timed_iters": args.iters,
        "train_seconds_per_batch": [round(t, 3) for t in train],
        "train_clips_per_s": round(b * len(train) / sum(train), 3),
        "train_frames_per_s": round(b * shape[2] * len(train) / sum(train), 1),
        "inference_seconds_per_batch": [round(t, 3) for t in infer],
        "inference_clips_per_s": round(b * len(infer) / sum(infer), 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "load_average_1min": round(os.getloadavg()[0], 2),
        "machine": {**machine_info(("torch",)), "threads": torch.get_num_threads()},
        "command": "nice python benchmarks/backbones.py "
        + " ".join(argv if argv is not None else sys.argv[1:]),
    }
    text = json.dumps(result, indent=2)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")
    print(text)
    return result


if __name__ == "__main__":
    main()
