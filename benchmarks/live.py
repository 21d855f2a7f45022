"""`lipread live` on a 2-minute recording played at real time: latency, dropped frames, CPU, memory, WER.

The recording is the one ``benchmarks/long_video.py`` builds from 40 GRID validation clips (``report``: clips
41-80, the figures quoted; ``dev``: clips 1-40, for choosing settings). Build it first:

    python benchmarks/long_video.py --build-only --set report

Then:

    python benchmarks/live.py --set report [--no-sound] --out benchmarks/results/live.json

It runs ``lipread live FILE --realtime --json`` in a fresh process and reads its lines as they come:

- latency: each utterance's ``latency`` (seconds from the end of its speech in the source to when its line
  was printed, measured by the live process on the clock the source is paced by): median, 90th percentile,
  worst, of each utterance's first line; revisions (a short utterance joined one already printed, which is
  printed again, ``revised``) are counted and their latency given apart;
- dropped frames (the ``end`` line), CPU use (user + system seconds of the process over its wall time, from
  ``wait4``), peak memory (``ru_maxrss`` of that process alone) and its memory every second (flat or not);
- WER of what it printed against the 40 sentences (each utterance's last version; and of the first lines
  alone), next to ``lipread transcribe`` of the same file (offline, in this process) — the Done-when asks for
  the stream within 1 point of it.

``--wait``: ``lipread live --wait`` (an utterance is printed once no short one can join it: never revised).

``--repeat N --unpaced``: memory over a long stream. The recording is remuxed N times back to back into one
Matroska file (no re-encoding) and read as fast as it can be (no ``--realtime``: the same buffers, less
waiting); memory is sampled every second. Latency means nothing there and is not reported.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
WORK = Path.home() / "lipread-bench" / "long_video"


def rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def repeated(path: Path, times: int) -> Path:
    """``path`` remuxed ``times`` times back to back (timestamps shifted, nothing re-encoded), made once."""
    import av

    out = path.with_name(f"{path.stem}_x{times}.mkv")
    if out.exists():
        return out
    part = out.with_name(out.name + ".part.mkv")
    with av.open(str(part), "w") as dst:
        with av.open(str(path)) as src:
            streams = {s.index: dst.add_stream_from_template(s) for s in src.streams if s.type in ("video", "audio")}
        shift = 0.0
        for _ in range(times):
            end = 0.0
            with av.open(str(path)) as src:
                for packet in src.demux():
                    if packet.stream.index not in streams or packet.pts is None:
                        continue
                    base = packet.stream.time_base
                    end = max(end, float((packet.pts + (packet.duration or 0)) * base))
                    offset = int(round(shift / base))
                    packet.pts += offset
                    if packet.dts is not None:
                        packet.dts += offset
                    packet.stream = streams[packet.stream.index]
                    dst.mux(packet)
            shift += end
    part.replace(out)
    return out


def run_live(path: Path, model: str, extra: list[str], paced: bool = True) -> dict:
    pace = ["--realtime"] if paced else []
    cmd = [sys.executable, "-m", "lipread", "-q", "live", str(path), *pace, "--json", "-m", model, *extra]
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    memory: list[tuple[float, float]] = []
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            m = rss_mb(proc.pid)
            if m is not None:
                memory.append((round(time.monotonic() - t0, 1), round(m, 1)))
            done.wait(1.0)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    lines = []
    ready_at = None
    for line in proc.stdout:
        obj = json.loads(line)
        obj["_arrived"] = time.monotonic() - t0
        if obj.get("event") == "ready" and ready_at is None:
            ready_at = obj["_arrived"]
        lines.append(obj)
    _, status, usage = os.wait4(proc.pid, 0)
    done.set()
    wall = time.monotonic() - t0
    stderr = proc.stderr.read()
    return {"command": " ".join(["lipread", "live", str(path), *pace, "--json", "-m", model, *extra]),
            "exit_status": os.waitstatus_to_exitcode(status), "lines": lines, "wall_s": wall,
            "ready_s": ready_at, "cpu_s": usage.ru_utime + usage.ru_stime, "peak_mb": usage.ru_maxrss / 1024,
            "memory": memory, "stderr_tail": stderr[-2000:]}


def main(argv=None) -> int:
    from _machine import machine_info

    from lipread.metrics import score
    from lipread.pipelines.transcribe import Transcriber

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", default="report", choices=("report", "dev"))
    ap.add_argument("--model", default="wlas-grid-s1")
    ap.add_argument("--no-sound", action="store_true", help="The recording without a sound track (lips only).")
    ap.add_argument("--wait", action="store_true", help="lipread live --wait (lines never revised, about 1 s later).")
    ap.add_argument("--repeat", type=int, default=1, help="the recording N times back to back (memory over time)")
    ap.add_argument("--unpaced", action="store_true", help="read as fast as possible (no --realtime)")
    ap.add_argument("--work", type=Path, default=WORK)
    ap.add_argument("--out", type=Path, default=None, help="Write the result JSON here (also printed).")
    a = ap.parse_args(argv)

    name = "recording_nosound" if a.no_sound else "recording"
    path = a.work / a.set / f"{name}.mp4"
    if not path.exists():
        print(f"{path} is missing: run python benchmarks/long_video.py --build-only --set {a.set}", file=sys.stderr)
        return 2
    manifest = json.loads(path.with_suffix(".json").read_text())
    ref = " ".join(manifest["references"])

    t0 = time.perf_counter()
    reader = Transcriber(a.model)
    offline = reader.transcribe(path)
    offline_s = time.perf_counter() - t0
    reader.close()
    offline_wer = score([ref], [offline.text]).wer
    if a.repeat > 1:
        path, ref = repeated(path, a.repeat), " ".join([ref] * a.repeat)
        manifest = dict(manifest, duration=manifest["duration"] * a.repeat,
                        references=manifest["references"] * a.repeat)

    live = run_live(path, a.model, ["--wait"] if a.wait else [], paced=not a.unpaced)
    lines = [o for o in live["lines"] if o.get("event") == "utterance"]
    end = next((o for o in live["lines"] if o.get("event") == "end"), {})
    firsts = [u for u in lines if not u.get("revised")]
    revisions = [u for u in lines if u.get("revised")]
    utts = list({u["id"]: u for u in lines}.values())  # each utterance's last version
    text = " ".join(u["text"] for u in utts if u["text"])
    live_wer = score([ref], [text]).wer
    first_wer = score([ref], [" ".join(u["text"] for u in firsts if u["text"])]).wer
    lat = np.array([u["latency"] for u in firsts if u.get("latency") is not None])
    minute = [m for t, m in live["memory"] if t <= 60]
    last_minute = [m for t, m in live["memory"] if t >= live["wall_s"] - 60]
    rev_lat = np.array([u["latency"] for u in revisions if u.get("latency") is not None])
    mem = [m for _, m in live["memory"]]
    result = {
        "benchmark": "live", "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "machine": machine_info(),
        "input": {"file": str(path), "set": a.set, "sound": not a.no_sound, "duration_s": manifest["duration"],
                  "sentences": len(manifest["references"])},
        "command": live["command"], "benchmark_command": "python benchmarks/live.py " + " ".join(argv or sys.argv[1:]),
        "model": a.model, "wait": a.wait, "repeat": a.repeat, "paced": not a.unpaced,
        "exit_status": live["exit_status"],
        "utterances": len(utts), "revisions": len(revisions),
        "revisions_changed_text": sum(u["text"] != next(f["text"] for f in firsts if f["id"] == u["id"])
                                      for u in revisions), "ready_s": None if live["ready_s"] is None else round(live["ready_s"], 2),
        "latency_s": None if not len(lat) else {
            "median": round(float(np.median(lat)), 3), "p90": round(float(np.percentile(lat, 90)), 3),
            "worst": round(float(lat.max()), 3)},
        "revision_latency_s": None if not len(rev_lat) else {
            "median": round(float(np.median(rev_lat)), 3), "worst": round(float(rev_lat.max()), 3)},
        "frames": end.get("frames"), "dropped_frames": end.get("dropped"),
        "cpu_use": round(live["cpu_s"] / live["wall_s"], 3), "cpu_s": round(live["cpu_s"], 1),
        "wall_s": round(live["wall_s"], 1),
        "peak_memory_mb": round(live["peak_mb"], 1),
        "memory_mb": {"first_30s_max": max((m for t, m in live["memory"] if t <= 30), default=None),
                      "last_30s_max": max((m for t, m in live["memory"] if t >= live["wall_s"] - 30), default=None),
                      "max": max(mem, default=None),
                      "first_minute_max": max(minute, default=None), "last_minute_max": max(last_minute, default=None),
                      "samples": live["memory"] if a.repeat > 1 else None},
        "wer_live": round(live_wer, 4), "wer_live_first_lines": round(first_wer, 4),
        "wer_offline": round(offline_wer, 4),
        "wer_gap_points": round(100 * (live_wer - offline_wer), 2),
        "offline_seconds": round(offline_s, 1),
        "modality": sorted({u["modality"] for u in utts}),
        "warnings": sum(len(u["warnings"]) for u in utts),
        "stderr_tail": live["stderr_tail"][-600:],
    }
    text_out = json.dumps(result, indent=1)
    print(text_out)
    if a.out:
        a.out.parent.mkdir(parents=True, exist_ok=True)
        existing = json.loads(a.out.read_text()) if a.out.exists() else {}
        key = (f"{a.set}{'-nosound' if a.no_sound else ''}{'-wait' if a.wait else ''}"
               f"{f'-x{a.repeat}' if a.repeat > 1 else ''}{'-unpaced' if a.unpaced else ''}")
        existing[key] = result
        a.out.write_text(json.dumps(existing, indent=1) + "\n")
    return 0 if live["exit_status"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
