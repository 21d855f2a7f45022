"""Write pipelines/grid/RESULTS.md from the run folder and the evaluation JSONs, so every figure in
it comes from a file a command wrote.

    python pipelines/grid/results.py --run runs/grid-lipnet-small \
        --greedy runs/eval-greedy.json --beam runs/eval-beam.json --zoo models/lipnet-grid-s1 \
        --wall "TIME" --machine "CPU" > pipelines/grid/RESULTS.md
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def flat(d: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(flat(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def config_diff(run: Path, other: Path) -> str:
    import yaml

    a = flat(yaml.safe_load((run / "config.yaml").read_text()))
    b = flat(yaml.safe_load((other / "config.yaml").read_text()))
    keys = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k) and k != "out_dir")
    return ", ".join(f"{k}={b.get(k)}" for k in keys)


def pct(x: float) -> str:
    return f"{100 * x:.2f}%"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", required=True)
    ap.add_argument("--greedy", required=True, help="report.json of `evaluate -o DIR`, greedy decoder")
    ap.add_argument("--beam", required=True, help="report.json of `evaluate -o DIR`, beam + LM")
    ap.add_argument("--zoo", required=True, help="the exported zoo folder (its config.json has 'evaluation')")
    ap.add_argument("--wall", required=True, help="wall time of the training run, as measured")
    ap.add_argument("--machine", required=True)
    ap.add_argument("--other", nargs=2, action="append", default=[], metavar=("RUN", "NOTE"),
                    help="another run folder of the recipe, for the record, and a sentence on how it ran and ended")
    ap.add_argument("--train-command", action="append", default=[], help="the training command line(s) as run")
    a = ap.parse_args()
    run = Path(a.run)
    cfg = (run / "config.yaml").read_text()
    greedy, beam = json.loads(Path(a.greedy).read_text()), json.loads(Path(a.beam).read_text())
    zoo = json.loads((Path(a.zoo) / "config.json").read_text())
    ev = zoo["evaluation"]
    curve = subprocess.run([sys.executable, str(HERE / "curve.py"), str(run), "--every", "500"],
                           capture_output=True, text=True, check=True).stdout
    out = [
        "# GRID speaker 1: results",
        "",
        f"Machine: {a.machine}. Training wall time: {a.wall}.",
        "Data: the 900 shared GRID speaker-1 clips; 810 train, 90 validation (seeded 10%, seed 0).",
        "The validation clips were never trained on; they are also the only held-out data here",
        "(the corpus's other 100 sentences of speaker 1 are not in this workplace), so decoder settings",
        "were fixed in advance (beam 20, LM weight 1.0, word score 0) rather than tuned on them.",
        "",
        "## Validation WER / CER (90 clips)",
        "",
        "| model | decoder | WER | CER |",
        "|---|---|---:|---:|",
        f"| `{run}/best` (fp32) | greedy | {pct(greedy['wer'])} | {pct(greedy['cer'])} |",
        f"| `{run}/best` (fp32) | beam 20 + GRID LM + lexicon | {pct(beam['wer'])} | {pct(beam['cer'])} |",
        f"| `{a.zoo}` (fp16, stored decoder: {ev['decoder']['name']}) | as stored | {pct(ev['wer'])} | {pct(ev['cer'])} |",
        "",
        "Target was at most 5% WER with beam + LM; the LipNet paper reports 4.8% (overlapped speakers,",
        "~29k training clips) and a per-speaker reproduction 3.4%.",
        "",
        "Most frequent word errors (beam + LM):",
        "",
        *[f"- {c['reference'] or '<ins>'} -> {c['hypothesis'] or '<del>'}: {c['count']}" for c in beam["confusions"][:10]],
        "",
        "## Learning curve (greedy decoding of the validation clips during training)",
        "",
        curve.rstrip(),
        "",
    ]
    if a.other:
        out += ["## Other runs, for the record", ""]
    for other, note in a.other:
        oc = subprocess.run([sys.executable, str(HERE / "curve.py"), other, "--every", "1000"],
                            capture_output=True, text=True, check=True).stdout
        steps = max(json.loads(x)["step"] for x in (Path(other) / "metrics.jsonl").read_text().splitlines())
        out += [f"`{other}`: {config_diff(run, Path(other)) or 'the same config'}; {note} (last step {steps}).",
                "", oc.rstrip(), ""]
    out += [
        "## Commands",
        "",
        "```bash",
        "lipread prepare grid ../shared/data/grid /work/cache/grid_lipnet --preset lipnet --audio --workers 2 \\",
        "    --val-fraction 0.1 --split-seed 0",
        *a.train_command,
        f"lipread evaluate {run}/best /work/cache/grid_lipnet --split val --decoder greedy -o {Path(a.greedy).parent}",
        f"lipread evaluate {run}/best /work/cache/grid_lipnet --split val --decoder beam --beam-size 20 \\",
        f"    --lm grid --lexicon grid --lm-weight 1.0 -o {Path(a.beam).parent}",
        f"python pipelines/grid/export.py {run}/best {a.zoo} --decoder beam --cache /work/cache/grid_lipnet",
        "```",
        "",
        "## Resolved training config",
        "",
        "```yaml",
        cfg.rstrip(),
        "```",
        "",
    ]
    print("\n".join(out))


if __name__ == "__main__":
    main()
