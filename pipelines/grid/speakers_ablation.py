"""Issue 26's ablation: which augmentation of ``wlas_speakers.yaml`` helps on the stand-in speakers?

Each variant is the recipe with one group of augmentations turned off (or all of them, ``none``: the same
fine-tuning with only the augmentations the zoo model already had, to tell training longer from
augmenting), trained from the zoo model for the same number of steps with the same seed, then read on the
90 validation clips as they are and given to the stand-in speakers, in each modality, with the zoo's decoder
(beam 8, CTC weight 0.1, flip averaging):

    python pipelines/grid/speakers_ablation.py --cache CACHE --runs ~/runs --out pipelines/grid/results/speakers_ablation.json

A variant whose row is in ``--out`` is skipped; a run folder with checkpoints is resumed, so the script can
be stopped and started again across sessions (one training at a time: about 80 minutes a variant on
2 cores). Every variant starts from the model the main run started from: ``wlas-grid-s1`` as it was before
issue 26 shipped the main run's weights (commit 1ecf74c), given as ``--init`` (default
``~/runs/wlas-grid-s1-before26``), made with::

    mkdir -p ~/runs/wlas-grid-s1-before26 && for f in config.json model.safetensors vocabulary.json; do
        git show 1ecf74c:models/wlas-grid-s1/$f > ~/runs/wlas-grid-s1-before26/$f; done

``--only all,none`` picks variants; ``--curve`` reads the main run's checkpoints (its learning
curve on both sets); ``--baseline`` the zoo model as it is. Rows carry the ``lipread train`` and ``lipread evaluate``
commands that made them.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

RECIPE = "pipelines/grid/wlas_speakers.yaml"
APPEARANCE = ["affine", "photometric", "grey", "blur", "jpeg", "lowres"]
VARIANTS: dict[str, list[str]] = {
    "all": [],
    "no-voice": ["data.voice={}"],
    "no-speed": ["data.augment.speed=0"],
    "no-appearance": [f"data.augment.{k}=0" for k in APPEARANCE],
    "no-shift": ["data.augment.time_shift=0"],
    "none": ["data.voice={}", "data.augment.speed=0", "data.augment.time_shift=0",
             *[f"data.augment.{k}=0" for k in APPEARANCE]],
}
DECODE = {"decoder": "beam", "beam_size": 8, "ctc_weight": 0.1, "flip_average": True}


def run_folder(runs: Path, variant: str) -> Path:
    return runs / ("grid-wlas-speakers" if variant == "all" else f"grid-wlas-speakers-{variant}")


def train(variant: str, cache: str, runs: Path, steps: int, init: Path) -> tuple[Path, str]:
    out = run_folder(runs, variant)
    args = ["lipread", "train", RECIPE, f"data.cache={cache}", "-o", str(out), f"max_steps={steps}",
            f"init_from={init}", *VARIANTS[variant]]
    if (out / "config.yaml").exists():  # a run started there: continue it (from step 0 if it saved nothing yet)
        args.append("--resume")
    print(" ".join(args), flush=True)
    subprocess.run([sys.executable, "-m", "lipread", *args[1:]], check=True)
    return out, " ".join(a if "{" not in a else f"'{a}'" for a in args)


def evaluate_variant(checkpoint: Path, cache: str) -> list[dict]:
    from lipread.pipelines.evaluate import evaluate

    rows = []
    for standin in (False, True):
        for modality in ("av", "video", "audio"):
            t0 = time.perf_counter()
            r = evaluate(str(checkpoint), cache, split="val", modality=modality, standin=standin, **DECODE)
            rows.append({"modality": modality, "standin": standin, "wer": r.report.wer, "cer": r.report.cer,
                         "clips": len(r.report.utterances), "seconds": round(time.perf_counter() - t0, 1),
                         "command": f"lipread evaluate {checkpoint} {cache} --split val --modality {modality} "
                                    f"--decoder beam --beam-size 8 --ctc-weight 0.1 --flip-average" + (" --standin" if standin else "")})
            print(f"  {modality:5s} {'stand-in' if standin else 'clean':8s} WER {100 * r.report.wer:6.2f}%", flush=True)
    return rows


def table(results: dict) -> str:
    """Markdown: each variant's and each checkpoint's WER, validation clips and stand-ins, per modality."""
    def row(name, rows):
        g = {(r["modality"], r["standin"]): r["wer"] for r in rows}
        cells = [f"{100 * g[(m, s)]:.2f}%" for s in (False, True) for m in ("av", "video", "audio")]
        return f"| {name} | " + " | ".join(cells) + " |"

    lines = ["| model | clips: lips + sound | lips | sound | stand-ins: lips + sound | lips | sound |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    lines += [row(name, v["rows"]) for name, v in results.get("variants", {}).items()]
    lines += [row(f"`all`, step {k}", rows) for k, rows in sorted(results.get("curve", {}).items(), key=lambda kv: int(kv[0]))]
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cache", required=True)
    ap.add_argument("--runs", type=Path, default=Path.home() / "runs")
    ap.add_argument("--out", type=Path, default=Path("pipelines/grid/results/speakers_ablation.json"))
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--init", type=Path, default=Path.home() / "runs" / "wlas-grid-s1-before26",
                    help="the model every variant trains on from: wlas-grid-s1 before issue 26 (see above)")
    ap.add_argument("--only", default=",".join(VARIANTS), help="comma-separated variants")
    ap.add_argument("--checkpoint", default="best", help="which checkpoint of each run to read (best | last)")
    ap.add_argument("--baseline", action="store_true", help="also read the zoo model as it is now (row 'zoo')")
    ap.add_argument("--curve", action="store_true",
                    help="read every checkpoint of the 'all' run not read yet (its learning curve) and stop")
    ap.add_argument("--table", action="store_true", help="print the markdown table of --out and stop")
    a = ap.parse_args(argv)

    results = json.loads(a.out.read_text()) if a.out.exists() else {"variants": {}}
    if a.table:
        print(table(results))
        return 0
    todo = [v for v in a.only.split(",") if v]
    unknown = [v for v in todo if v not in VARIANTS]
    if unknown:
        ap.error(f"unknown variants {unknown}; known: {', '.join(VARIANTS)}")
    if a.curve:
        curve = results.setdefault("curve", {})
        for ckpt in sorted((run_folder(a.runs.expanduser(), "all") / "checkpoints").glob("step_*")):
            step = str(int(ckpt.name.split("_")[1]))
            if step not in curve:
                print(f"step {step}", flush=True)
                curve[step] = evaluate_variant(ckpt, a.cache)
                a.out.write_text(json.dumps(results, indent=1) + "\n")
        return 0
    if a.baseline and "zoo" not in results["variants"]:
        results["variants"]["zoo"] = {"train": None, "rows": evaluate_variant(Path("wlas-grid-s1"), a.cache)}
        a.out.write_text(json.dumps(results, indent=1) + "\n")
    if not a.curve and any(v not in results["variants"] for v in todo) and not (a.init / "config.json").exists():
        ap.error(f"--init {a.init}: no model there; make it from git as this script's help says "
                 "(the variants must start where the main run started, not from today's zoo model)")
    for variant in todo:
        if variant in results["variants"]:
            print(f"{variant}: done already", flush=True)
            continue
        out, command = train(variant, a.cache, a.runs.expanduser(), a.steps, a.init.expanduser())
        if a.checkpoint == "best":
            checkpoint = out / "best"
        else:
            checkpoint = sorted((out / "checkpoints").glob("step_*"))[-1]
        results["variants"][variant] = {"train": command, "overrides": VARIANTS[variant], "steps": a.steps,
                                        "checkpoint": str(checkpoint), "rows": evaluate_variant(checkpoint, a.cache)}
        a.out.parent.mkdir(parents=True, exist_ok=True)
        a.out.write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
