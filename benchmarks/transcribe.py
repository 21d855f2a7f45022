"""Transcription speed (warm, per stage), cold start, and peak memory by input size.

    python benchmarks/transcribe.py --clips 20 --out benchmarks/results/transcribe.json
    python benchmarks/transcribe.py --only cold,memory      # a part of it (the JSON keeps the others)

``warm``: per 3-second GRID clip, split by stage, after the first clip. Stages: ``decode`` (decoding
the video alone, measured in a separate pass over the same clip: in the pipeline it runs in a
background thread, overlapped with landmarks), ``landmarks`` (the face-landmark model), ``crop``
(alignment warps), ``model`` (the lipreading network), ``decoder`` (CTC decoding), ``model+decoder`` (an
attention model's network and beam search), ``domain`` (out-of-domain checks). ``total`` is the
wall time of ``Transcriber.transcribe`` per clip.

``cold``: ``lipread transcribe CLIP`` in a new process, start to exit, wall and CPU (user + system)
seconds (medians of ``--cold-runs``; on a shared VM the CPU time is the steadier of the two),
and as many new processes timed phase by phase (medians): imports, model load, decoder (+LM) build, the first clip
(which starts mediapipe), then the same clip again (warm); and, in another new process, the first
search for speech regions in a 2-minute video (how a long video's windows are planned).

``memory``: peak RSS (``VmHWM`` of its own memory) of a new process that transcribes one input: a 3-s GRID clip at
its own 360x288, a 2-minute 360x288 video (40 clips back to back), a 21-s 1080p video, a 3-s and a
12-s 4K video (the GRID frames scaled up; made once into ``benchmarks/out/``). It also counts the
``truncated`` warnings (there should be none) and keeps the text.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _machine import machine_info

ROOT = Path(__file__).resolve().parents[1]
GRID = ROOT.parent / "shared" / "data" / "grid" / "s1"
INPUTS = {  # name: (clips, (width, height))
    "360p_3s": (1, (360, 288)),
    "360p_120s": (40, (360, 288)),
    "1080p_21s": (7, (1920, 1080)),
    "4k_3s": (1, (3840, 2160)),
    "4k_12s": (4, (3840, 2160)),
}


def timed_method(obj, name: str, bucket: dict, key: str) -> None:
    """Wrap ``obj.name`` so each call adds its wall time to ``bucket[key]``."""
    fn = getattr(obj, name)

    def wrapper(*args, **kwargs):
        t0 = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            bucket[key] = bucket.get(key, 0.0) + time.perf_counter() - t0

    setattr(obj, name, wrapper)


MODEL_STAGES = ("model", "decoder", "model+decoder", "domain")
"""The transcriber's own timings: a CTC model's network and decoder apart; an attention model's (WLAS) network
and beam search together (``model+decoder``: they interleave); the out-of-domain checks."""


def warm(a) -> dict:
    t0 = time.perf_counter()
    from lipread.pipelines.transcribe import Transcriber, load_model

    import_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    loaded = load_model(a.model)
    tr = Transcriber(loaded, loaded.decode_options(decoder=a.decoder))
    load_s = time.perf_counter() - t0
    from lipread.io.video import read_video

    clips = sorted(Path(a.grid).glob("*.mp4"))[: a.clips + 1]
    stages: dict[str, float] = {}
    timed_method(tr.frontend, "_crops", stages, "crop")
    first_s, totals, per_clip = None, [], []
    for i, clip in enumerate(clips):
        detect_before = dict(stages)
        before = {k: tr.times.seconds.get(k, 0.0) for k in MODEL_STAGES}
        t0 = time.perf_counter()
        text = tr.transcribe(clip).text
        total = time.perf_counter() - t0
        if i == 0:  # the backend exists now: time its detect calls from here on
            timed_method(tr.frontend.backend, "detect", stages, "landmarks")
            first_s = total
            continue
        t1 = time.perf_counter()
        read_video(clip)
        decode = time.perf_counter() - t1
        row = {"clip": clip.name, "text": text, "total": total, "decode": decode,
               "landmarks": stages.get("landmarks", 0.0) - detect_before.get("landmarks", 0.0),
               "crop": stages.get("crop", 0.0) - detect_before.get("crop", 0.0)}
        for k in MODEL_STAGES:
            row[k] = tr.times.seconds.get(k, 0.0) - before[k]
        per_clip.append(row)
        totals.append(total)
    tr.close()
    keys = ("decode", "landmarks", "crop", *MODEL_STAGES, "total")
    return {
        "model": a.model, "decoder": tr.options.decoder, "clips": len(per_clip), "clip_seconds": 3.0,
        "import_seconds": import_s, "model_load_seconds": load_s, "first_clip_seconds": first_s,
        "mean_seconds_per_clip": {k: statistics.mean(r[k] for r in per_clip) for k in keys},
        "median_total_seconds": statistics.median(totals), "per_clip": per_clip,
    }


def phases(model: str, clip: str) -> None:
    """(child) One cold process, phase by phase; prints a JSON line."""
    out = {}
    t = time.perf_counter()
    from lipread.pipelines.transcribe import Transcriber, load_model

    out["import"] = time.perf_counter() - t
    t = time.perf_counter()
    loaded = load_model(model)
    out["model_load"] = time.perf_counter() - t
    t = time.perf_counter()
    tr = Transcriber(loaded)
    out["decoder_build"] = time.perf_counter() - t
    t = time.perf_counter()
    tr.transcribe(clip)
    out["first_clip"] = time.perf_counter() - t
    out["first_clip_stages"] = dict(tr.times.seconds)
    t = time.perf_counter()
    tr.transcribe(clip)
    out["second_clip"] = time.perf_counter() - t
    out["heavy_modules_loaded"] = sorted(m for m in ("matplotlib", "librosa", "numba", "jiwer", "tensorboard")
                                         if m in sys.modules)
    print(json.dumps(out))


SOURCE = ROOT
"""The lipread source tree the child processes run (``--source``: e.g. an older commit, for a before/after)."""


def child_env() -> dict:
    env = dict(os.environ, OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "1"))
    env["PYTHONPATH"] = os.pathsep.join([str(SOURCE), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def tree_of(env: dict) -> str:
    """The source tree ``env`` puts first on the path. `python -m lipread` must run there: ``-m`` puts the
    working folder before PYTHONPATH, so run from the repository it would import the repository's lipread
    whatever ``--before``/``--source`` said (the cold figures before this fix compared a tree with itself)."""
    return env["PYTHONPATH"].split(os.pathsep)[0]


def cold_one(a, clip: str, env: dict) -> dict:
    """Cold-start numbers of one source tree (``env`` puts it on PYTHONPATH)."""
    import tempfile

    cli = [sys.executable, "-m", "lipread", "transcribe", clip, "-f", "txt", "-o", str(ROOT / "benchmarks" / "out")]
    with tempfile.TemporaryDirectory() as home:  # a new user's first run: nothing cached in HOME
        t = time.perf_counter()
        subprocess.run(cli, env=dict(env, HOME=home), cwd=tree_of(env), check=True, capture_output=True)
        fresh_home = time.perf_counter() - t
    return {"cli": cli, "cli_wall_empty_home_seconds": fresh_home}


def cold(a) -> dict:
    """Cold start; with ``--before SOURCE`` the CLI runs of both trees alternate, so load changes hit both."""
    clip = str(sorted(Path(a.grid).glob("*.mp4"))[0])
    envs = {"after": child_env()}
    if a.before:
        envs["before"] = dict(child_env(), PYTHONPATH=str(Path(a.before).resolve()))
    out = {name: cold_one(a, clip, env) for name, env in envs.items()}
    for name in envs:
        out[name]["cli_wall_seconds"] = []
        out[name]["cli_cpu_seconds"] = []
        out[name]["phase_runs"] = []
    for _ in range(a.cold_runs):
        for name, env in envs.items():
            t, before = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
            subprocess.run(out[name]["cli"], env=env, cwd=tree_of(env), check=True, capture_output=True)
            out[name]["cli_wall_seconds"].append(time.perf_counter() - t)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)  # CPU time: steadier than wall on a busy VM
            out[name]["cli_cpu_seconds"].append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
            r = subprocess.run([sys.executable, __file__, "--phases", clip, "--model", a.model], env=env,
                               check=True, capture_output=True, text=True)
            out[name]["phase_runs"].append(json.loads(r.stdout.strip().splitlines()[-1]))
    for name in envs:
        out[name].pop("cli")
        out[name]["cli_wall_median_seconds"] = statistics.median(out[name]["cli_wall_seconds"])
        out[name]["cli_cpu_median_seconds"] = statistics.median(out[name]["cli_cpu_seconds"])
        runs = out[name]["phase_runs"]
        out[name]["phases_median_seconds"] = {k: statistics.median(r[k] for r in runs) for k in runs[0]
                                              if isinstance(runs[0][k], float)}
    result = {"clip": Path(clip).name, **out.pop("after")}
    if "before" in out:
        result["before"] = {"source": a.before, **out["before"]}
    return result


def vm_hwm_mb() -> float:
    """This process's own peak RSS (``VmHWM``). Not ``ru_maxrss``: after fork and exec it still counts the
    parent's resident size at the fork, so a child of a large parent reported the parent's peak."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # not Linux: the closest there is


def peak(model: str, path: str) -> None:
    """(child) Transcribe ``path``; print peak RSS (MB), wall time, text and truncation warnings."""
    import logging

    records = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(record.getMessage())

    logging.getLogger("lipread").addHandler(Keep(logging.WARNING))
    t = time.perf_counter()
    from lipread.pipelines.transcribe import transcribe

    text = transcribe(path, model=model).text
    print(json.dumps({"peak_rss_mb": vm_hwm_mb(),
                      "wall_seconds": time.perf_counter() - t, "text": text,
                      "truncated_warnings": sum("truncated" in m for m in records)}))


def memory(a) -> dict:
    from _inputs import make_clip

    from lipread.io.probe import probe

    clips = sorted(Path(a.grid).glob("*.mp4"))
    out = {}
    for name, (n, size) in INPUTS.items():
        path = clips[0] if name == "360p_3s" else ROOT / "benchmarks" / "out" / f"{name}.mp4"
        if not Path(path).exists():
            make_clip(path, clips[:n], size)
        r = subprocess.run([sys.executable, __file__, "--peak", str(path), "--model", a.model], env=child_env(),
                           check=True, capture_output=True, text=True)
        row = json.loads(r.stdout.strip().splitlines()[-1])
        info = probe(str(path))
        v = next(s for s in info.streams if s.type == "video")
        row.update(input=name, size=f"{v.width}x{v.height}", seconds=info.duration)
        out[name] = row
        print(name, json.dumps(row), flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="lipnet-grid-s1")
    ap.add_argument("--clips", type=int, default=20)
    ap.add_argument("--grid", default=str(GRID))
    ap.add_argument("--decoder", default=None, help="greedy | beam (default: the model's)")
    ap.add_argument("--only", default="warm,cold,memory", help="comma-separated parts to run")
    ap.add_argument("--cold-runs", type=int, default=3)
    ap.add_argument("--out", default="benchmarks/results/transcribe.json")
    ap.add_argument("--source", default=None,
                    help="run cold/memory children on this lipread source tree (e.g. `git archive` of an older "
                         "commit) and store them under PART_TAG")
    ap.add_argument("--before", default=None,
                    help="cold part: also time this older source tree, its CLI runs alternating with ours")
    ap.add_argument("--tag", default="", help="suffix of the JSON keys of this run's parts (with --source)")
    ap.add_argument("--phases", help=argparse.SUPPRESS)
    ap.add_argument("--peak", help=argparse.SUPPRESS)
    a = ap.parse_args()
    global SOURCE
    SOURCE = Path(a.source).resolve() if a.source else ROOT
    if a.phases:
        return phases(a.model, a.phases)
    if a.peak:
        return peak(a.model, a.peak)

    out = Path(a.out)
    result = json.loads(out.read_text()) if out.exists() else {}
    if "warm" not in result and "per_clip" in result:  # the older flat layout: warm numbers only
        result = {"warm": {k: v for k, v in result.items() if k not in ("benchmark", "machine")}}
    result.update(benchmark="transcribe", machine=machine_info())
    parts = {"warm": warm, "cold": cold, "memory": memory}
    for part in a.only.split(","):
        t = time.perf_counter()
        key = f"{part}_{a.tag}" if a.tag else part
        result[key] = parts[part](a)
        result[key]["source"] = str(SOURCE)
        result[key]["load_average_1m_at_end"] = os.getloadavg()[0]
        result[key]["benchmark_seconds"] = time.perf_counter() - t
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2))
    print(json.dumps({k: v for k, v in result.items() if k.split("_")[0] in a.only.split(",")}, indent=2,
                     default=str)[:4000])


if __name__ == "__main__":
    main()
