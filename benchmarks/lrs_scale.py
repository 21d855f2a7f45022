"""The LRS3 recipe's model on paper and measured: size, MACs per second of video, peak training
memory vs batch frames, training throughput, and the epoch time it implies.

Model: the one ``pipelines/lrs3/lrs3_resnet18_bigru.yaml`` trains (``lipnet_resnet``: 3D front end +
ResNet-18 trunk + BiGRU, CTC over the ``english`` vocabulary, 38 outputs) on 88x88 gray crops.

- MACs: ``torch.utils.flop_counter`` on one second (25 frames) of video, forward only (convolutions and
  matrix products; FLOPs / 2), plus the GRU's 3 gates x (input + hidden) x hidden per frame, direction
  and layer, counted by formula (the counter does not see inside ``aten::gru``).
- Peak memory: each point runs in a fresh process: the model and optimizer are built, then one
  forward + backward + AdamW step on a batch of ``B`` clips of 75 frames (B * 75 = batch frames) in
  fp32; the number is the growth of the peak resident set size (``ru_maxrss``) over the value before
  that step, i.e. activations + gradients + optimizer state + allocator slack. On a GPU with bf16
  autocast the activations take about half of this (not measured here: no GPU in this session).
- Throughput: training steps (forward + backward + AdamW) on batches of 4 x 75 frames with
  ``--threads`` threads, frames/s after one warm-up step.

    nice python benchmarks/lrs_scale.py --out benchmarks/results/lrs_scale.json
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import torch
from _machine import machine_info

RECIPE = Path(__file__).resolve().parents[1] / "pipelines" / "lrs3" / "lrs3_resnet18_bigru.yaml"
MODEL = __import__("yaml").safe_load(RECIPE.read_text())["model"]  # the recipe's model, as it trains it
SIDE = 88
LRS3_TRAIN_HOURS = {"pretrain": 407.0, "trainval": 30.0}  # LRS3-TED v0.4 (Afouras et al. 2018): 118,516 + 31,982 clips


def build():
    from lipread.models import create_model

    return create_model(MODEL["name"], **MODEL.get("args", {}))


def gru_macs_per_frame(model) -> int:
    total = 0
    for gru in [m for m in model.modules() if isinstance(m, torch.nn.GRU)]:
        dirs = 2 if gru.bidirectional else 1
        for layer in range(gru.num_layers):
            inp = gru.input_size if layer == 0 else gru.hidden_size * dirs
            total += dirs * 3 * (inp + gru.hidden_size) * gru.hidden_size
    return total


def size() -> dict:
    from torch.utils.flop_counter import FlopCounterMode

    model = build().eval()
    x = torch.rand(1, 1, 25, SIDE, SIDE)
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        model(x, torch.tensor([25]))
    conv_macs = counter.get_total_flops() // 2
    gru = gru_macs_per_frame(model) * 25
    params = sum(p.numel() for p in model.parameters())
    return {"parameters": params, "parameters_M": round(params / 1e6, 2),
            "gmacs_per_second_of_video": round((conv_macs + gru) / 1e9, 2),
            "gmacs_counter": round(conv_macs / 1e9, 2), "gmacs_gru_formula": round(gru / 1e9, 3),
            "input": f"(B, 1, T, {SIDE}, {SIDE}) gray, 25 fps"}


def memory_point(batch: int, frames: int) -> dict:
    """Run in a fresh process (``--point``): peak RSS growth of one training step."""
    torch.set_num_threads(1)
    model = build().train()
    opt = torch.optim.AdamW(model.parameters())
    from lipread.models.ctc import ctc_loss

    x = torch.rand(batch, 1, frames, SIDE, SIDE)
    targets = torch.randint(1, 38, (batch, 30))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    lp, n = model(x, torch.full((batch,), frames))
    ctc_loss(lp, n, targets, torch.full((batch,), 30)).backward()
    opt.step()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"batch": batch, "clip_frames": frames, "batch_frames": batch * frames,
            "input_mb": round(x.numel() * 4 / 2**20, 1), "peak_growth_mb": round((peak - before) / 1024, 1)}


def throughput(threads: int, batch: int, frames: int, steps: int) -> dict:
    from lipread.models.ctc import ctc_loss

    torch.set_num_threads(threads)
    model = build().train()
    opt = torch.optim.AdamW(model.parameters())
    x = torch.rand(batch, 1, frames, SIDE, SIDE)
    targets = torch.randint(1, 38, (batch, 30))
    times = []
    for _ in range(steps + 1):
        t = time.perf_counter()
        lp, n = model(x, torch.full((batch,), frames))
        ctc_loss(lp, n, targets, torch.full((batch,), 30)).backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        times.append(time.perf_counter() - t)
    step = sum(times[1:]) / steps
    return {"threads": threads, "batch": batch, "clip_frames": frames, "steps": steps, "seconds_per_step": round(step, 3),
            "frames_per_s": round(batch * frames / step, 1), "clips_per_s": round(batch / step, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batches", default="1,2,4,8,16", help="clips of 75 frames per memory point")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "lrs_scale.json")
    parser.add_argument("--point", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.point is not None:
        print(json.dumps(memory_point(args.point, 75)))
        return
    result = {"machine": machine_info(), "model": MODEL, "size": size()}
    print(json.dumps(result["size"]))
    points = []
    for b in (int(v) for v in args.batches.split(",")):
        out = subprocess.run([sys.executable, __file__, "--point", str(b)], capture_output=True, text=True, check=True)
        points.append(json.loads(out.stdout.strip().splitlines()[-1]))
        print(json.dumps(points[-1]))
    result["memory"] = points
    result["memory_method"] = ("fresh process per point; growth of ru_maxrss over one fp32 forward+backward+AdamW "
                               "step on CPU (activations, gradients, optimizer state, allocator slack)")
    tp = throughput(args.threads, 4, 75, args.steps)
    result["throughput"] = tp
    frames = sum(LRS3_TRAIN_HOURS.values()) * 3600 * 25
    result["lrs3_epoch"] = {"train_hours": LRS3_TRAIN_HOURS, "frames": int(frames),
                            "hours_on_this_cpu": round(frames / tp["frames_per_s"] / 3600, 1)}
    result["machine"]["load_average_1m_end"] = __import__("os").getloadavg()[0]
    print(json.dumps({k: result[k] for k in ("throughput", "lrs3_epoch")}))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
