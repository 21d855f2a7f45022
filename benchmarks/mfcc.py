"""Audio features with librosa (before issue 27) and with NumPy (:mod:`lipread.audio.dsp`, after).

    OMP_NUM_THREADS=1 python benchmarks/mfcc.py --out benchmarks/results/mfcc.json

Every point runs in a new Python process (``python -c``), on the same 3-s clip (the first GRID clip's sound,
or 3 s of noise where the clips are absent), for two feature configurations: the LipNet model's (13 MFCC)
and the WLAS model's (13 MFCC + deltas + CMVN), and for the speaker check's voice measure
(:func:`lipread.pipelines.speaker.voice_features`: MFCC and YIN pitch).

- ``cold``: the import of the package's feature modules, then the first call (before: it imports librosa,
  which compiles with numba), both timed inside the process, and the whole process (start to exit) timed
  from outside; medians of ``--cold-runs`` processes.
- ``warm``: per call on the same clip after the first call: median and minimum of ``--calls`` calls (on a
  loaded machine the minimum is the steadier).

``before`` is the librosa code the package ran until issue 27 (kept here and in the tests as the reference);
``after`` is the package's. The machine is shared (another job trains beside it): the JSON keeps the load
average before and after.
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

import numpy as np
from _machine import machine_info

ROOT = Path(__file__).resolve().parents[1]
GRID = ROOT.parent / "shared" / "data" / "grid" / "s1"

LIBROSA = '''
def features(audio, deltas, cmvn):
    import librosa
    mel = librosa.feature.melspectrogram(y=audio, sr=16000, n_fft=512, hop_length=160, win_length=400,
                                         n_mels=40, center=True, power=2.0)
    feats = librosa.feature.mfcc(S=librosa.power_to_db(mel, ref=1.0, top_db=None), n_mfcc=13)
    if deltas:
        feats = np.concatenate([feats, librosa.feature.delta(feats, width=9, order=1),
                                librosa.feature.delta(feats, width=9, order=2)])
    feats = feats.T.astype(np.float32)[:300]
    if cmvn:
        feats = (feats - feats.mean(axis=0)) / np.maximum(feats.std(axis=0), 1e-5)
    return feats.astype(np.float32)

def voice(wave):
    import librosa
    mel = librosa.feature.melspectrogram(y=wave, sr=16000, n_fft=512, hop_length=160, win_length=400, n_mels=40,
                                         power=2.0)
    logmel = librosa.power_to_db(mel, ref=1.0, top_db=None)
    energy = logmel.max(axis=0)
    speech = energy > energy.max() - 20.0
    mfcc = librosa.feature.mfcc(S=logmel[:, speech], n_mfcc=13)[1:]
    f0 = librosa.yin(wave, fmin=60, fmax=400, sr=16000, frame_length=1024, hop_length=160)
    n = min(len(f0), len(speech))
    return np.concatenate([mfcc.mean(axis=1), mfcc.std(axis=1), [np.log(np.median(f0[:n][speech[:n]]))]])
'''
"""What the package ran before issue 27 (its librosa calls, for a 3-s clip: 75 video frames, 300 rows)."""

NUMPY = '''
def features(audio, deltas, cmvn):
    from lipread.audio.features import AudioFeatureConfig, compute_features
    return compute_features(audio, AudioFeatureConfig(deltas=deltas, cmvn=cmvn), n_video_frames=75)

def voice(wave):
    from lipread.pipelines.speaker import voice_features
    return voice_features(wave)
'''

POINT = '''
import sys, time
t_start = time.perf_counter()
import numpy as np
audio = np.load({npy!r})
{code}
kind, calls = {kind!r}, {calls}
run = (lambda: voice(audio)) if kind == "voice" else (lambda: features(audio, kind == "wlas", kind == "wlas"))
t0 = time.perf_counter()
{imports}
t1 = time.perf_counter()
first = run()
t2 = time.perf_counter()
warm = []
for _ in range(calls):
    t = time.perf_counter()
    run()
    warm.append(time.perf_counter() - t)
import json
print(json.dumps({{"import_s": t1 - t0, "first_call_s": t2 - t1, "warm_s": warm,
                  "librosa_loaded": "librosa" in sys.modules, "numba_loaded": "numba" in sys.modules,
                  "scipy_fft_loaded": "scipy.fft" in sys.modules, "shape": list(np.shape(first))}}))
'''

IMPORTS = "import lipread.audio.features, lipread.pipelines.speaker"
"""Timed as the import, before and after; before, librosa was imported by the first call (as it was)."""
KINDS = {"lipnet": "13 MFCC (LipNet's audio features)", "wlas": "13 MFCC + deltas + CMVN (WLAS's)",
         "voice": "the speaker check's voice measure (MFCC of the speech frames + YIN pitch)"}


def point(npy: str, which: str, kind: str, calls: int) -> dict:
    code = POINT.format(npy=npy, code=LIBROSA if which == "before" else NUMPY, kind=kind, calls=calls,
                        imports=IMPORTS)
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False)
    wall = time.perf_counter() - t0
    if out.returncode != 0:
        raise RuntimeError(f"{which} {kind} failed:\n{out.stderr}")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["process_s"] = wall
    return result


def clip_audio() -> tuple[np.ndarray, str]:
    clips = sorted(GRID.glob("*.mp4"))
    if clips:
        from lipread.io.audio import read_audio

        audio = read_audio(clips[0])[:48000]
        return np.pad(audio, (0, 48000 - len(audio))).astype(np.float32), f"GRID {clips[0].name}, first 3 s"
    rng = np.random.default_rng(0)
    return rng.normal(0, 0.1, 48000).astype(np.float32), "3 s of white noise (no GRID clips found)"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cold-runs", type=int, default=5)
    p.add_argument("--calls", type=int, default=100)
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "mfcc.json"))
    a = p.parse_args()
    audio, source = clip_audio()
    load_before = os.getloadavg()[0]
    results: dict = {"description": __doc__.splitlines()[0], "input": source, "kinds": KINDS,
                     "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
                     "machine": machine_info(("numpy", "scipy", "librosa", "numba", "torch"))}
    with tempfile.TemporaryDirectory() as tmp:
        npy = str(Path(tmp) / "clip.npy")
        np.save(npy, audio)
        for kind in KINDS:
            # cold: --cold-runs new processes each, before and after taking turns (the load drifts); the first
            # of each also times the warm calls
            runs: dict[str, list] = {"before": [], "after": []}
            for i in range(a.cold_runs):
                for which in ("before", "after"):
                    runs[which].append(point(npy, which, kind, a.calls if i == 0 else 0))
            for which, rs in runs.items():
                warm = rs[0]["warm_s"]
                entry = {
                    "cold": {k: round(statistics.median(r[k] for r in rs), 4)
                             for k in ("import_s", "first_call_s", "process_s")},
                    "cold_runs": [{k: round(r[k], 4) for k in ("import_s", "first_call_s", "process_s")}
                                  for r in rs],
                    "warm_ms": {"median": round(1000 * statistics.median(warm), 3),
                                "min": round(1000 * min(warm), 3), "calls": len(warm)},
                    "librosa_loaded": rs[0]["librosa_loaded"], "numba_loaded": rs[0]["numba_loaded"],
                    "scipy_fft_loaded": rs[0]["scipy_fft_loaded"], "shape": rs[0]["shape"],
                }
                entry["cold"]["import_plus_first_call_s"] = round(
                    statistics.median(r["import_s"] + r["first_call_s"] for r in rs), 4)
                results.setdefault(kind, {})[which] = entry
                print(kind, which, json.dumps(entry["cold"]), "warm", json.dumps(entry["warm_ms"]), flush=True)
    results["machine"]["load_average_1m_before"] = load_before
    results["machine"]["load_average_1m_after"] = os.getloadavg()[0]
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print("wrote", out)


if __name__ == "__main__":
    main()
