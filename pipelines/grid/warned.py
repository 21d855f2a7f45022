"""Are the wrong readings warned? (issue 26: "no wrong reading goes unwarned")

Reads the validation clips of a prepared GRID cache with a model as it ships (its stored decoder), as they are
(the training speaker) and given to the stand-in speakers (``lipread.data.standin``: transforms training never
applies), and checks each reading against the out-of-domain warnings ``lipread transcribe`` would print for it
(``lipread.pipelines.domain.domain_warnings``: mouth motion and brightness, the confidence floor of the modality,
the voice and face profile of the training speaker; the reading-direction check is left out: it concerns
time-reversed video). Counts, per condition and modality: clips read wrong, wrong and not warned (the issue asks
for none), right but warned (false alarms).

    python pipelines/grid/warned.py /work/cache/grid_lipnet --out pipelines/grid/results/warned.json

The stand-ins are milder than real other speakers (the issue's nine unseen GRID speakers, which this project
does not have, are where the goal is checked).
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
    import torch
    from _machine import machine_info  # noqa: E402

    from lipread.audio.features import compute_features
    from lipread.data.batch import collate_clips
    from lipread.data.cache import CacheReader
    from lipread.data.standin import standin_for, standin_video, standin_voice
    from lipread.pipelines.domain import domain_warnings, mouth_stats
    from lipread.pipelines.speaker import speaker_distances
    from lipread.pipelines.transcribe import Transcriber, load_model
    from lipread.progress import progress_bar

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("cache")
    ap.add_argument("--model", default="wlas-grid-s1")
    ap.add_argument("--modalities", default="av,video,audio")
    ap.add_argument("--out", required=True)
    a = ap.parse_args(argv)

    t0 = time.time()
    loaded = load_model(a.model)
    cache = CacheReader(a.cache)
    val = [c for c in cache.clips if c.split == "val"]
    conditions = {"training speaker": lambda c, m, w: (m, w),
                  "stand-ins": lambda c, m, w: (standin_video(m, standin_for(c.id), c.id),
                                                standin_voice(w, standin_for(c.id)) if w is not None else None)}
    results = {}
    for modality in [m.strip() for m in a.modalities.split(",") if m.strip()]:
        tr = Transcriber(loaded, modality=modality)
        domain, profile = tr.domain or {}, (tr.domain or {}).get("speaker")
        for name, transform in conditions.items():
            rows = []
            for c in progress_bar(val, desc=f"{modality} {name}"):
                mouth, wave = transform(c, np.asarray(cache.mouth(c)), cache.wave(c))
                feats = None
                if modality != "video":
                    feats = compute_features(wave, loaded.frontend.audio_features, n_video_frames=len(mouth))
                video, lengths, audio, audio_lengths = collate_clips([tr.eval_crop(mouth)],
                                                                     None if feats is None else [feats])
                with torch.no_grad():
                    reading = tr.reader.read(video, lengths, audio, audio_lengths, modality)
                best = reading.nbests[0][0]
                stats = mouth_stats(mouth) if modality != "audio" else {}
                if profile:
                    stats.update(speaker_distances(profile, mouth if modality != "audio" else None,
                                                   wave if modality != "video" else None))
                warnings = domain_warnings(domain, stats, best.confidence, modality=modality)
                rows.append({"id": c.id, "reference": c.text, "hypothesis": best.text,
                             "confidence": best.confidence, "warnings": warnings})
            wrong = [r for r in rows if r["hypothesis"] != r["reference"]]
            silent = [r for r in wrong if not r["warnings"]]
            alarms = [r for r in rows if r["hypothesis"] == r["reference"] and r["warnings"]]
            results[f"{name} / {modality}"] = {
                "clips": len(rows), "wrong": len(wrong), "wrong_unwarned": len(silent), "right_warned": len(alarms),
                "unwarned_examples": [{k: r[k] for k in ("id", "reference", "hypothesis", "confidence")}
                                      for r in silent[:10]]}
            print(f"{name:>16} {modality:5s}: {len(wrong)} of {len(rows)} wrong, {len(silent)} of them unwarned; "
                  f"{len(alarms)} right but warned", flush=True)
        tr.close()
    out = {"benchmark": "warned (issue 26)", "model": a.model, "cache": a.cache, "machine": machine_info(),
           "command": "python pipelines/grid/warned.py " + " ".join(argv if argv is not None else sys.argv[1:]),
           "conditions": results, "seconds": round(time.time() - t0, 1)}
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(out, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
