"""Issue 25: what limits the reading of far faces (the ``wide_720_40px`` shots of ``long_video.py``).

    python benchmarks/far_faces.py                       # dev set, default model, every variant
    python benchmarks/far_faces.py --variants shipped,mesh_from_full_size --model PATH

The 20 wide shots whose face is about 40 px wide (built by ``benchmarks/long_video.py`` into its work folder;
``--set dev`` by default: choose there, never on the report set) are read lips only with one loaded model,
each time changing one thing of the front end or of the reading:

* ``shipped``: as ``lipread transcribe`` reads them;
* ``landmarks_every_frame``: landmarks on every frame (what ships for files with sound: every other frame);
* ``smooth_4`` / ``smooth_9``: landmark smoothing over +-4 / +-9 frames instead of +-6;
* ``cubic_crops``: the mouth crops cut with bicubic instead of bilinear interpolation (sharper when enlarged);
* ``mesh_from_full_size``: the landmarks of the same clip at its own size (FaceMesh on the 360x288 GRID
  video), mapped into the wide frame: the crops a perfect landmark model would give; if this reads no
  better than ``shipped``, the landmarks are not what limits, the pixels are;
* ``zoom_views``: the lips read as the mean of the Watch's states over the clip at three zooms (0.94, 1, 1.06),
  each with its mirror image (test-time augmentation beyond the flip that ships).

Writes ``benchmarks/results/far_faces.json``: per variant, WER/CER and the errors, beside the same clips read at
their own size (``per_clip``, from ``long_video.py``'s cache when there) and the machine. Monkeypatches the
variants in this process only; nothing here is a product setting.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import machine_info  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
GRID = Path("/work/shared/data/grid")
WORK = Path("~/lipread-bench/long_video").expanduser()
OUT = ROOT / "benchmarks" / "results" / "far_faces.json"
VARIANTS = ("shipped", "landmarks_every_frame", "smooth_4", "smooth_9", "cubic_crops", "mesh_from_full_size",
            "zoom_views")


def files(work: Path, set_name: str) -> list[tuple[Path, dict]]:
    folder = work / set_name / "wide_720_40px"
    found = [(folder / Path(json.loads(j.read_text())["file"]).name, json.loads(j.read_text()))
             for j in sorted(folder.glob("*.json"))]
    if not found:
        raise SystemExit(f"error: no wide shots in {folder}: build them with `python benchmarks/long_video.py "
                         f"--set {set_name} --build-only`")
    return found


def full_size_landmarks(meta: dict, grid: Path) -> list[list[np.ndarray]]:
    """Per frame of the wide shot, FaceMesh's points found on the clip at its own size, moved to where
    ``long_video.place`` put the scaled clip in the wide frame."""
    from lipread.face.backends import create_backend
    from lipread.io.video import read_video

    frames = read_video(grid / f"{meta['id']}.mp4").frames
    backend = create_backend("mediapipe")
    try:
        found = backend.detect(frames)
    finally:
        backend.close()
    h, w = frames.shape[1:3]
    width, height = meta["size"]
    nw, nh = round(w * meta["scale"]) // 2 * 2, round(h * meta["scale"]) // 2 * 2
    x0, y0 = (width - nw) // 2, (height - nh) // 2
    k = np.array([nw / w, nh / h], np.float32)  # cv2.resize maps pixel centres: x' = (x + 0.5) k - 0.5
    return [[((f + 0.5) * k - 0.5 + np.array([x0, y0], np.float32)).astype(np.float32) for f in faces]
            for faces in found]


class Patches:
    """Installs one variant's change (and undoes it)."""

    def __init__(self, variant: str, transcriber, grid: Path):
        self.variant, self.tr, self.grid = variant, transcriber, grid
        self.undo: list = []
        self.current: dict = {}

    def _set(self, obj, name, value):
        self.undo.append((obj, name, getattr(obj, name)))
        setattr(obj, name, value)

    def install(self) -> None:
        import lipread.frontend as frontend
        import lipread.pipelines.transcribe as transcribe

        v = self.variant
        if v == "landmarks_every_frame":
            self._set(transcribe, "LANDMARK_EVERY", 1)
        elif v.startswith("smooth_"):
            self._set(self.tr.frontend.config, "smooth_radius", int(v.split("_")[1]))
        elif v == "cubic_crops":
            import functools

            import cv2

            self._set(frontend, "warp_crops", functools.partial(frontend.warp_crops, interpolation=cv2.INTER_CUBIC))
        elif v == "mesh_from_full_size":
            current = self.current

            def from_full_size(backend, frames, every, state):
                first = state.get("next", 0)
                state["next"] = first + len(frames)
                return current["landmarks"][first : first + len(frames)]

            self._set(frontend, "detect_every", from_full_size)
        elif v == "zoom_views":
            model = self.tr.loaded.model
            if model is None or not hasattr(model, "encode_video"):
                raise SystemExit("error: zoom_views needs a WLAS model (encode_video)")
            self._set(model, "encode_video", _zoom_views(model.encode_video))
        elif v != "shipped":
            raise SystemExit(f"error: unknown variant {v}")

    def before(self, meta: dict) -> None:
        if self.variant == "mesh_from_full_size":
            self.current["landmarks"] = full_size_landmarks(meta, self.grid)

    def remove(self) -> None:
        for obj, name, value in reversed(self.undo):
            setattr(obj, name, value)
        self.undo.clear()


def _zoom_views(encode_video, zooms=(0.94, 1.06)):
    import torch
    import torch.nn.functional as F

    def zoom(video, z):
        b, c, t, h, w = video.shape
        x = video.permute(0, 2, 1, 3, 4).reshape(b * t, c, h, w)
        theta = torch.tensor([[1 / z, 0, 0], [0, 1 / z, 0]], dtype=x.dtype).expand(b * t, 2, 3)
        y = F.grid_sample(x, F.affine_grid(theta, x.shape, align_corners=False), padding_mode="border",
                          align_corners=False)
        return y.reshape(b, t, c, h, w).permute(0, 2, 1, 3, 4)

    def views(video, lengths, flip_average=False, passes=None):
        if not flip_average or torch.is_grad_enabled():
            return encode_video(video, lengths, flip_average, passes)
        states, lens = encode_video(video, lengths, True, passes)
        others = [encode_video(zoom(video, z), lengths, True)[0] for z in zooms]
        return (states + sum(others)) / (1 + len(others)), lens

    return views


def per_clip_texts(work: Path, model: str, ids: list[str]) -> list[str] | None:
    """The clips at their own size read lips only, from ``long_video.py``'s cache (None when not all there)."""
    path = work / "per_clip" / f"{model}.video.json"
    cache = json.loads(path.read_text()) if path.exists() else {}
    return [cache[i]["text"] for i in ids] if all(i in cache for i in ids) else None


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="wlas-grid-s1")
    ap.add_argument("--set", default="dev", choices=("dev", "report"))
    ap.add_argument("--variants", default=",".join(VARIANTS), help=f"comma-separated, of: {', '.join(VARIANTS)}")
    ap.add_argument("--grid", type=Path, default=GRID)
    ap.add_argument("--work", type=Path, default=WORK)
    ap.add_argument("--out", type=Path, default=OUT)
    a = ap.parse_args(argv)
    from lipread.metrics import score
    from lipread.pipelines.transcribe import Transcriber, load_model

    shots = files(a.work.expanduser(), a.set)
    refs = [m["references"][0] for _, m in shots]
    loaded = load_model(a.model)
    rows = []
    for variant in [v.strip() for v in a.variants.split(",") if v.strip()]:
        tr = Transcriber(loaded, modality="video")
        patches = Patches(variant, tr, a.grid)
        patches.install()
        hyps, t0 = [], time.perf_counter()
        try:
            for path, meta in shots:
                patches.before(meta)
                hyps.append(tr.transcribe(path).text)
        finally:
            patches.remove()
            tr.close()
        s = score(refs, hyps)
        words = sum(len(r.split()) for r in refs)
        rows.append({"variant": variant, "wer": round(s.wer, 4), "cer": round(s.cer, 4),
                     "word_errors": round(s.wer * words), "seconds": round(time.perf_counter() - t0, 1),
                     "errors": [{"reference": r, "hypothesis": h} for r, h in zip(refs, hyps) if r != h]})
        print(f"{variant:24s} WER {100 * s.wer:5.2f}%  ({rows[-1]['word_errors']} of {words} words)", flush=True)
    full = per_clip_texts(a.work.expanduser(), a.model, [m["id"] for _, m in shots])
    out = {"benchmark": "far_faces (issue 25)", "about": (__doc__ or "").split("\n\n")[0], "set": a.set,
           "model": a.model, "files": len(shots), "face_px": shots[0][1].get("face_px"),
           "per_clip_wer": None if full is None else round(score(refs, full).wer, 4),
           "command": " ".join(["far_faces.py", *(argv if argv is not None else sys.argv[1:])]),
           "date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "machine": machine_info(),
           "variants": rows}
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(out, indent=1) + "\n")
    return out


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    main()
