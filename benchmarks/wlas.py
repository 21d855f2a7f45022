"""WLAS speed on this machine: training samples/s and decoding utterances/s.

Training: optimizer steps (forward with teacher forcing, attention + CTC + align losses, backward, AdamW)
on batches of the GRID recipe's shape (16 clips, 75 frames, RGB 50x100, 300 x 39 audio features,
21-character targets), with the Watch encoder frozen (as pipelines/grid/wlas.yaml trains it) and
trainable. The data loader (features from the sound, noise) is timed separately, per clip.

Decoding: utterances/s of greedy and beam search (8) in each modality, encoders included. With
``--model`` and ``--cache`` it uses a trained model on real clips (so the hypotheses have their real
lengths); otherwise an untrained model on synthetic input, which runs to the length limit.

    python benchmarks/wlas.py --model models/wlas-grid-s1 --cache CACHE --out benchmarks/results/wlas.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import torch
from _machine import machine_info

from lipread.decoding.attention import beam_search, greedy_search
from lipread.models import create_model
from lipread.text import Tokenizer


def synthetic_batch(b: int, frames: int = 75):
    tok = Tokenizer.from_name("grid")
    g = torch.Generator().manual_seed(0)
    ids = tok.encode("bin blue at f two now")
    return dict(video=torch.rand((b, 3, frames, 50, 100), generator=g), video_lengths=torch.full((b,), frames),
                audio=torch.randn((b, 4 * frames, 39), generator=g), audio_lengths=torch.full((b,), 4 * frames),
                targets=torch.tensor([ids] * b), target_lengths=torch.full((b,), len(ids)),
                frame_labels=torch.randint(0, tok.ctc_size, (b, frames), generator=g))


def train_rate(freeze: bool, batch: int, warmup: int, iters: int) -> dict:
    torch.manual_seed(0)
    model = create_model("wlas", freeze_watch=freeze).train()
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)
    data = synthetic_batch(batch)
    times = []
    for i in range(warmup + iters):
        t0 = time.perf_counter()
        loss = model(**data, align_weight=0.3, progress=0.5)["loss"]
        opt.zero_grad()
        loss.backward()
        opt.step()
        if i >= warmup:
            times.append(time.perf_counter() - t0)
    step = statistics.median(times)
    return {"freeze_watch": freeze, "batch": batch, "median_step_s": round(step, 3),
            "samples_per_s": round(batch / step, 2), "steps_timed": iters}


def loader_rate(cache: str, n: int) -> dict:
    from lipread.data import PreparedDataset

    ds = PreparedDataset(cache, split="train", train=True, audio_features={"deltas": True, "cmvn": True},
                         noise={"prob": 0.5, "babble": 0.6}, augment={"time_masks": 2, "time_mask_frames": 8})
    ds[0]  # librosa's first call compiles
    t0 = time.perf_counter()
    for i in range(n):
        ds[i % len(ds)]
    return {"clips": n, "clips_per_s": round(n / (time.perf_counter() - t0), 1)}


def decode_rates(model, batches, beam: int) -> list[dict]:
    tok = model.tokenizer
    rows = []
    for modality in ("av", "video", "audio"):
        for name in ("greedy", f"beam{beam}"):
            n, t0 = 0, time.perf_counter()
            with torch.no_grad():
                for b in batches:
                    enc, _ = model.encode(b["video"], b["video_lengths"], b["audio"], b["audio_lengths"], modality)
                    if name == "greedy":
                        greedy_search(model, enc, tok.sos_id, tok.eos_id)
                    else:
                        beam_search(model, enc, tok.sos_id, tok.eos_id, beam=beam)
                    n += b["video"].shape[0]
            rows.append({"modality": modality, "decoder": name, "utterances": n,
                         "utterances_per_s": round(n / (time.perf_counter() - t0), 2)})
            print(rows[-1], flush=True)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=None, help="a trained WLAS (zoo name or folder)")
    ap.add_argument("--cache", default=None, help="a cache prepared with --audio (real clips)")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--iters", type=int, default=8)
    ap.add_argument("--clips", type=int, default=48, help="clips decoded per modality and decoder")
    ap.add_argument("--beam", type=int, default=8)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--out", default="benchmarks/results/wlas.json")
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    result = {"machine": machine_info(), "torch_threads": torch.get_num_threads(), "train": [], "decode": {}}
    for freeze in (True, False):
        result["train"].append(train_rate(freeze, a.batch, a.warmup, a.iters))
        print(result["train"][-1], flush=True)
    if a.model and a.cache:
        from lipread.data import PreparedDataset, collate
        from lipread.models.checkpoint import load_model
        from lipread.models.zoo import resolve_model

        model, config = load_model(resolve_model(a.model))
        ds = PreparedDataset(a.cache, split="val", audio_features=config["preprocess"]["audio_features"])
        batches = []
        for start in range(0, min(a.clips, len(ds)), 8):
            b = collate([ds[i] for i in range(start, min(start + 8, a.clips, len(ds)))])
            batches.append(dict(video=b.video, video_lengths=b.video_lengths, audio=b.audio,
                                audio_lengths=b.audio_lengths))
        result["decode"] = {"model": a.model, "input": "real validation clips", "batch": 8,
                            "rows": decode_rates(model.eval(), batches, a.beam)}
        result["loader"] = loader_rate(a.cache, 64)
        print(result["loader"], flush=True)
    else:
        model = create_model("wlas").eval()
        data = synthetic_batch(8)
        data = {k: data[k] for k in ("video", "video_lengths", "audio", "audio_lengths")}
        result["decode"] = {"model": "untrained wlas", "input": "synthetic (decodes run to the length limit)",
                            "batch": 8, "rows": decode_rates(model, [data] * max(1, a.clips // 8), a.beam)}
    result["machine"]["load_average_1m_end"] = __import__("os").getloadavg()[0]
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(result, indent=2) + "\n")
    print(f"-> {a.out}")


if __name__ == "__main__":
    main()
