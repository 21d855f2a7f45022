"""Peers side by side, each pair measured in one run on the same inputs and the same cores.

1. CTC beam search: ``lipread.decoding`` (flashlight-text) vs ``pyctcdecode`` on the same log-probs:
   the real outputs of the zoo model ``lipnet-grid-s1`` on the GRID clips it held out (the val split
   of ``lipread prepare grid --val-fraction 0.1 --split-seed 0``). Beams 10, 20 (the zoo model's) and 100,
   (a) no LM, no lexicon, (b) the GRID word trigram with the GRID words (ours: lexicon-constrained;
   pyctcdecode: its ``unigrams`` list with the same KenLM file, which needs the ``kenlm`` Python module;
   skipped and recorded when it is missing). Both run in this one process on one core
   (``torch.set_num_threads(1)``), in alternating rounds; utterances/s and WER of each, and the ratio.
   pyctcdecode runs with its default pruning (``beam_prune_logp=-10``, ``token_min_logp=-5``); ours with
   the settings that ship (``BeamOptions``' defaults: the same pruning, see ``lipread.decoding.beam``) and,
   to show what each part gives, without blank-frame merging, without token pruning, and with the settings
   that shipped before (``ours_variants``). Ours is timed decoding one utterance per call and decoding
   batches of 8 (as ``lipread evaluate`` does; the peer's batch call, ``decode_batch`` without a pool, is
   its one-by-one loop). Without an LM ours sums the paths of a labelling (``log_add=True``) as pyctcdecode
   does; best-path merging (``log_add=False``, the default) gives greedy decoding's text there.
   pyctcdecode's LM weight is its best of a small grid on these utterances (its advantage, stated).
   ``beam_search.headline``: the zoo model's decoder (beam 20, lexicon, LM) against the peer.
2. Mouth cropping: our front end (mediapipe FaceMesh in tracking mode, missed frames filled, landmarks
   smoothed ±6 frames, similarity-aligned crops; also with landmarks on every other frame, as files with
   sound are read) vs FaceMesh with a fixed box around each frame's lip centre, the way most lipreading
   repositories crop: per-frame detection (``static_image_mode=True``) and, the fair peer, FaceMesh in
   tracking mode as ours runs it; same clips, one process: frames/s and crop jitter (mean frame-to-frame
   movement of the crop centre in source pixels; GRID speakers sit still), measured alike for all.

    pip install "lipread[bench]"   # pyctcdecode (and kenlm for (b))
    nice python benchmarks/peers.py --out benchmarks/results/peers.json
    nice python benchmarks/peers.py --only beam --log-probs-cache ~/runs/peers-logprobs.npz  # merges into the file
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
    from lipread.frontend import FrontEnd, FrontEndConfig
    from lipread.models.checkpoint import load_model
    from lipread.models.zoo import resolve_model

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


def cached_log_probs(grid: Path, limit: int, cache: Path | None) -> tuple[list[np.ndarray], list[str], dict]:
    """:func:`grid_val_log_probs`, read from / written to ``cache`` when one is given: an ``.npz`` of plain
    arrays (read with ``allow_pickle=False``): the log-probs, the references and the notes as JSON. A cache
    made for another number of clips is remade."""
    if cache is not None and cache.exists():
        with np.load(cache, allow_pickle=False) as z:
            info = json.loads(str(z["info"]))
            if info.get("asked") == limit:
                lps = [z[f"lp{i}"] for i in range(info["clips"])]
                refs = [str(r) for r in z["refs"]]
                info["log_probs_from_cache"] = cache.name
                return lps, refs, info
        print(f"{cache} was made for {info.get('asked')} clips, {limit} asked for: remaking it")
    t = time.perf_counter()
    lps, refs, info = grid_val_log_probs(grid, limit)
    info["seconds_to_make_log_probs"] = round(time.perf_counter() - t, 1)
    info["asked"] = limit
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.savez(cache, refs=np.array(refs), info=np.array(json.dumps(info)),
                 **{f"lp{i}": lp for i, lp in enumerate(lps)})
    return lps, refs, info


OURS_VARIANTS = {  # on top of BeamOptions' defaults (the settings that ship)
    "shipped": {},
    "no_blank_skip": {"blank_skip": None},
    "no_token_pruning": {"token_min_logp": None},
    "threshold_only": {"token_min_logp": None, "blank_skip": None},  # the peer's beam threshold, nothing more
    "before": {"beam_threshold": 50.0, "token_min_logp": None, "blank_skip": None},  # the defaults until now
}
PEER_PRUNING = {"beam_prune_logp": -10.0, "token_min_logp": -5.0}  # pyctcdecode 0.5's defaults
ZOO_DECODER = {"beam_size": 20, "lexicon": "grid", "lm": "grid", "lm_weight": 1.0, "word_score": 0.0}
BATCH = 8


def beam_search(log_probs: list[np.ndarray], refs: list[str], repeats: int, beams=(10, 20, 100)) -> dict:
    from pyctcdecode import build_ctcdecoder

    from lipread.decoding import build_decoder
    from lipread.decoding.beam import BeamOptions
    from lipread.decoding.lm import grid_lm_files
    from lipread.text import Tokenizer
    from lipread.text.grid import grid_words

    tok = Tokenizer.from_name("grid")
    labels = [""] + list(tok.symbols)  # index 0 = CTC blank ("" in pyctcdecode), then " a b ..."
    arpa, _ = grid_lm_files()
    items = [torch.from_numpy(lp) for lp in log_probs]
    rows: dict = {}
    try:
        import kenlm  # noqa: F401

        have_kenlm = True
    except ImportError:
        have_kenlm = False
    for beam in beams:
        # (a) no LM, no lexicon
        peer = build_ctcdecoder(labels)
        ours = {k: build_decoder("beam", tok, beam_size=beam, log_add=True, **v) for k, v in OURS_VARIANTS.items()}
        row = compare(ours, lambda x, d=peer, b=beam: d.decode(x.numpy(), beam_width=b, **PEER_PRUNING), items, refs,
                      repeats)
        row["ours_settings"] = {"log_add": True}
        rows[f"beam{beam}_no_lm"] = row
        # (b) GRID word trigram + the GRID words
        if not have_kenlm:
            rows[f"beam{beam}_grid_lm_lexicon"] = {"skipped": "pyctcdecode needs the kenlm module for an LM"}
            continue
        ours = {k: build_decoder("beam", tok, **{**ZOO_DECODER, "beam_size": beam}, **v)
                for k, v in OURS_VARIANTS.items()}
        alpha, peer = best_peer_alpha(labels, arpa, sorted(grid_words()), beam, items, refs)
        row = compare(ours, lambda x, d=peer, b=beam: d.decode(x.numpy(), beam_width=b, **PEER_PRUNING), items, refs,
                      repeats)
        row["pyctcdecode_settings"] = {"alpha": alpha, "beta": 1.0, "unigrams": "GRID words (51)",
                                       "alpha_chosen_from": [0.5, 1.0, 2.0]}
        row["ours_settings"] = {k: v for k, v in ZOO_DECODER.items() if k != "beam_size"}
        rows[f"beam{beam}_grid_lm_lexicon"] = row
    defaults = BeamOptions()
    rows["ours_variants"] = OURS_VARIANTS
    rows["ours_shipped_pruning"] = {"beam_threshold": defaults.beam_threshold, "token_min_logp": defaults.token_min_logp,
                                    "blank_skip": defaults.blank_skip, "beam_size_token": defaults.beam_size_token}
    rows["pyctcdecode_pruning"] = PEER_PRUNING
    rows["frames"] = frame_counts(log_probs, defaults)
    return rows


def best_peer_alpha(labels, arpa, unigrams, beam, items, refs):
    """pyctcdecode with the GRID LM at its best LM weight of a small grid on these utterances."""
    from pyctcdecode import build_ctcdecoder

    best = None
    for alpha in (0.5, 1.0, 2.0):
        peer = build_ctcdecoder(labels, kenlm_model_path=str(arpa), unigrams=unigrams, alpha=alpha, beta=1.0)
        hyps = [peer.decode(x.numpy(), beam_width=beam, **PEER_PRUNING) for x in items[: len(refs)]]
        wer = score(refs, hyps).wer
        if best is None or wer < best[0]:
            best = (wer, alpha, peer)
    return best[1], best[2]


def frame_counts(log_probs: list[np.ndarray], options) -> dict:
    """How many frames the shipped pruning leaves: frames flashlight decodes after blank-frame merging, and
    frames where more than the best token passes ``token_min_logp``."""
    from lipread.decoding.beam import blank_runs

    total = sum(len(lp) for lp in log_probs)
    dropped = sum(int(blank_runs(lp, options.blank_skip).sum()) for lp in log_probs)
    busy = sum(int(((lp >= options.token_min_logp).sum(1) > 1).sum()) for lp in log_probs)
    return {"frames": total, "decoded_after_blank_merging": total - dropped,
            "frames_with_more_than_one_token_at_min_logp": busy}


def compare(ours: dict, peer, items, refs, repeats) -> dict:
    """Utterances/s of the peer and of each of our variants, timed in alternating rounds (each round
    decodes every distinct utterance once with each decoder, in turn) so that a change of machine load
    during the run falls on all of them alike; WER on the distinct utterances. Ours is timed one utterance
    per call (``ours_<variant>``) and, for the shipped settings, on padded batches of 8
    (``ours_shipped_batch8``; the batches are made before the clock starts, as a model's output is)."""
    n = len(refs)
    shipped = ours["shipped"]
    batches = []
    for i in range(0, n, BATCH):
        chunk = items[i : i + BATCH]
        batches.append((torch.nn.utils.rnn.pad_sequence(chunk, batch_first=True), torch.tensor([len(x) for x in chunk])))
    decoders = {"pyctcdecode": lambda: [peer(x) for x in items[:n]]}
    for k, d in ours.items():
        decoders[f"ours_{k}"] = lambda d=d: [d.decode(x[None])[0][0].text for x in items[:n]]
    decoders["ours_shipped_batch8"] = lambda: [h[0].text for x, lens in batches for h in shipped.decode(x, lens)]
    seconds = dict.fromkeys(decoders, 0.0)
    hyps: dict[str, list[str]] = {}
    for run in decoders.values():
        run()  # warm up
    load = [__import__("os").getloadavg()[0]]
    for _ in range(repeats):
        for name, run in decoders.items():
            t = time.perf_counter()
            hyps[name] = run()
            seconds[name] += time.perf_counter() - t
    load.append(__import__("os").getloadavg()[0])
    row = {"utterances": n, "rounds": repeats, "load_average_1m": load}
    for name in decoders:
        row[f"{name}_utt_per_s"] = round(n * repeats / seconds[name], 1)
        row[f"{name}_wer"] = round(score(refs, hyps[name]).wer, 4)
    for name in decoders:
        if name != "pyctcdecode":
            row[f"speedup_{name[len('ours_'):]}"] = round(seconds["pyctcdecode"] / seconds[name], 2)
    return row


def headline(log_probs: list[np.ndarray], refs: list[str], repeats: int, machine: dict) -> dict:
    """The zoo model's decoder (beam 20, GRID lexicon + trigram, the shipped pruning) against pyctcdecode at
    the same beam with the same LM and its default pruning, timed in many short alternating rounds."""
    from lipread.decoding import build_decoder
    from lipread.decoding.beam import BeamOptions
    from lipread.decoding.lm import grid_lm_files
    from lipread.text import Tokenizer
    from lipread.text.grid import grid_words

    tok = Tokenizer.from_name("grid")
    labels = [""] + list(tok.symbols)
    arpa, _ = grid_lm_files()
    items = [torch.from_numpy(lp) for lp in log_probs]
    beam = ZOO_DECODER["beam_size"]
    ours = build_decoder("beam", tok, **ZOO_DECODER)
    alpha, peer = best_peer_alpha(labels, arpa, sorted(grid_words()), beam, items, refs)
    row = compare({"shipped": ours}, lambda x: peer.decode(x.numpy(), beam_width=beam, **PEER_PRUNING), items, refs,
                  repeats)
    defaults = BeamOptions()
    return {
        "speedup": row["speedup_shipped_batch8"],
        "speedup_one_utterance_per_call": row["speedup_shipped"],
        "ours_utt_per_s": row["ours_shipped_batch8_utt_per_s"],
        "ours_one_utterance_per_call_utt_per_s": row["ours_shipped_utt_per_s"],
        "pyctcdecode_utt_per_s": row["pyctcdecode_utt_per_s"],
        "wer_ours": row["ours_shipped_batch8_wer"],
        "wer_pyctcdecode": row["pyctcdecode_wer"],
        "beam_size": beam,
        "lm": "pipelines/grid/grid_3gram.arpa (GRID word trigram); ours with the GRID lexicon, pyctcdecode with the "
              "GRID words as its unigrams",
        "ours_settings": {**{k: v for k, v in ZOO_DECODER.items() if k != "beam_size"},
                          "beam_threshold": defaults.beam_threshold, "token_min_logp": defaults.token_min_logp,
                          "blank_skip": defaults.blank_skip, "beam_size_token": defaults.beam_size_token,
                          "log_add": defaults.log_add, "calls": f"decode() on padded batches of {BATCH}"},
        "pyctcdecode_settings": {"alpha": alpha, "beta": 1.0, "alpha_chosen_from": [0.5, 1.0, 2.0], **PEER_PRUNING,
                                 "calls": "decode() per utterance (decode_batch without a pool is the same loop)"},
        "utterances": row["utterances"],
        "rounds": row["rounds"],
        "load_average_1m": row["load_average_1m"],
        "machine": machine,
        "notes": "one core (torch.set_num_threads(1), OMP_NUM_THREADS=1), the decoders alternating round by round "
                 "on the same log-probs (lipnet-grid-s1 on the 90 held-out GRID clips, without flip averaging); "
                 "ours returns word times and confidences too, pyctcdecode's decode() the text only",
    }


# ---- 2. mouth cropping ----------------------------------------------------------------------------
def crop_centres(transforms: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Source-pixel position of the crop centre per frame, from (T, 2, 3) source->crop transforms."""
    c = np.array([size[0] / 2.0, size[1] / 2.0])
    a, b = transforms[:, :, :2], transforms[:, :, 2]
    return np.stack([np.linalg.solve(a[t], c - b[t]) for t in range(len(transforms))])


def jitter(centres: np.ndarray) -> float:
    return float(np.linalg.norm(np.diff(centres, axis=0), axis=1).mean())


class PerFrameFaceMesh:
    """Per-frame FaceMesh (static_image_mode=True; ``tracking``: video mode, which follows the face from frame
    to frame and detects only when it is lost) and a fixed box around each frame's lip centre."""

    def __init__(self, size: tuple[int, int], tracking: bool = False):
        import mediapipe as mp

        from lipread.face.geometry import face_geometry

        geo = face_geometry()
        self.lips = geo.mediapipe_indices[geo.lips]
        self.mp = mp
        self.tracking = tracking
        self.mesh = self._new()
        self.size = size

    def _new(self):
        return self.mp.solutions.face_mesh.FaceMesh(static_image_mode=not self.tracking, max_num_faces=1,
                                                    refine_landmarks=False, min_detection_confidence=0.5,
                                                    min_tracking_confidence=0.5)

    def __call__(self, path: Path) -> tuple[int, np.ndarray]:
        from lipread.io.video import read_video

        frames = read_video(path).frames
        if self.tracking:  # each video starts afresh
            self.mesh.reset()
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
    """Our front end; the crop centre per frame from its source->crop transforms. ``every``: landmarks on every
    this-many-th frame (2: as ``lipread transcribe`` reads files with sound)."""

    def __init__(self, preset: str, every: int = 1):
        from lipread.face.geometry import PRESETS
        from lipread.frontend import FrontEnd, FrontEndConfig

        self.fe = FrontEnd(FrontEndConfig(preset=preset, prefetch=False, landmark_every=every))
        self.size = PRESETS[preset].size

    def __call__(self, path: Path) -> tuple[int, np.ndarray]:
        r = self.fe.process(path)
        return len(r.mouth), crop_centres(r.transforms, self.size)


def cropping(paths: list[Path]) -> dict:
    """Both croppers on the same clips, alternating clip by clip (load changes fall on both alike)."""
    from lipread.face.geometry import PRESETS

    preset = "lipnet"
    size = PRESETS[preset].size
    runners = {"ours": Tracked(preset), "ours_every_2": Tracked(preset, every=2),
               "per_frame_facemesh": PerFrameFaceMesh(size), "tracking_facemesh": PerFrameFaceMesh(size, tracking=True)}
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
        "peers": {k: {"frames_per_s": round(rate[k], 1), "jitter_px": round(j[k], 3),
                      "ours_speedup": round(rate["ours"] / rate[k], 2)} for k in runners},
        "against_fair_peer": {"ours_speedup": round(rate["ours"] / rate["tracking_facemesh"], 2),
                              "ours_every_2_speedup": round(rate["ours_every_2"] / rate["tracking_facemesh"], 2),
                              "jitter_ratio": round(j["tracking_facemesh"] / j["ours"], 2) if j["ours"] > 0 else None},
        "fair_peer": "tracking_facemesh: FaceMesh in video (tracking) mode, as ours runs it, without our filling, "
                     "smoothing and alignment; per_frame_facemesh detects on every frame",
        "notes": "all decode the video themselves (PyAV, 25 fps), alternating clip by clip in one process; ours "
                 "without the decode-ahead thread (prefetch=False) so that all use one core; jitter = mean "
                 "|centre(t) - centre(t-1)| in source pixels of the 360x288 GRID frames, per clip, averaged "
                 "(the same for every runner)",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--grid", type=Path, default=GRID)
    parser.add_argument("--utterances", type=int, default=90, help="held-out GRID clips decoded")
    parser.add_argument("--repeats", type=int, default=3, help="times each utterance is decoded (timing)")
    parser.add_argument("--headline-repeats", type=int, default=20, help="rounds for the headline's timing")
    parser.add_argument("--crop-clips", type=int, default=10)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "peers.json")
    parser.add_argument("--only", choices=["beam", "crop"], default=None,
                        help="run one part; the other part already in --out is kept")
    parser.add_argument("--log-probs-cache", type=Path, default=None,
                        help="an .npz to keep the model's log-probs in between runs (made when missing)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    packages = ("torch", "numpy", "mediapipe", "av", "flashlight-text", "pyctcdecode", "kenlm")
    result = json.loads(args.out.read_text()) if args.only and args.out.exists() else {}
    if args.only != "beam":
        result["machine"] = machine_info(packages)
    if args.only in (None, "beam"):
        machine = machine_info(packages)
        lps, refs, info = cached_log_probs(args.grid, args.utterances, args.log_probs_cache)
        beam = {"inputs": info, "machine": machine}
        beam["headline"] = headline(lps, refs, args.headline_repeats, machine)
        print(json.dumps(beam["headline"], indent=1))
        beam.update(beam_search(lps, refs, args.repeats))
        machine["load_average_1m_end"] = __import__("os").getloadavg()[0]
        result["beam_search"] = beam
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
