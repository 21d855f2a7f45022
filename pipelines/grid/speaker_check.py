"""Does the speaker check warn on other speakers and stay quiet on the training speaker? (issue 26)

Calibrates the voice and face profiles (``lipread.pipelines.speaker``) on the training split of a prepared
GRID cache, then measures, on clips not used to calibrate:

- the validation clips as they are (the training speaker: should not warn), and mirrored (a front camera's
  video: should not warn either);
- the same clips given to the stand-in speakers (``lipread.data.standin``: should warn);
- the same clips with babble noise at 10 dB and with white noise at 20 dB (the training speaker in a noisier
  place: how often the voice check fires anyway);
- the clips through a telephone channel (300-3400 Hz) and at 8 kHz (should not warn), and the stand-ins
  through a telephone channel (should).

With ``--write MODEL_DIR`` the profile is stored in that model's ``config.json`` (``domain.speaker``).

    python pipelines/grid/speaker_check.py /work/cache/grid_lipnet --out pipelines/grid/results/speaker.json \
        --write models/wlas-grid-s1
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))


def main(argv=None) -> int:
    from _machine import machine_info  # noqa: E402
    from scipy.signal import resample_poly

    from lipread.audio.noise import NoiseMixer, clip_seed
    from lipread.audio.voice import telephone
    from lipread.data.cache import CacheReader
    from lipread.data.standin import standin_for, standin_video, standin_voice
    from lipread.pipelines.speaker import calibrate_speaker, speaker_distances

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("cache")
    ap.add_argument("--out", required=True)
    ap.add_argument("--write", default=None, metavar="MODEL_DIR",
                    help="Store the profile in this model folder's config.json (domain.speaker).")
    a = ap.parse_args(argv)

    t0 = time.time()
    speaker = calibrate_speaker(a.cache, "train")
    reader = CacheReader(a.cache)
    val = [c for c in reader.clips if c.split == "val"]
    mixer = NoiseMixer(lambda rng, cid: [reader.wave(c) for c in rng.choice(val, 6, replace=False) if c.id != cid])

    conditions = {}

    def measure(name, transform):
        rows = []
        for c in val:
            mouth, wave = np.asarray(reader.mouth(c)), reader.wave(c)
            mouth, wave = transform(c, mouth, wave)
            rows.append(speaker_distances(speaker, mouth, wave))
        out = {"clips": len(rows)}
        keys = [k for k in ("voice", "voice_phone", "face") if any(f"{k}_distance" in r for r in rows)]
        for key in keys:
            d = np.array([r[f"{key}_distance"] for r in rows if f"{key}_distance" in r])
            thr = speaker[key]["threshold"]
            out[key] = {"warned": int((d > thr).sum()), "measured": int(len(d)),
                        "distance_median": round(float(np.median(d)), 3), "distance_min": round(float(d.min()), 3),
                        "distance_max": round(float(d.max()), 3)}
        either = sum(1 for r in rows if any(r.get(f"{k}_distance", 0) > speaker[k]["threshold"] for k in keys))
        out["warned_either"] = either
        conditions[name] = out
        print(f"{name:>16}: " + ", ".join(f"{k} warns {out[k]['warned']}/{out[k]['measured']}" for k in keys)
              + f", either {either}/{len(rows)}", flush=True)

    measure("training speaker", lambda c, m, w: (m, w))
    measure("mirrored", lambda c, m, w: (np.ascontiguousarray(m[:, :, ::-1]), w))
    measure("phone line", lambda c, m, w: (m, telephone(w)))
    measure("8 kHz sound", lambda c, m, w: (m, resample_poly(resample_poly(w, 1, 2), 2, 1).astype(np.float32)))

    def standin(c, m, w):
        who = standin_for(c.id)
        return standin_video(m, who, c.id), standin_voice(w, who)

    measure("stand-ins", standin)
    measure("stand-in voice", lambda c, m, w: (m, standin_voice(w, standin_for(c.id))))
    measure("stand-ins by phone", lambda c, m, w: (standin_video(m, standin_for(c.id), c.id),
                                                   telephone(standin_voice(w, standin_for(c.id)))))
    measure("stand-in face", lambda c, m, w: (standin_video(m, standin_for(c.id), c.id), w))
    measure("babble 10 dB", lambda c, m, w: (m, mixer.mix(w, "babble", 10.0, np.random.default_rng(clip_seed(0, c.id)), c.id)))
    measure("white 20 dB", lambda c, m, w: (m, mixer.mix(w, "white", 20.0, np.random.default_rng(clip_seed(0, c.id)), c.id)))

    result = {"benchmark": "speaker_check", "machine": machine_info(), "cache": a.cache,
              "command": "python pipelines/grid/speaker_check.py " + " ".join(argv or sys.argv[1:]),
              "calibrated_on": speaker["description"],
              "thresholds": {k: speaker[k]["threshold"] for k in ("voice", "voice_phone", "face")},
              "conditions": conditions, "seconds": round(time.time() - t0, 1)}
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(result, indent=1) + "\n")
    if a.write:
        cfg_path = Path(a.write) / "config.json"
        cfg = json.loads(cfg_path.read_text())
        cfg.setdefault("domain", {})["speaker"] = speaker
        cfg_path.write_text(json.dumps(cfg, indent=2) + "\n")
        print(f"profile written to {cfg_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
