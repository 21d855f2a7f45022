"""Peers side by side, each pair measured in one run on the same inputs and the same cores.

1. CTC beam search: ``lipread.decoding`` (flashlight-text) vs ``pyctcdecode`` on the same log-probs:
   the real outputs of the zoo model ``lipnet-grid-s1`` on the GRID clips it held out (the val split
   of ``lipread prepare grid --val-fraction 0.1 --split-seed 0``). Beam 10 and 100, (a) no LM, no
   lexicon, (b) the GRID word trigram with the GRID words (ours: lexicon-constrained; pyctcdecode:
   its ``unigrams`` list with the same KenLM file, which needs the ``kenlm`` Python module; skipped
   and recorded when it is missing). Both decode one utterance after another in this one process
   (one core each; ``torch.set_num_threads(1)``); utterances/s and WER of each, and the ratio. Ours runs
   with flashlight's default pruning and with pruning like pyctcdecode's defaults (see ``ours_variants``).
   pyctcdecode's LM weight is its best of a small grid on these utterances (its advantage, stated).
2. Mouth cropping: our front end (mediapipe FaceMesh in tracking mode, missed frames filled, landmarks
   smoothed ±6 frames, similarity-aligned crops) vs per-frame FaceMesh detection
   (``static_image_mode=True``, every frame on its own, a fixed box around each frame's lip centre, the
   way most lipreading repositories crop), same clips, same decoder, one process: frames/s and crop
   jitter (mean frame-to-frame movement of the crop centre in source pixels; GRID speakers sit still).

    pip install "lipread[bench]"   # pyctcdecode (and kenlm for (b))
    nice python benchmarks/peers.py --out benchmarks/results/peers.json
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
from _machine import machine_info

from lipread.metrics import score

REPO = Path(__file__).resolve().parents[1]
GRID = REPO.parent / "shared" / "data" / "grid"


# ---- 1. CTC beam search ---------------------------------------------------------------------------
def grid_val_log_probs(grid: Path, limit: int) -> tuple[list[np.ndarray], list[str], dict]:
    """(T, V) log-probs of lipnet-grid-s1 on the held-out GRID clips, their references, timing notes."""
    from lipread.data import read_corpus
    from lipread.models.checkpoint import load_model
    from lipread.models.zoo import resolve_model
    from lipread.pipelines.frontend import FrontEnd, FrontEndConfig

    entries = [e for e in read_corpus("grid", grid, val_fraction=0.1, seed=0) if e.split == "val"]
    entries = sorted(entries, key=lambda e: e.record.id)[:limit]
    model, config = load_model(resolve_model("lipnet-grid-s1"))
    pre = config["preprocess"]
    fe = FrontEnd(FrontEndConfig(preset=pre["preset"], gray=pre.get("gray", False)))
    out, refs = [], []
    with torch.no_grad():
        for e in entries:
            mouth = fe.process(e.record.video).mouth  # (T, H, W, C) uint8
            x = torch.from_numpy(mouth).permute(3, 0, 1, 2)[None].float() / 255.0
            lp, n = model(x, torch.tensor([x.shape[2]]))
            out.append(lp[0, : int(n[0])].float().numpy())
            refs.append(e.record.text)
    return out, refs, {"clips": len(out), "model": "lipnet-grid-s1", "split": "GRID s1 val (val_fraction 0.1, seed 0)"}


def beam_search(log_probs: list[np.ndarray], refs: list[str], repeats: int) -> dict:
    from pyctcdecode import build_ctcdecoder

    from lipread.decoding import build_decoder
    from lipread.decoding.lm import grid_lm_files
    from lipread.text import Tokenizer
    from lipread.text.grid import grid_words

    tok = Tokenizer.from_name("grid")
    labels = [""] + list(tok.symbols)  # index 0 = CTC blank ("" in pyctcdecode), then " a b ..."
    arpa, _ = grid_lm_files()
    items = [torch.from_numpy(lp) for lp in log_probs]
    rows = {}
    try:
        import kenlm  # noqa: F401

        have_kenlm = True
    except ImportError:
        have_kenlm = False
    ours_variants = {  # flashlight's defaults, and pruned as pyctcdecode prunes (beam_prune_logp -10: a
        # threshold of 10 below the best; token_min_logp -5: few tokens per frame, here the best 8 or 4)
        "default": {"beam_threshold": 50.0},
        "pruned": {"beam_threshold": 10.0, "beam_size_token": 8},
        "pruned4": {"beam_threshold": 8.0, "beam_size_token": 4},
    }
    for beam in (10, 100):
        # (a) no LM, no lexicon
        peer = build_ctcdecoder(labels)
        ours = {k: build_decoder("beam", tok, beam_size=beam, **v) for k, v in ours_variants.items()}
        rows[f"beam{beam}_no_lm"] = compare(ours, lambda x, d=peer, b=beam: d.decode(x.numpy(), beam_width=b),
                                            items, refs, repeats)
        # (b) GRID word trigram + the GRID words
        if not have_kenlm:
            rows[f"beam{beam}_grid_lm_lexicon"] = {"skipped": "pyctcdecode needs the kenlm module for an LM"}
            continue
        ours = {k: build_decoder("beam", tok, beam_size=beam, lexicon="grid", lm="grid", lm_weight=1.0, **v)
                for k, v in ours_variants.items()}
        best = None
        for alpha in (0.5, 1.0, 2.0):  # the peer's LM weight: its best on these utterances
            peer = build_ctcdecoder(labels, kenlm_model_path=str(arpa), unigrams=sorted(grid_words()), alpha=alpha,
                                    beta=1.0)
            hyps = [peer.decode(x.numpy(), beam_width=beam) for x in items[: len(refs)]]
            wer = score(refs, hyps).wer
            if best is None or wer < best[0]:
                best = (wer, alpha, peer)
        row = compare(ours, lambda x, d=best[2], b=beam: d.decode(x.numpy(), beam_width=b), items, refs, repeats)
        row["pyctcdecode_settings"] = {"alpha": best[1], "beta": 1.0, "unigrams": "GRID words (51)",
                                       "alpha_chosen_from": [0.5, 1.0, 2.0]}
        row["ours_settings"] = {"lexicon": "grid", "lm": "grid_3gram.arpa", "lm_weight": 1.0}
        rows[f"beam{beam}_grid_lm_lexicon"] = row
    rows["ours_variants"] = ours_variants
    return rows


def compare(ours: dict, peer, items, refs, repeats) -> dict:
    """Utterances/s of the peer and of each of our variants, timed in alternating rounds (each round
    decodes every distinct utterance once with each decoder) so that a change of machine load during
    the run falls on all of them alike; WER on the distinct utterances."""
    n = len(refs)
    decoders = {"pyctcdecode": peer, **{f"ours_{k}": (lambda x, d=d: d.decode(x[None])[0][0].text)
                                        for k, d in ours.items()}}
    seconds = dict.fromkeys(decoders, 0.0)
    hyps: dict[str, list[str]] = {}
    for fn in decoders.values():
        fn(items[0])  # warm up
    for _ in range(repeats):
        for name, fn in decoders.items():
            t = time.perf_counter()
            out = [fn(x) for x in items[:n]]
            seconds[name] += time.perf_counter() - t
            hyps[name] = out
    row = {"utterances": n, "rounds": repeats}
    for name in decoders:
        row[f"{name}_utt_per_s"] = round(n * repeats / seconds[name], 1)
        row[f"{name}_wer"] = round(score(refs, hyps[name]).wer, 4)
    for k in ours:
        row[f"speedup_{k}"] = round(seconds["pyctcdecode"] / seconds[f"ours_{k}"], 2)
    return row


# ---- 2. mouth cropping ----------------------------------------------------------------------------
def crop_centres(transforms: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Source-pixel position of the crop centre per frame, from (T, 2, 3) source->crop transforms."""
    c = np.array([size[0] / 2.0, size[1] / 2.0])
    a, b = transforms[:, :, :2], transforms[:, :, 2]
    return np.stack([np.linalg.solve(a[t], c - b[t]) for t in range(len(transforms))])


def jitter(centres: np.ndarray) -> float:
    return float(np.linalg.norm(np.diff(centres, axis=0), axis=1).mean())


class PerFrameFaceMesh:
    """Per-frame FaceMesh (static_image_mode=True) and a fixed box around each frame's lip centre."""

    def __init__(self, size: tuple[int, int]):
        import mediapipe as mp

        from lipread.face.geometry import face_geometry

        geo = face_geometry()
        self.lips = geo.mediapipe_indices[geo.lips]
        self.mesh = mp.solutions.face_mesh.FaceMesh(static_image_mode=True, max_num_faces=1, refine_landmarks=False,
                                                    min_detection_confidence=0.5)
        self.size = size

    def __call__(self, path: Path) -> tuple[int, np.ndarray]:
        from lipread.io.video import read_video

        frames = read_video(path).frames
        w, h = self.size
        centres, crops, last = [], [], None
        for img in frames:
            res = self.mesh.process(img)
            if res.multi_face_landmarks:
                pts = res.multi_face_landmarks[0].landmark
                last = np.array([[pts[i].x * img.shape[1], pts[i].y * img.shape[0]] for i in self.lips]).mean(0)
            if last is None:
                continue  # no face yet: nothing to crop
            cx, cy = int(round(last[0])), int(round(last[1]))
            y0, x0 = max(0, cy - h // 2), max(0, cx - w // 2)
            crops.append(img[y0 : y0 + h, x0 : x0 + w])
            centres.append(last)
        return len(frames), np.array(centres)


class Tracked:
    """Our front end; the crop centre per frame from its source->crop transforms."""

    def __init__(self, preset: str):
        from lipread.face.geometry import PRESETS
        from lipread.pipelines.frontend import FrontEnd, FrontEndConfig

        self.fe = FrontEnd(FrontEndConfig(preset=preset, prefetch=False))
        self.size = PRESETS[preset].size

    def __call__(self, path: Path) -> tuple[int, np.ndarray]:
        r = self.fe.process(path)
        return len(r.mouth), crop_centres(r.transforms, self.size)


def cropping(paths: list[Path]) -> dict:
    """Both croppers on the same clips, alternating clip by clip (load changes fall on both alike)."""
    from lipread.face.geometry import PRESETS

    preset = "lipnet"
    size = PRESETS[preset].size
    runners = {"ours": Tracked(preset), "per_frame_facemesh": PerFrameFaceMesh(size)}
    for fn in runners.values():
        fn(paths[0])  # load the models and warm up outside the timing
    frames = dict.fromkeys(runners, 0)
    seconds = dict.fromkeys(runners, 0.0)
    jitters: dict[str, list[float]] = {k: [] for k in runners}
    for path in paths:
        for name, fn in runners.items():
            t = time.perf_counter()
            n, centres = fn(path)
            seconds[name] += time.perf_counter() - t
            frames[name] += n
            if len(centres) > 1:
                jitters[name].append(jitter(centres))
    rate = {k: frames[k] / seconds[k] for k in runners}
    j = {k: float(np.mean(v)) for k, v in jitters.items()}
    return {
        "clips": len(paths), "frames": frames["ours"], "crop": f"{preset} {size[0]}x{size[1]}",
        "ours_frames_per_s": round(rate["ours"], 1), "per_frame_facemesh_frames_per_s": round(rate["per_frame_facemesh"], 1),
        "speedup": round(rate["ours"] / rate["per_frame_facemesh"], 2),
        "ours_jitter_px": round(j["ours"], 3), "per_frame_facemesh_jitter_px": round(j["per_frame_facemesh"], 3),
        "jitter_ratio": round(j["per_frame_facemesh"] / j["ours"], 2) if j["ours"] > 0 else None,
        "notes": "both decode the video themselves (PyAV, 25 fps), alternating clip by clip in one process; ours "
                 "without the decode-ahead thread (prefetch=False) so that both use one core; jitter = mean "
                 "|centre(t) - centre(t-1)| in source pixels of the 360x288 GRID frames, per clip, averaged",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--grid", type=Path, default=GRID)
    parser.add_argument("--utterances", type=int, default=90, help="held-out GRID clips decoded")
    parser.add_argument("--repeats", type=int, default=3, help="times each utterance is decoded (timing)")
    parser.add_argument("--crop-clips", type=int, default=10)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "peers.json")
    parser.add_argument("--only", choices=["beam", "crop"], default=None)
    args = parser.parse_args()
    torch.set_num_threads(1)
    result = {"machine": machine_info(("torch", "numpy", "mediapipe", "av", "flashlight-text", "pyctcdecode",
                                       "kenlm"))}
    if args.only in (None, "beam"):
        t = time.perf_counter()
        lps, refs, info = grid_val_log_probs(args.grid, args.utterances)
        info["seconds_to_make_log_probs"] = round(time.perf_counter() - t, 1)
        result["beam_search"] = {"inputs": info, **beam_search(lps, refs, args.repeats)}
        print(json.dumps(result["beam_search"], indent=1))
    if args.only in (None, "crop"):
        clips = sorted((args.grid / "s1").glob("*.mp4"))[: args.crop_clips]
        result["cropping"] = cropping(clips)
        print(json.dumps(result["cropping"], indent=1))
    result["machine"]["load_average_1m_end"] = __import__("os").getloadavg()[0]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
