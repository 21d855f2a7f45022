"""Training throughput (samples/s) on this machine for the GRID recipe's model and the paper LipNet.

Synthetic batches of the recipe's shape (8 clips, 75 frames, RGB 50x100, 30-character targets):
the data loader is measured separately by benchmarks/prepare.py. Each configuration runs
``--warmup`` untimed and ``--iters`` timed optimizer steps (forward, CTC loss, backward, AdamW),
in fp32 and under CPU bf16 autocast (``--precision``), all in one run so the ratios are comparable.
The result records whether the CPU has bf16 instructions (``cpu_flags``): without them bf16 is emulated.

    python benchmarks/train.py --out benchmarks/results/train.json
    python benchmarks/train.py --models lipnet_small --threads 2 --layout contiguous channels_last \
        --out benchmarks/results/train.json      # the speed levers of the GRID recipe (issue 16), in one run
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import torch
from _machine import machine_info

from lipread.models import create_model
from lipread.models.ctc import ctc_loss

CONFIGS = [
    ("lipnet_small", {"gray": False, "rnn_size": 256}, "the GRID recipes' model (pipelines/grid/lipnet_small.yaml)"),
    ("lipnet_small", {"gray": True, "rnn_size": 256}, "the same on grayscale crops (1 input channel)"),
    ("lipnet", {}, "the paper's LipNet"),
]


def cpu_flags() -> list[str]:
    """The CPU's vector and bf16 instruction-set flags (Linux /proc/cpuinfo; empty elsewhere)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                return sorted(f for f in line.split(":", 1)[1].split() if f.startswith(("avx", "amx")) or "bf16" in f)
    except OSError:
        pass
    return []


def step_times(name: str, args: dict, batch: int, frames: int, warmup: int, iters: int,
               precision: str = "fp32", layout: str = "contiguous") -> list[float]:
    torch.manual_seed(0)
    model = create_model(name, **args).train()
    fmt = torch.channels_last_3d if layout == "channels_last" else torch.contiguous_format
    model = model.to(memory_format=fmt)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    c = model.config.in_chans
    h, w = model.config.input_size
    x = torch.rand(batch, c, frames, h, w).contiguous(memory_format=fmt)
    lengths = torch.full((batch,), frames, dtype=torch.int64)
    targets = torch.randint(1, 28, (batch, 30))
    target_lengths = torch.full((batch,), 30, dtype=torch.int64)
    times = []
    for i in range(warmup + iters):
        t0 = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16"):
            log_probs, out_lengths = model(x, lengths)
        ctc_loss(log_probs, out_lengths, targets, target_lengths).backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        if i >= warmup:
            times.append(time.perf_counter() - t0)
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--frames", type=int, default=75)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--iters", type=int, default=5)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--precision", nargs="+", choices=["fp32", "bf16"], default=["fp32", "bf16"])
    ap.add_argument("--layout", nargs="+", choices=["contiguous", "channels_last"], default=["contiguous"],
                    help="memory layout of the 3D convolutions' inputs and weights (channels_last_3d)")
    ap.add_argument("--models", nargs="+", default=[c[0] for c in CONFIGS], help="which of the models")
    ap.add_argument("--gray", choices=["both", "rgb", "gray"], default="both",
                    help="RGB and/or grayscale configurations of the models that have both")
    ap.add_argument("--out", default="benchmarks/results/train.json")
    a = ap.parse_args()
    rows = []
    wanted = {"both": (True, False), "rgb": (False,), "gray": (True,)}[a.gray]
    configs = [c for c in CONFIGS if c[0] in a.models and ("gray" not in c[1] or c[1]["gray"] in wanted)]
    for name, args, what in configs:
        model = create_model(name, **args)
        params = sum(p.numel() for p in model.parameters())
        for threads in a.threads:
            torch.set_num_threads(threads)
            for layout in a.layout:
                for precision in a.precision:
                    times = step_times(name, args, a.batch, a.frames, a.warmup, a.iters, precision, layout)
                    median = statistics.median(times)
                    rows.append({"model": name, "args": args, "what": what, "params": params, "threads": threads,
                                 "precision": precision, "layout": layout, "batch": a.batch, "frames": a.frames,
                                 "step_seconds": times, "median_step_seconds": median,
                                 "samples_per_second": a.batch / median})
                    print(f"{name:13s} {args} threads={threads} {layout} {precision}  {median:.3f} s/step  "
                          f"{a.batch / median:6.1f} samples/s", flush=True)
    result = {"benchmark": "train", "machine": {**machine_info(), "cpu_flags": cpu_flags()}, "warmup": a.warmup,
              "iters": a.iters, "results": rows}
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(result, indent=2))
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
