"""Can a user trust what a GRID model prints? Word times, confidence and out-of-domain warnings, measured.

    python pipelines/grid/trust.py MODEL CACHE GRID_DIR --out pipelines/grid/trust-MODEL.json [--clips 20]

- **word times**: ``lipread evaluate``'s word-time error on the validation split of CACHE (median and
  90th percentile start/end error, ms, against the ``.align`` times, on correctly read words);
- **confidence**: AUROC of word confidence for right vs wrong words on the same clips, and a
  reliability table (``lipread.metrics.confidence``);
- **warnings**: ``--clips`` validation clips transcribed as they are and after each perturbation of
  ``lipread.data.perturb`` (time-reversed, a still frame, the mouth covered, the face squeezed):
  the share of files that warn, per kind, and the reasons given.

MODEL is a zoo name or checkpoint folder; CACHE a ``lipread prepare`` cache of GRID with its val split;
GRID_DIR the corpus folder holding ``s1/*.mp4``. Everything is decoded with the model's stored decoder.
An audio-visual model (WLAS) reads lips and sound (``--modality``: what it reads for the word times and
confidence; the perturbed files of the warning check have no sound, so they are read from the lips).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import tempfile
import time
from pathlib import Path


def measure_decoding(model: str, cache: str, modality: str = "auto") -> dict:
    from lipread.metrics.confidence import auroc, labelled_words, reliability
    from lipread.models.checkpoint import read_config
    from lipread.models.zoo import resolve_model
    from lipread.pipelines.evaluate import DecodeOptions, evaluate, stored_decoder

    path = resolve_model(model)
    options = DecodeOptions(**stored_decoder(read_config(path), path))
    result = evaluate(model, cache, split="val", options=options, modality=modality)
    labelled = []
    for uid, hyp in result.best.items():
        labelled += labelled_words(result.references[uid], [(w.word, w.confidence) for w in hyp.words])
    right = [r for r, _ in labelled]
    scores = [c for _, c in labelled]
    return {
        "decoder": options.__dict__,
        "modality": result.condition.get("modality", "video"),
        "clips": len(result.hypotheses),
        "wer": result.report.wer,
        "cer": result.report.cer,
        "word_times": result.word_times,
        "confidence": {"words": len(labelled), "wrong_words": right.count(False),
                       "auroc": auroc(right, scores),
                       "mean_right": sum(c for r, c in labelled if r) / max(1, right.count(True)),
                       "mean_wrong": sum(c for r, c in labelled if not r) / max(1, right.count(False)),
                       "reliability": reliability(right, scores)},
    }


def measure_warnings(model: str, cache: str, grid_dir: str, clips: int) -> dict:
    from lipread.data.cache import CacheReader
    from lipread.data.perturb import PERTURBATIONS
    from lipread.errors import LipreadError
    from lipread.pipelines.transcribe import Transcriber

    val = [c for c in CacheReader(cache).clips if c.split == "val"][:clips]
    transcriber = Transcriber(model)
    kinds: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for info in val:
            stem = info.id.split("/")[-1]
            src = str(Path(grid_dir) / "s1" / f"{stem}.mp4")
            variants = {"normal": src}
            for name, make in PERTURBATIONS.items():
                variants[name] = make(src, os.path.join(tmp, f"{stem}_{name}.mp4"))
            for name, p in variants.items():
                row = kinds.setdefault(name, {"files": 0, "warned": 0, "no_face": 0, "reasons": {}, "confidence": []})
                row["files"] += 1
                try:
                    t = transcriber.transcribe(p)
                except LipreadError:  # e.g. no face at all in a squeezed frame: an error, not a reading
                    row["no_face"] += 1
                    continue
                row["confidence"].append(t.confidence)
                row["warned"] += bool(t.warnings)
                for w in t.warnings:
                    key = re.sub(r"\s*[\d.]+.*", "", w.split(":")[0].split(" (")[0])  # the reason without its values
                    row["reasons"][key] = row["reasons"].get(key, 0) + 1
    transcriber.close()
    for row in kinds.values():
        conf = [c for c in row.pop("confidence") if c is not None]
        row["mean_confidence"] = round(sum(conf) / len(conf), 4) if conf else None
    return kinds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("cache")
    ap.add_argument("grid_dir")
    ap.add_argument("--out", required=True)
    ap.add_argument("--clips", type=int, default=20, help="validation clips for the warning check")
    ap.add_argument("--skip-warnings", action="store_true", help="only word times and confidence")
    ap.add_argument("--modality", default="auto", choices=["auto", "av", "video", "audio"],
                    help="what an audio-visual model reads for the word times and confidence (auto: av)")
    a = ap.parse_args()
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    from _machine import machine_info

    t0 = time.time()
    out = {"model": a.model, "cache": a.cache, "machine": machine_info()}
    out.update(measure_decoding(a.model, a.cache, a.modality))
    if not a.skip_warnings:
        out["warnings"] = measure_warnings(a.model, a.cache, a.grid_dir, a.clips)
    out["seconds"] = round(time.time() - t0, 1)
    Path(a.out).write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps({k: v for k, v in out.items() if k != "machine"}, indent=2))


if __name__ == "__main__":
    main()
