"""Issue 16's ablation table: each lever's validation WER/CER (greedy and beam), training samples/s and wall time.

Every cell is a `lipread evaluate` run on the cache's validation clips (its command is stored with the
numbers) and every training figure is read from the run folder that made the model (``metrics.jsonl``:
the median of the logged samples/s; ``tb/``: the wall time between the first and last event of each
TensorBoard file, summed, so a resumed run counts only the time it ran).

    python pipelines/grid/ablation.py --cache CACHE --runs ~/runs --out pipelines/grid/results/ablation.json

It also counts each beam result's wrong words per GRID slot (command, colour, preposition, letter, digit,
adverb). Rows whose model or run folder is missing are reported as such, not dropped. ``--only NAME`` reruns some
rows and keeps the others from ``--out``.
"""

from __future__ import annotations

import argparse
import json
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]

LIPNET_BEAM = ["--decoder", "beam", "--beam-size", "20", "--lm", "grid", "--lexicon", "grid", "--lm-weight", "1.0"]
WLAS_BEAM = ["--decoder", "beam", "--beam-size", "8"]

# name, what it is, model (zoo name or path with {runs}), run folder that trained it (or None), greedy flags,
# beam flags (None: the lever is a decoder setting, it has no greedy row of its own)
LEVERS = [
    ("lipnet", "zoo LipNet (`lipnet-grid-s1`: session-2 run + align-head fine-tune), stored decoder: beam 20 + "
     "GRID trigram + lexicon, flip averaging", "lipnet-grid-s1", "grid-lipnet-align",
     ["--decoder", "greedy", "--no-flip-average"], []),
    ("lipnet-grammar", "the same, the exact GRID grammar instead of the trigram (`--grammar grid`)", "lipnet-grid-s1",
     None, None, ["--grammar", "grid"]),
    ("lipnet-distill", "LipNet taught by the sound (`lipnet_distill.yaml`: WLAS Listen CTC posteriors as per-frame "
     "soft targets, KL at T=2, weight 1), stopped at step 500 of 1500", "{runs}/grid-lipnet-distill/best",
     "grid-lipnet-distill", ["--decoder", "greedy"], LIPNET_BEAM + ["--flip-average"]),
    ("wlas-video", "the first WLAS (run `grid-wlas`, the zoo `wlas-grid-s1` until issue 16) reading the lips only: its "
     "attention speller over the frozen LipNet encoder", "{runs}/grid-wlas/best", "grid-wlas", ["--modality", "video", "--decoder", "greedy"],
     ["--modality", "video", *WLAS_BEAM, "--ctc-weight", "0"]),
    ("wlas-video-grammar", "the same, beam limited to GRID sentences (`--grammar grid`)", "{runs}/grid-wlas/best", None, None,
     ["--modality", "video", *WLAS_BEAM, "--ctc-weight", "0", "--grammar", "grid"]),
    ("wlas-video-ctc0.1", "the same, joint CTC/attention beam with the encoder's CTC head (`--ctc-weight 0.1`)",
     "{runs}/grid-wlas/best", None, None, ["--modality", "video", *WLAS_BEAM, "--ctc-weight", "0.1"]),
    ("wlas-video-ctc0.3", "the same, `--ctc-weight 0.3`", "{runs}/grid-wlas/best", None, None,
     ["--modality", "video", *WLAS_BEAM, "--ctc-weight", "0.3"]),
    ("wlas-video-ctc0.5", "the same, `--ctc-weight 0.5`", "{runs}/grid-wlas/best", None, None,
     ["--modality", "video", *WLAS_BEAM, "--ctc-weight", "0.5"]),
    ("wlas-av", "the first WLAS reading lips + sound (for the stored decoder: not a lip reader)",
     "{runs}/grid-wlas/best", None, ["--modality", "av", "--decoder", "greedy"], ["--modality", "av", *WLAS_BEAM, "--ctc-weight", "0"]),
    ("wlas-av-ctc0.1", "the same, `--ctc-weight 0.1`", "{runs}/grid-wlas/best", None, None,
     ["--modality", "av", *WLAS_BEAM, "--ctc-weight", "0.1"]),
    ("wlas-audio", "the first WLAS reading the sound alone", "{runs}/grid-wlas/best", None,
     ["--modality", "audio", "--decoder", "greedy"], ["--modality", "audio", *WLAS_BEAM, "--ctc-weight", "0"]),
    ("wlas-audio-ctc0.1", "the same, `--ctc-weight 0.1`", "{runs}/grid-wlas/best", None, None,
     ["--modality", "audio", *WLAS_BEAM, "--ctc-weight", "0.1"]),
    ("wlas-lips-ft", "WLAS trained on from the first WLAS, Watch frozen, half the clips lips only "
     "(`wlas_video.yaml`), stopped at step 500 of 1500", "{runs}/grid-wlas-video/best", "grid-wlas-video",
     ["--modality", "video", "--decoder", "greedy"], ["--modality", "video", *WLAS_BEAM, "--ctc-weight", "0"]),
    ("wlas-lips-ft-ctc0.1", "the same, `--ctc-weight 0.1`", "{runs}/grid-wlas-video/best", None, None,
     ["--modality", "video", *WLAS_BEAM, "--ctc-weight", "0.1"]),
    ("wlas-watch", "then the Watch trained too, with a cutout on half of the clips (`wlas_watch.yaml`, 1000 "
     "steps from the row above)", "{runs}/grid-wlas-watch/best", "grid-wlas-watch",
     ["--modality", "video", "--decoder", "greedy"], ["--modality", "video", *WLAS_BEAM, "--ctc-weight", "0"]),
    ("wlas-watch-ctc0.1", "the same, `--ctc-weight 0.1`", "{runs}/grid-wlas-watch/best", None, None,
     ["--modality", "video", *WLAS_BEAM, "--ctc-weight", "0.1"]),
    ("wlas-watch-av", "the same model reading lips + sound (`--modality av`, `--ctc-weight 0.1`)",
     "{runs}/grid-wlas-watch/best", None, ["--modality", "av", "--decoder", "greedy"],
     ["--modality", "av", *WLAS_BEAM, "--ctc-weight", "0.1"]),
    ("wlas-watch-audio", "the same model reading the sound (`--modality audio`, `--ctc-weight 0.1`)",
     "{runs}/grid-wlas-watch/best", None, ["--modality", "audio", "--decoder", "greedy"],
     ["--modality", "audio", *WLAS_BEAM, "--ctc-weight", "0.1"]),
    ("wlas-watch-flip", "the same (lips only, `--ctc-weight 0.1`), test-time flip averaging (`--flip-average`: the "
     "mean of the lip encoder's states on the clip and its mirror image)", "{runs}/grid-wlas-watch/best", None, None,
     ["--modality", "video", *WLAS_BEAM, "--ctc-weight", "0.1", "--flip-average"]),
    ("wlas-watch-avg2", "the same run's last two checkpoints (750, 1000) averaged (`average.py --last 2`), lips "
     "only, `--ctc-weight 0.1`", "{runs}/grid-wlas-watch/avg2", None, ["--modality", "video", "--decoder", "greedy"],
     ["--modality", "video", *WLAS_BEAM, "--ctc-weight", "0.1"]),
    ("wlas-lips", "trained on from `wlas-watch` for the lips (`wlas_lips.yaml`: 3 clips in 4 lips only, LipNet's "
     "word-level instances back at 0.3 falling to 0 by epoch 16, lr 3e-4, 1200 steps), lips only, `--ctc-weight 0.1`",
     "{runs}/grid-wlas-lips/best", "grid-wlas-lips", ["--modality", "video", "--decoder", "greedy"],
     ["--modality", "video", *WLAS_BEAM, "--ctc-weight", "0.1"]),
    ("wlas-lips-flip", "the same, `--flip-average`", "{runs}/grid-wlas-lips/best", None, None,
     ["--modality", "video", *WLAS_BEAM, "--ctc-weight", "0.1", "--flip-average"]),
    ("wlas-grid-s1", "shipped: `wlas-grid-s1`, the `wlas-watch-avg2` weights in fp16 with their stored decoder "
     "(beam 8, `--ctc-weight 0.1`, `--flip-average`), lips only", "wlas-grid-s1", None,
     ["--modality", "video", "--decoder", "greedy"], ["--modality", "video"]),
]


def training_stats(run: Path) -> dict:
    """Samples/s (median of the logged rates), steps and wall time of a run folder."""
    out: dict = {"run": str(run)}
    metrics = run / "metrics.jsonl"
    if not metrics.is_file():
        out["missing"] = True
        return out
    rows = [json.loads(x) for x in metrics.read_text().splitlines() if x.strip()]
    rates = [r["samples_per_s"] for r in rows if r.get("samples_per_s") and r.get("step", 0) > 1]
    out["steps"] = max((r["step"] for r in rows if "loss" in r), default=0)
    out["samples_per_s"] = round(statistics.median(rates), 2) if rates else None
    out["wall_minutes"] = wall_minutes(run / "tb")
    vals = [r for r in rows if "val_wer" in r]
    if vals:
        best = min(vals, key=lambda r: r["val_wer"])
        out["best_step"] = best["step"]
    return out


def wall_minutes(tb: Path) -> float | None:
    """Sum over the TensorBoard event files of (last event time - first event time), in minutes."""
    try:
        from tensorboard.backend.event_processing.event_file_loader import EventFileLoader
    except ImportError:
        return None
    total = 0.0
    files = sorted(tb.glob("events.out.tfevents.*")) if tb.is_dir() else []
    for f in files:
        times = [e.wall_time for e in EventFileLoader(str(f)).Load()]
        if len(times) > 1:
            total += max(times) - min(times)
    return round(total / 60, 1) if files else None


SLOTS = ("command", "colour", "preposition", "letter", "digit", "adverb")


def slot_errors(utterances: Path) -> dict[str, int]:
    """Wrong words per GRID slot, from evaluate's utterances.jsonl; a hypothesis of another length than
    its reference counts once under ``length``."""
    counts = dict.fromkeys((*SLOTS, "length"), 0)
    for line in utterances.read_text().splitlines():
        row = json.loads(line)
        ref, hyp = row["reference"].split(), row["hypothesis"].split()
        if len(ref) != len(hyp) or len(ref) != len(SLOTS):
            counts["length"] += 1
            continue
        for slot, r, h in zip(SLOTS, ref, hyp):
            counts[slot] += r != h
    return counts


def evaluate(model: str, cache: str, flags: list[str], out: Path) -> dict:
    details = out.with_suffix("")
    cmd = [sys.executable, "-m", "lipread", "evaluate", model, cache, "--split", "val", *flags, "--json", str(out),
           "-o", str(details)]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    shown = "lipread evaluate " + " ".join(shlex.quote(c) for c in [model, cache, "--split", "val", *flags])
    if proc.returncode != 0:
        return {"command": shown, "error": proc.stderr.strip().splitlines()[-1:]}
    d = json.loads(out.read_text())
    return {"command": shown, "wer": d["wer"], "cer": d["cer"], "words": d["words"], "seconds": round(seconds, 1),
            "decoder": d.get("decoder"), "slot_errors": slot_errors(details / "utterances.jsonl")}


def pct(cell: dict | None) -> str:
    if not cell:
        return "-"
    if "error" in cell:
        return "failed"
    return f"{100 * cell['wer']:.2f}% / {100 * cell['cer']:.2f}%"


def table(rows: list[dict]) -> str:
    lines = ["| lever | greedy WER / CER | beam WER / CER | training samples/s | training wall time |",
             "|---|---:|---:|---:|---:|"]
    for r in rows:
        if r.get("missing"):
            lines.append(f"| {r['what']} | not measured: {r['missing']} | | | |")
            continue
        t = r.get("training") or {}
        sps = t.get("samples_per_s")
        wall = t.get("wall_minutes")
        lines.append(f"| {r['what']} | {pct(r.get('greedy'))} | {pct(r.get('beam'))} | "
                     f"{sps if sps is not None else '-'} | {f'{wall:.0f} min' if wall else '-'} |")
    return "\n".join(lines)


def slot_table(rows: list[dict]) -> str:
    """Wrong words per slot of each row's beam result (90 clips: 90 words a slot)."""
    lines = ["| lever | " + " | ".join(SLOTS) + " | wrong length |", "|---|" + "---:|" * (len(SLOTS) + 1)]
    for r in rows:
        cell = r.get("beam") or {}
        if "slot_errors" in cell:
            e = cell["slot_errors"]
            lines.append(f"| {r['name']} | " + " | ".join(str(e[k]) for k in (*SLOTS, "length")) + " |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cache", required=True, help="the GRID cache (prepared with --audio: WLAS reads its sound)")
    ap.add_argument("--runs", default=str(Path.home() / "runs"), help="folder holding the run folders")
    ap.add_argument("--out", default=str(HERE / "results" / "ablation.json"))
    ap.add_argument("--only", nargs="*", default=None, help="rerun only these rows (names), keep the rest")
    a = ap.parse_args()
    runs = Path(a.runs).expanduser()
    out = Path(a.out)
    kept = {r["name"]: r for r in json.loads(out.read_text())["rows"]} if a.only and out.is_file() else {}
    scratch = Path(tempfile.mkdtemp(prefix="lipread-ablation-"))  # evaluate's reports; the numbers go to --out
    rows = []
    for name, what, model, run, greedy, beam in LEVERS:
        if a.only is not None and name not in a.only and name in kept:
            rows.append({**kept[name], "what": what})  # the numbers kept, the description as written here
            continue
        model = model.format(runs=runs)
        row: dict = {"name": name, "what": what, "model": model}
        if "/" in model and not Path(model).is_dir():
            row["missing"] = f"{model} does not exist here (its run was not made, or has no best checkpoint yet)"
            rows.append(row)
            print(f"{name}: {row['missing']}", file=sys.stderr)
            continue
        if greedy is not None:
            row["greedy"] = evaluate(model, a.cache, greedy, scratch / f"{name}-greedy.json")
        if beam is not None:
            row["beam"] = evaluate(model, a.cache, beam, scratch / f"{name}-beam.json")
        if run:
            row["training"] = training_stats(runs / run)
        rows.append(row)
        print(f"{name}: greedy {pct(row.get('greedy'))}, beam {pct(row.get('beam'))}", file=sys.stderr)
    sys.path.insert(0, str(REPO / "benchmarks"))
    from _machine import machine_info

    result = {"cache": a.cache, "split": "val", "machine": machine_info(), "rows": rows}
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(table(rows))
    print()
    print(slot_table(rows))


if __name__ == "__main__":
    main()
