"""Print a run's learning curve (from its metrics.jsonl) as a markdown table for RESULTS.md.

    python pipelines/grid/curve.py runs/grid-lipnet-small [--every 500]

For an audio-visual (WLAS) run, val WER is the mean of the three modalities' greedy WER, and each
modality gets its own column.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run", help="a run folder with metrics.jsonl")
    ap.add_argument("--every", type=int, default=500, help="show validation rows every N steps (and the last)")
    a = ap.parse_args()
    rows = [json.loads(x) for x in (Path(a.run) / "metrics.jsonl").read_text().splitlines() if x.strip()]
    train = {r["step"]: r for r in rows if "loss" in r}
    vals = [r for r in rows if "val_wer" in r]
    modalities = [m for m in ("av", "video", "audio") if any(f"val_wer_{m}" in v for v in vals)]
    extra = "".join(f" val WER {m} |" for m in modalities)
    print("| step | epoch | train loss | val loss | val WER (greedy) | val CER (greedy) |" + extra)
    print("|---:|---:|---:|---:|---:|---:|" + "---:|" * len(modalities))
    for v in vals:
        if v["step"] % a.every and v is not vals[-1]:
            continue
        near = min(train, key=lambda s: abs(s - v["step"])) if train else None
        t = train.get(near, {})
        cells = "".join(f" {100 * v[f'val_wer_{m}']:.2f}% |" if f"val_wer_{m}" in v else " - |" for m in modalities)
        print(f"| {v['step']} | {t.get('epoch', '')} | {t.get('loss', float('nan')):.3f} | {v['val_loss']:.3f} "
              f"| {100 * v['val_wer']:.2f}% | {100 * v['val_cer']:.2f}% |" + cells)

if __name__ == "__main__":
    main()
