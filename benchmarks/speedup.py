"""Issue 27's speed goals: the code now against an older tree, measured in one run, alternating.

    git worktree add /tmp/lipread-before 1ecf74c      # or: git archive 1ecf74c | tar -x -C /tmp/lipread-before
    python benchmarks/speedup.py --before /tmp/lipread-before --out benchmarks/results/speedup.json

Each tree is imported from its own folder (``PYTHONPATH``) in fresh processes, the two trees taking turns
(``--rounds``), so that a change of load on this shared machine falls on both:

- ``warm``: one process reads ``--clips`` GRID clips with the default model; the first clip is left out
  (start-up), the median of the others is the warm time per 3-s clip;
- ``cold``: ``lipread transcribe CLIP`` in a new process, wall time from start to exit;
- ``recording``: one process reads the 2-minute recording of ``benchmarks/long_video.py`` (report set; build
  it first with ``python benchmarks/long_video.py --build-only --set report``); wall time of the
  ``transcribe`` call, model loaded.

WER is recorded for both (the clips against their GRID transcripts, the recording against its 40 sentences),
so "unchanged WER" is checked in the same run. The goals (issue 27, this machine, default model): warm ≥ 2x,
cold ≥ 1.8x, recording ≥ 2.5x faster.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _machine import machine_info

ROOT = Path(__file__).resolve().parents[1]
GRID = ROOT.parent / "shared" / "data" / "grid"
RECORDING = Path.home() / "lipread-bench" / "long_video" / "report" / "recording.mp4"

CHILD = r"""
import json, statistics, sys, time
from pathlib import Path
import lipread
from lipread.pipelines.transcribe import Transcriber
model, clips, recording = sys.argv[1], sys.argv[2].split(","), sys.argv[3]
t = Transcriber(model)
times, texts = [], []
for i, clip in enumerate(clips):
    t0 = time.perf_counter()
    r = t.transcribe(clip)
    if i:
        times.append(time.perf_counter() - t0)
    texts.append(r.text)
out = {"lipread": str(Path(lipread.__file__).parent), "warm_median_s": statistics.median(times), "warm_s": times,
       "texts": texts}
if recording:
    t0 = time.perf_counter()
    r = t.transcribe(recording)
    out.update(recording_s=time.perf_counter() - t0, recording_text=r.text)
print(json.dumps(out))
"""


def env_for(tree: Path) -> dict:
    """The environment of a child that imports ``tree``'s lipread (run it with ``cwd=tree`` too: ``python -c``
    and ``-m`` put the working folder first on the path)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(tree)
    return env


def warm_and_recording(tree: Path, model: str, clips: list[Path], recording: Path | None) -> dict:
    r = subprocess.run([sys.executable, "-c", CHILD, model, ",".join(map(str, clips)), str(recording or "")],
                       env=env_for(tree), cwd=tree, capture_output=True, text=True, check=True)
    return json.loads(r.stdout.strip().splitlines()[-1])


def cold_once(tree: Path, model: str, clip: Path) -> float:
    with tempfile.TemporaryDirectory() as out:
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "lipread", "-q", "transcribe", str(clip), "-m", model, "-o", out],
                       env=env_for(tree), cwd=tree, capture_output=True, check=True)
        return time.perf_counter() - t0


def main(argv=None) -> int:
    from lipread.data import read_corpus
    from lipread.metrics import score

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--before", type=Path, required=True, help="the older source tree (a worktree or archive)")
    ap.add_argument("--model", default="wlas-grid-s1")
    ap.add_argument("--clips", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--cold-runs", type=int, default=3, help="cold starts per tree and round")
    ap.add_argument("--no-recording", action="store_true")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "speedup.json")
    a = ap.parse_args(argv)

    entries = [e for e in read_corpus("grid", GRID, val_fraction=0.1, seed=0) if e.split == "val"][: a.clips]
    clips = [Path(e.record.video) for e in entries]
    refs = [e.record.text for e in entries]
    recording = None if a.no_recording else RECORDING
    if recording is not None and not recording.exists():
        ap.error(f"{recording} is missing: python benchmarks/long_video.py --build-only --set report")
    rec_ref = (" ".join(json.loads(recording.with_suffix(".json").read_text())["references"])
               if recording is not None else None)
    trees = {"before": a.before.resolve(), "after": ROOT}
    runs: dict[str, dict] = {k: {"warm": [], "cold": [], "recording": []} for k in trees}
    for rnd in range(a.rounds):
        for name, tree in (trees.items() if rnd % 2 == 0 else reversed(trees.items())):
            print(f"round {rnd + 1}: {name}", file=sys.stderr, flush=True)
            r = warm_and_recording(tree, a.model, clips, recording)
            runs[name]["warm"].append(r["warm_median_s"])
            runs[name]["clip_wer"] = score(refs, r["texts"]).wer
            runs[name]["lipread"] = r["lipread"]
            if recording is not None:
                runs[name]["recording"].append(r["recording_s"])
                runs[name]["recording_wer"] = score([rec_ref], [r["recording_text"]]).wer
            runs[name]["cold"] += [cold_once(tree, a.model, clips[0]) for _ in range(a.cold_runs)]
    summary = {}
    for name, r in runs.items():
        summary[name] = {"warm_s_per_clip": statistics.median(r["warm"]), "cold_s": statistics.median(r["cold"]),
                         "recording_s": statistics.median(r["recording"]) if r["recording"] else None,
                         "clip_wer": r["clip_wer"], "recording_wer": r.get("recording_wer"),
                         "lipread": r["lipread"], "raw": {k: r[k] for k in ("warm", "cold", "recording")}}
    b, n = summary["before"], summary["after"]
    speedup = {"warm": b["warm_s_per_clip"] / n["warm_s_per_clip"], "cold": b["cold_s"] / n["cold_s"]}
    if b["recording_s"]:
        speedup["recording"] = b["recording_s"] / n["recording_s"]
    goals = {"warm": 2.0, "cold": 1.8, "recording": 2.5}
    result = {"benchmark": "speedup (issue 27)", "machine": machine_info(), "model": a.model,
              "command": "python benchmarks/speedup.py " + " ".join(argv if argv is not None else sys.argv[1:]),
              "clips": len(clips), "rounds": a.rounds, "before": b, "after": n,
              "speedup": {k: round(v, 2) for k, v in speedup.items()},
              "goals": {k: {"goal": g, "met": speedup.get(k, 0) >= g} for k, g in goals.items() if k in speedup},
              "wer_unchanged": {"clips": b["clip_wer"] == n["clip_wer"],
                                "recording": b["recording_wer"] == n["recording_wer"]},
              "load_average_1m_end": os.getloadavg()[0]}
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps({k: result[k] for k in ("speedup", "goals", "wer_unchanged")}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
