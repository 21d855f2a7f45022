"""Issue 25: how lipread reads real recordings, not 3-s GRID clips: long recordings, wide shots,
two people, no face.

    python benchmarks/long_video.py                        # report set, default model, all conditions
    python benchmarks/long_video.py --set dev               # the tuning set
    python benchmarks/long_video.py --model lipnet-grid-s1 --conditions rec_nosound,rec_short_nosound
    python benchmarks/long_video.py --build-only            # just make the inputs

Inputs (built once into ``--work``, default ``~/lipread-bench/long_video``, then reused; deterministic) from
GRID speaker s1's validation clips (``read_grid`` split "val", sorted by id): ``dev`` = the first 40,
``report`` = the next 40 (tune on dev, quote report). Per set:

* ``recording``: the 40 clips back to back (~2 min), pauses as recorded (whole clips); ``recording_short``:
  the pauses shortened with the alignments (5 frames = 0.2 s kept before each clip's first word and after
  its last; video and audio cut at the same frame boundaries). Each with its sound and as a copy without any
  audio stream (``*_nosound``).
* ``wide_720_half`` / ``wide_1080_075`` / ``wide_720_40px``: 20 clips, each on a grey textured background at
  reduced scale: 1280x720 at 0.5, 1920x1080 at 0.75, 1280x720 with the face ~40 px wide (the face width at
  full size is measured when building: OpenCV Haar face box, median over 5 clips). Sound kept.
* ``two_left`` / ``two_right``: 10 files each, two different clips side by side (720x288), the sound of the one
  on the left (resp. right) only; the reference is the heard clip's sentence.
* ``no_face``: 10 files, a still grey slide with a clip's sound.
* ``offset_-0.2`` / ``offset_+0.2`` / ``offset_+0.5``: 10 clips each whose sound is 0.2 s early, 0.2 s or 0.5 s
  late (the ``offset_*`` conditions read them with lips and sound: WER against the same clips in step, and
  the error of the estimated ``av_offset``).

Each input has a ``.json`` manifest beside it (references; for recordings the sentences' start/end and
first/last word times in the recording).

Conditions (``--conditions``, comma-separated; see ``CONDITIONS``): each transcribes its inputs with one
loaded model (``Transcriber(model, modality=...)``) and scores corpus WER/CER (a failed file is recorded,
counted in ``failed`` and scored as an empty hypothesis). Recordings: one utterance = all 40 sentences
joined; ``wer_per_clip`` = the same 40 clips read one by one with the same model and modality (cached in the
work folder per model, modality, weights and commit). Wide shots: ``wer_per_clip`` = the same 20 clips at their own size, lips only.
Two speakers: ``wer_other`` = WER against the silent one's sentence (high = the heard one was read);
``read_heard`` = files whose text is nearer the heard sentence; ``two_*_video`` reads the lips only (which
face is tracked).
A condition the model cannot read (e.g. av with a lips-only model) is recorded as skipped.

Results merge into ``--out`` (default ``benchmarks/results/long_video.json``): one object per
(condition, model, set), replaced when rerun, each with the command line, git commit and machine.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from fractions import Fraction
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import machine_info  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
GRID = Path("/work/shared/data/grid")
WORK = Path("~/lipread-bench/long_video").expanduser()
OUT = ROOT / "benchmarks" / "results" / "long_video.json"
BUILD_VERSION = 1
"""Bump when the inputs change: a work folder built by another version is rebuilt."""

FPS = 25
SR = 16000
SPF = SR // FPS  # audio samples per video frame (640)
SET_SIZE = 40
PAD_FRAMES = 5  # kept before the first word and after the last word when shortening pauses
WIDE_CLIPS, TWO_PER_SIDE, NO_FACE_CLIPS = 20, 10, 10
FACE_TARGET_PX = 40


@dataclass(frozen=True)
class Condition:
    inputs: str  # input group name
    modality: str  # Transcriber modality
    per_clip: str | None = None  # per-clip comparison: "same" (the recording's modality) or a modality


CONDITIONS: dict[str, Condition] = {
    "rec_sound_av": Condition("recording", "av", "same"),
    "rec_sound_video": Condition("recording", "video", "same"),
    "rec_sound_audio": Condition("recording", "audio", "same"),
    "rec_short_sound_av": Condition("recording_short", "av", "same"),
    "rec_short_sound_video": Condition("recording_short", "video", "same"),
    "rec_nosound": Condition("recording_nosound", "auto", "same"),
    "rec_short_nosound": Condition("recording_short_nosound", "auto", "same"),
    "wide_720_half": Condition("wide_720_half", "video", "video"),
    "wide_1080_075": Condition("wide_1080_075", "video", "video"),
    "wide_720_40px": Condition("wide_720_40px", "video", "video"),
    "two_left": Condition("two_left", "av"),
    "two_right": Condition("two_right", "av"),
    "two_left_video": Condition("two_left", "video"),  # which face the lips are read from (sound not used)
    "two_right_video": Condition("two_right", "video"),
    "no_face": Condition("no_face", "auto"),
    "offset_early_0.2": Condition("offset_-0.2", "av", "same"),
    "offset_late_0.2": Condition("offset_+0.2", "av", "same"),
    "offset_late_0.5": Condition("offset_+0.5", "av", "same"),
}
OFFSETS = (-0.2, 0.2, 0.5)
"""Seconds the sound of the offset inputs is shifted by (positive: late), 10 clips each."""
DEFAULT_CONDITIONS = ("rec_sound_av", "rec_sound_video", "rec_sound_audio", "rec_short_sound_av", "rec_short_sound_video", "rec_nosound",
                      "rec_short_nosound", "wide_720_half",
                      "wide_1080_075", "wide_720_40px", "two_left", "two_right", "two_left_video", "two_right_video",
                      "no_face", "offset_early_0.2", "offset_late_0.2", "offset_late_0.5")


# ----------------------------------------------------------------------------------------------- inputs


def val_records(grid: Path) -> list:
    """GRID validation records (split "val" of ``read_grid``), sorted by id."""
    from lipread.data.corpora.grid import read_grid

    recs = sorted((e.record for e in read_grid(grid) if e.split == "val"), key=lambda r: r.id)
    if len(recs) < 2 * SET_SIZE:
        raise SystemExit(f"error: {grid} has {len(recs)} validation clips; this benchmark needs {2 * SET_SIZE}")
    if any(not r.words for r in recs[: 2 * SET_SIZE]):
        raise SystemExit(f"error: some validation clips under {grid} have no .align file (needed to shorten pauses)")
    return recs


def set_records(grid: Path, name: str) -> list:
    recs = val_records(grid)
    return recs[:SET_SIZE] if name == "dev" else recs[SET_SIZE: 2 * SET_SIZE]


def clip_av(path: str) -> tuple[np.ndarray, np.ndarray]:
    """A clip's frames (T, H, W, 3) at 25 fps and its 16 kHz mono sound, padded/cut to T frames' length."""
    from lipread.io.audio import read_audio
    from lipread.io.video import read_video

    frames = read_video(path).frames
    audio = read_audio(path)
    want = len(frames) * SPF
    return frames, np.pad(audio, (0, max(0, want - len(audio))))[:want].astype(np.float32)


class Writer:
    """An H.264 (+ optional 16 kHz mono AAC) mp4 written frame by frame; audio added per video frame range."""

    def __init__(self, out: Path, size: tuple[int, int], audio: bool, crf: int = 18):
        import av

        self.av = av
        out.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = out.with_name(out.stem + ".part" + out.suffix)
        self.out = out
        self.container = av.open(str(self.tmp), "w")
        self.v = self.container.add_stream("libx264", rate=Fraction(FPS), options={"crf": str(crf), "preset": "fast"})
        self.v.width, self.v.height, self.v.pix_fmt = size[0], size[1], "yuv420p"
        self.a = self.container.add_stream("aac", rate=SR, layout="mono") if audio else None
        self.samples = 0
        self.frames = 0

    def add(self, frames: np.ndarray, audio: np.ndarray | None) -> None:
        for img in frames:
            for packet in self.v.encode(self.av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format="rgb24")):
                self.container.mux(packet)
        self.frames += len(frames)
        if self.a is None:
            return
        assert audio is not None and len(audio) == len(frames) * SPF, "audio must match the frames"
        for i in range(0, len(audio), 1024):
            frame = self.av.AudioFrame.from_ndarray(audio[None, i: i + 1024], format="fltp", layout="mono")
            frame.sample_rate, frame.pts = SR, self.samples
            self.samples += frame.samples
            for packet in self.a.encode(frame):
                self.container.mux(packet)

    def close(self) -> Path:
        for stream in (self.v, self.a):
            if stream is not None:
                for packet in stream.encode():
                    self.container.mux(packet)
        self.container.close()
        self.tmp.replace(self.out)
        return self.out


def speech_frames(rec, n: int) -> tuple[int, int]:
    """First frame of the first word and the frame after the last word's end (alignment times)."""
    first = int(np.floor(rec.words[0].start * FPS + 1e-6))
    last = int(np.ceil(rec.words[-1].end * FPS - 1e-6))
    return max(0, min(first, n)), max(0, min(last, n))


def build_recording(out: Path, recs: list, shorten: bool, sound: bool) -> dict:
    """The clips back to back (or each cut to its words +- PAD_FRAMES); the manifest's sentence times."""
    sentences = []
    w = None
    for rec in recs:
        frames, audio = clip_av(rec.video)
        n = len(frames)
        s0, s1 = speech_frames(rec, n)
        a, b = (max(0, s0 - PAD_FRAMES), min(n, s1 + PAD_FRAMES)) if shorten else (0, n)
        if w is None:
            w = Writer(out, (frames.shape[2], frames.shape[1]), sound)
        t = w.frames
        w.add(frames[a:b], audio[a * SPF: b * SPF] if sound else None)
        sentences.append({"id": rec.id, "text": rec.text, "start": t / FPS, "end": (t + b - a) / FPS,
                          "speech_start": (t + s0 - a) / FPS, "speech_end": (t + s1 - a) / FPS,
                          "source_frames": [a, b]})
    w.close()
    return {"kind": "recording", "sound": sound, "shortened": shorten, "duration": sentences[-1]["end"],
            "references": [s["text"] for s in sentences], "sentences": sentences}


def background(size: tuple[int, int]) -> np.ndarray:
    """A plain grey, softly textured background (seeded: the same every build)."""
    import cv2

    w, h = size
    rng = np.random.default_rng(25)
    low = rng.normal(0, 1, (h // 32 + 1, w // 32 + 1)).astype(np.float32)
    tex = cv2.resize(low, (w, h), interpolation=cv2.INTER_CUBIC) * 12 + 118
    tex += rng.normal(0, 2, (h, w)).astype(np.float32)
    return np.repeat(np.clip(tex, 0, 255).astype(np.uint8)[..., None], 3, axis=2)


def place(frames: np.ndarray, size: tuple[int, int], scale: float) -> np.ndarray:
    """Each frame scaled by ``scale`` and centred on the background of ``size``."""
    import cv2

    bg = background(size)
    h, w = frames.shape[1:3]
    nw, nh = round(w * scale) // 2 * 2, round(h * scale) // 2 * 2
    y, x = (size[1] - nh) // 2, (size[0] - nw) // 2
    out = np.repeat(bg[None], len(frames), axis=0)
    for i, f in enumerate(frames):
        out[i, y: y + nh, x: x + nw] = cv2.resize(f, (nw, nh), interpolation=cv2.INTER_AREA)
    return out


def measure_face_width(recs: list) -> dict:
    """GRID face width at full size (px): OpenCV Haar face box and mediapipe face-mesh extent, medians."""
    import cv2

    from lipread.io.video import read_video

    cascade = cv2.CascadeClassifier(os.path.join(cv2.data.haarcascades, "haarcascade_frontalface_default.xml"))
    boxes, mesh = [], []
    try:
        import mediapipe as mp

        fm = mp.solutions.face_mesh.FaceMesh(static_image_mode=True, max_num_faces=1)
    except Exception:  # noqa: BLE001 - the mesh width is a side note
        fm = None
    for rec in recs:
        for f in read_video(rec.video).frames[::5]:
            found = cascade.detectMultiScale(cv2.cvtColor(f, cv2.COLOR_RGB2GRAY), 1.1, 5)
            if len(found):
                boxes.append(float(max(found[:, 2])))
            if fm is not None:
                faces = fm.process(f).multi_face_landmarks
                if faces:
                    xs = [p.x * f.shape[1] for p in faces[0].landmark]
                    mesh.append(max(xs) - min(xs))
    if fm is not None:
        fm.close()
    if not boxes:
        raise SystemExit("error: no face found in the GRID clips to measure the face width")
    return {"haar_box_px": float(np.median(boxes)), "mesh_px": float(np.median(mesh)) if mesh else None,
            "clips": [r.id for r in recs], "frames": len(boxes)}


def build(grid: Path, work: Path, set_name: str, log=print) -> dict:
    """Build (or reuse) every input of ``set_name``; returns the index {group: [manifest, ...]}."""
    folder = work / set_name
    index_path = folder / "index.json"
    recs = set_records(grid, set_name)
    if index_path.exists():
        index = json.loads(index_path.read_text())
        if index.get("version") == BUILD_VERSION and index.get("clips") == [r.id for r in recs] and all(
                (folder / m["file"]).exists() for g in index["groups"].values() for m in g):
            return add_offsets(index, folder, recs, log)
    folder.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    face = measure_face_width(recs[:5])
    groups: dict[str, list[dict]] = {}

    def save(group: str, name: str, manifest: dict) -> None:
        manifest = {"file": name, "set": set_name, **manifest}
        (folder / name).with_suffix(".json").write_text(json.dumps(manifest, indent=1) + "\n")
        groups.setdefault(group, []).append(manifest)
        log(f"built {set_name}/{name} ({time.perf_counter() - t0:.0f}s)")

    for shorten in (False, True):
        for sound in (True, False):
            group = "recording" + ("_short" if shorten else "") + ("" if sound else "_nosound")
            save(group, f"{group}.mp4", build_recording(folder / f"{group}.mp4", recs, shorten, sound))
    av_cache: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def load(rec):
        if rec.id not in av_cache:
            av_cache[rec.id] = clip_av(rec.video)
        return av_cache[rec.id]

    scale_40 = FACE_TARGET_PX / face["haar_box_px"]
    for group, size, scale in (("wide_720_half", (1280, 720), 0.5), ("wide_1080_075", (1920, 1080), 0.75),
                               ("wide_720_40px", (1280, 720), scale_40)):
        for rec in recs[:WIDE_CLIPS]:
            frames, audio = load(rec)
            name = f"{group}/{rec.id.replace('/', '_')}.mp4"
            w = Writer(folder / name, size, True)
            w.add(place(frames, size, scale), audio)
            w.close()
            save(group, name, {"kind": "wide", "id": rec.id, "references": [rec.text], "size": list(size),
                               "scale": scale, "face_px": scale * face["haar_box_px"]})
    for side_i, side in enumerate(("left", "right")):
        for k in range(TWO_PER_SIDE):
            heard = recs[side_i * TWO_PER_SIDE + k]
            other = recs[(side_i * TWO_PER_SIDE + k + 2 * TWO_PER_SIDE) % len(recs)]
            (hf, ha), (of, _) = load(heard), load(other)
            n = min(len(hf), len(of))
            frames = np.concatenate([hf[:n], of[:n]] if side == "left" else [of[:n], hf[:n]], axis=2)
            name = f"two_{side}/{heard.id.replace('/', '_')}+{other.id.split('/')[-1]}.mp4"
            w = Writer(folder / name, (frames.shape[2], frames.shape[1]), True)
            w.add(frames, ha[: n * SPF])
            w.close()
            save(f"two_{side}", name, {"kind": "two_speakers", "heard_side": side, "id": heard.id,
                                       "other_id": other.id, "references": [heard.text],
                                       "other_reference": other.text})
    for rec in recs[:NO_FACE_CLIPS]:
        frames, audio = load(rec)
        slide = np.full_like(frames, 128)
        name = f"no_face/{rec.id.replace('/', '_')}.mp4"
        w = Writer(folder / name, (frames.shape[2], frames.shape[1]), True)
        w.add(slide, audio)
        w.close()
        save("no_face", name, {"kind": "no_face", "id": rec.id, "references": [rec.text]})
    index = {"version": BUILD_VERSION, "set": set_name, "clips": [r.id for r in recs],
             "face_width_full_size": face, "wide_40px_scale": scale_40,
             "build_seconds": time.perf_counter() - t0, "groups": groups}
    index_path.write_text(json.dumps(index, indent=1) + "\n")
    return add_offsets(index, folder, recs, log)


def add_offsets(index: dict, folder: Path, recs: list, log=print) -> dict:
    """Add (once) the ``offset_±S`` groups to a built set: 10 clips each whose sound is shifted by S seconds
    (late: silence before it; early: its start cut), the video untouched."""
    missing = [s for s in OFFSETS if f"offset_{s:+.1f}" not in index["groups"]]
    for shift in missing:
        group = f"offset_{shift:+.1f}"
        for rec in recs[:NO_FACE_CLIPS]:
            frames, audio = clip_av(rec.video)
            k = int(round(abs(shift) * SR))
            moved = np.concatenate([np.zeros(k, np.float32), audio])[: len(audio)] if shift > 0 else \
                np.concatenate([audio[k:], np.zeros(k, np.float32)])
            name = f"{group}/{rec.id.replace('/', '_')}.mp4"
            w = Writer(folder / name, (frames.shape[2], frames.shape[1]), True)
            w.add(frames, moved)
            w.close()
            manifest = {"file": name, "set": index["set"], "kind": "offset", "id": rec.id, "references": [rec.text],
                        "shift": shift}
            (folder / name).with_suffix(".json").write_text(json.dumps(manifest, indent=1) + "\n")
            index["groups"].setdefault(group, []).append(manifest)
        log(f"built {index['set']}/{group}")
    if missing:
        (folder / "index.json").write_text(json.dumps(index, indent=1) + "\n")
    return index


# ----------------------------------------------------------------------------------------------- measuring


class _Collect(logging.Handler):
    """Keeps lipread's warnings while a file is read."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record):
        self.messages.append(record.getMessage())


class Reader:
    """One loaded model; one Transcriber per modality (made on first use)."""

    def __init__(self, model_name: str, context: str = "still", pauses: str = "sound", window_lead: float | None = None):
        from lipread.pipelines.transcribe import load_model

        self.name = model_name
        self.context = context
        self.pauses = pauses
        self.loaded = load_model(model_name)
        if window_lead is not None:  # instead of the model's stored windows.lead
            self.loaded.window_lead = window_lead
        self.window_lead = window_lead
        self.transcribers: dict = {}

    def transcriber(self, modality: str):
        from lipread.pipelines.transcribe import Transcriber

        if modality not in self.transcribers:
            self.transcribers[modality] = Transcriber(self.loaded, modality=modality, context=self.context,
                                                        pauses=self.pauses)
        return self.transcribers[modality]

    def read(self, path: Path, modality: str) -> dict:
        """Transcribe one file; an error is a result (its type and message)."""
        handler = _Collect()
        logging.getLogger("lipread").addHandler(handler)
        t0 = time.perf_counter()
        try:
            tr = self.transcriber(modality).transcribe(path)
            row = {"text": tr.text, "modality": tr.modality, "warnings": tr.warnings,
                   "segments": [{"start": round(s.start, 2), "end": round(s.end, 2), "text": s.text}
                                for s in tr.segments],
                   "words": [[w.word, round(w.start, 3), round(w.end, 3)] for w in tr.words],
                   "av_offset": tr.av_offset}
        except Exception as exc:  # noqa: BLE001 - an error is a result
            row = {"text": "", "error": f"{type(exc).__name__}: {getattr(exc, 'message', None) or exc}"}
        finally:
            logging.getLogger("lipread").removeHandler(handler)
        row["seconds"] = time.perf_counter() - t0
        row["log_warnings"] = handler.messages[:5]
        row["log_warnings_count"] = len(handler.messages)
        return row

    def close(self) -> None:
        for tr in self.transcribers.values():
            tr.close()


def model_fingerprint(reader: Reader) -> str:
    """12 hex digits of the model's weights and config and the code's commit: a per-clip cache made by other
    weights or other code is not reused (session 13 found the default model's "as clips" column read from a cache
    the model before issue 26 had filled, under the same name)."""
    import hashlib

    h = hashlib.sha256(git_commit().encode())
    for name in ("model.safetensors", "config.json"):
        f = Path(reader.loaded.path) / name
        if f.exists():
            h.update(f.read_bytes())
    return h.hexdigest()[:12]


def per_clip(reader: Reader, recs: list, modality: str, work: Path, log) -> list[dict]:
    """The clips read one by one (cached in ``work/per_clip/<model>.<modality>.<fingerprint>.json`` by clip id,
    :func:`model_fingerprint`)."""
    path = work / "per_clip" / f"{reader.name}.{modality}.{model_fingerprint(reader)}.json"
    cache = json.loads(path.read_text()) if path.exists() else {}
    rows = []
    for i, rec in enumerate(recs):
        if rec.id not in cache:
            cache[rec.id] = reader.read(Path(rec.video), modality)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(cache, indent=1) + "\n")
            log(f"  per-clip {modality} {i + 1}/{len(recs)} {rec.id}: {cache[rec.id]['seconds']:.1f}s "
                f"{cache[rec.id]['text']!r}")
        rows.append(cache[rec.id])
    return rows


def scores(refs: list[str], hyps: list[str]) -> dict:
    from lipread.metrics import score

    rep = score(refs, hyps)
    return {"wer": rep.wer, "cer": rep.cer, "words": rep.words.to_dict()}


def word_time_errors(reads: list[tuple[list, list[tuple[float, float, list]]]]) -> dict | None:
    """Start/end errors (ms) of the words of each sentence read right, pooled over ``reads``: each is (the
    words read, ``[word, start, end]`` s; the sentences, (speech start, end, the corpus's words timed in the
    same clock)). A sentence counts when the words read within 0.5 s of its speech are exactly its words.
    Median and 90th percentile; None when no sentence was read right."""
    errs = []
    for hyp_words, sentences in reads:
        for s0, s1, truth in sentences:
            mine = [w for w in hyp_words if s0 - 0.5 <= (w[1] + w[2]) / 2 <= s1 + 0.5]
            if [w[0] for w in mine] == [t.word for t in truth]:
                errs += [(abs(w[1] - t.start), abs(w[2] - t.end)) for w, t in zip(mine, truth)]
    if not errs:
        return None
    e = np.array(errs) * 1000
    return {"words": len(errs), "start_median_ms": round(float(np.median(e[:, 0])), 1),
            "end_median_ms": round(float(np.median(e[:, 1])), 1),
            "start_p90_ms": round(float(np.percentile(e[:, 0], 90)), 1),
            "end_p90_ms": round(float(np.percentile(e[:, 1], 90)), 1)}


def shifted(words: list, by: float) -> list:
    """The corpus's word spans moved ``by`` seconds."""
    from lipread.types import WordSpan

    return [WordSpan(w.word, w.start + by, w.end + by) for w in words]


def sentence_overlap(segments: list[dict], sentences: list[dict]) -> list[dict]:
    """Each segment with the sentences (indices) whose speech it overlaps."""
    out = []
    for s in segments:
        hit = [i for i, t in enumerate(sentences) if s["start"] < t["speech_end"] and s["end"] > t["speech_start"]]
        out.append({**s, "sentences": hit})
    return out


def run_condition(name: str, reader: Reader, index: dict, work: Path, grid: Path, log=print) -> dict:
    """Read one condition's inputs with ``reader``'s model; corpus WER/CER, failures, times (one result dict)."""
    from lipread.errors import LipreadError

    cond = CONDITIONS[name]
    manifests = index["groups"][cond.inputs]
    folder = work / index["set"]
    result = {"condition": name, "model": reader.name, "context": reader.context, "modality": cond.modality,
              **({"pauses": reader.pauses} if reader.pauses != "sound" else {}),
              **({"window_lead": reader.window_lead} if reader.window_lead is not None else {}),
              "set": index["set"],
              "inputs": cond.inputs, "files": len(manifests)}
    try:
        if cond.modality != "auto":
            reader.transcriber(cond.modality)  # a modality the model cannot read fails here
    except LipreadError as exc:
        return {**result, "skipped": exc.message}
    t0 = time.perf_counter()
    rows = []
    for i, m in enumerate(manifests):
        row = reader.read(folder / m["file"], cond.modality)
        rows.append(row)
        got = row.get("error") or repr(row["text"][:80])
        log(f"[{name} {index['set']}] {i + 1}/{len(manifests)} {m['file']}: {row['seconds']:.1f}s {got}")
    result["seconds"] = time.perf_counter() - t0
    refs = [" ".join(m["references"]) for m in manifests]
    hyps = [r["text"] for r in rows]
    result.update(scores(refs, hyps))
    result["failed"] = sum("error" in r for r in rows)
    result["modality_used"] = sorted({r["modality"] for r in rows if "modality" in r})
    result["segments"] = sum(len(r.get("segments", [])) for r in rows)
    result["errors"] = sorted({r["error"] for r in rows if "error" in r})[:3]
    result["warnings"] = sorted({w for r in rows for w in r.get("warnings", [])})[:5]
    result["log_warnings_count"] = sum(r["log_warnings_count"] for r in rows)
    result["log_warning_examples"] = [w for r in rows for w in r["log_warnings"]][:3]
    if cond.per_clip:
        by_id = {r.id: r for r in set_records(grid, index["set"])}
        ids = [s["id"] for s in manifests[0]["sentences"]] if manifests[0]["kind"] == "recording" else \
            [m["id"] for m in manifests]
        modality = cond.per_clip
        if modality == "same":
            used = result["modality_used"]
            modality = used[0] if len(used) == 1 else ("video" if cond.modality == "auto" else cond.modality)
        clip_rows = per_clip(reader, [by_id[i] for i in ids], modality, work, log)
        pc = scores([by_id[i].text for i in ids], [r["text"] for r in clip_rows])
        if manifests[0]["kind"] == "recording":
            truth = [by_id[i].words for i in ids]
            result["word_times_per_clip"] = word_time_errors(
                [(r.get("words", []), [(t[0].start, t[-1].end, t)]) for r, t in zip(clip_rows, truth)])
        result.update({"wer_per_clip": pc["wer"], "cer_per_clip": pc["cer"], "per_clip_modality": modality,
                       "per_clip_failed": sum("error" in r for r in clip_rows),
                       "per_clip_seconds": sum(r["seconds"] for r in clip_rows)})
    if manifests[0]["kind"] == "recording":
        m, r = manifests[0], rows[0]
        result["duration"] = m["duration"]
        result["hypothesis_words"] = len(r["text"].split())
        result["reference_words"] = len(refs[0].split())
        by_id = {rec.id: rec for rec in set_records(grid, index["set"])}
        truth = [(st, shifted(by_id[st["id"]].words, st["start"] - st["source_frames"][0] / FPS))
                 for st in m["sentences"]]
        result["word_times"] = word_time_errors([(r.get("words", []), [(t[0].start, t[-1].end, t) for _, t in truth])])
        result["segment_list"] = sentence_overlap(r.get("segments", []), m["sentences"])
        result["sentence_times"] = [[round(s["speech_start"], 2), round(s["speech_end"], 2)] for s in m["sentences"]]
    elif manifests[0]["kind"] == "offset":
        shift = manifests[0]["shift"]
        found = [r.get("av_offset") for r in rows]
        known = [abs(f - shift) * 1000 for f in found if f is not None]
        result.update({"shift": shift, "offset_found": sum(f is not None for f in found),
                       "offset_error_ms_median": round(float(np.median(known)), 1) if known else None,
                       "offset_error_ms_max": round(float(np.max(known)), 1) if known else None})
    elif manifests[0]["kind"] == "two_speakers":
        result["heard_side"] = manifests[0]["heard_side"]
        other = scores([m["other_reference"] for m in manifests], hyps)
        result["wer_other"], result["cer_other"] = other["wer"], other["cer"]
        result["read_heard"] = sum(scores([m["references"][0]], [h])["wer"] < scores([m["other_reference"]], [h])["wer"]
                                   for m, h in zip(manifests, hyps))
    result["examples"] = [{"file": m["file"], "reference": ref[:200], "hypothesis": r["text"][:200],
                           **({"error": r["error"]} if "error" in r else {})}
                          for m, ref, r in zip(manifests, refs, rows) if r["text"] != ref][:3]
    return result


# ----------------------------------------------------------------------------------------------- output


def git_commit() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "lipread"], cwd=ROOT, capture_output=True,
                               text=True).stdout.strip()
        return head + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def pct(x) -> str:
    return "   -  " if x is None else f"{100 * x:5.1f}%"


def table(results: list[dict]) -> str:
    lines = [f"{'condition':22} {'set':6} {'model':15} {'modality':8} {'files':>5} {'fail':>4} {'WER':>6} "
             f"{'CER':>6} {'perclip':>7} {'segs':>5} {'seconds':>7}"]
    for r in results:
        if "skipped" in r:
            lines.append(f"{r['condition']:22} {r['set']:6} {r['model']:15} skipped: {r['skipped']}")
            continue
        extra = f"  other {pct(r['wer_other'])}, heard read {r['read_heard']}/{r['files']}" if "wer_other" in r else ""
        if r.get("offset_found") is not None:
            extra += f"  offset found {r['offset_found']}/{r['files']}, error median {r['offset_error_ms_median']} ms"
        if r.get("word_times"):
            wt, pc = r["word_times"], r.get("word_times_per_clip") or {}
            extra += (f"  word start/end {wt['start_median_ms']:.0f}/{wt['end_median_ms']:.0f} ms "
                      f"(clips {pc.get('start_median_ms', float('nan')):.0f}/{pc.get('end_median_ms', float('nan')):.0f})")
        lines.append(f"{r['condition']:22} {r['set']:6} {r['model']:15} {'/'.join(r['modality_used']) or r['modality']:8} "
                     f"{r['files']:5d} {r['failed']:4d} {pct(r['wer'])} {pct(r['cer'])} {pct(r.get('wer_per_clip')):>7} "
                     f"{r['segments']:5d} {r['seconds']:7.1f}{extra}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> list[dict]:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="wlas-grid-s1")
    ap.add_argument("--conditions", default=",".join(DEFAULT_CONDITIONS),
                    help=f"comma-separated, of: {', '.join(CONDITIONS)}")
    ap.add_argument("--set", default="report", choices=("report", "dev"))
    ap.add_argument("--grid", type=Path, default=GRID)
    ap.add_argument("--work", type=Path, default=WORK)
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--build-only", action="store_true")
    ap.add_argument("--window-lead", type=float, default=None,
                    help="the share of a window's silence before its utterance, instead of the model's stored one")
    ap.add_argument("--pauses", default="sound", choices=("sound", "mouth", "lips-mouth"),
                    help="where a long recording's pauses are found (Transcriber(pauses=...))")
    ap.add_argument("--context", default="still", choices=("still", "frames"),
                    help="what a long recording's windows show around their sentence (Transcriber(context=...))")
    a = ap.parse_args(argv)
    names = [c.strip() for c in a.conditions.split(",") if c.strip()]
    unknown = [c for c in names if c not in CONDITIONS]
    if unknown:
        ap.error(f"unknown condition(s) {', '.join(unknown)}; choose from {', '.join(CONDITIONS)}")
    if not a.grid.is_dir():
        ap.error(f"GRID folder {a.grid} not found (give --grid)")

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    work = a.work.expanduser()
    index = build(a.grid, work, a.set, log)
    log(f"inputs in {work / a.set}; GRID face width at full size {index['face_width_full_size']['haar_box_px']:.0f} px"
        f" (Haar box; mesh {index['face_width_full_size']['mesh_px'] or 0:.0f} px)")
    if a.build_only:
        return []
    reader = Reader(a.model, a.context, a.pauses, a.window_lead)
    meta = {"command": " ".join([Path(sys.argv[0]).name, *(argv if argv is not None else sys.argv[1:])]),
            "commit": git_commit(), "date": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    results = []
    try:
        for name in names:
            r = run_condition(name, reader, index, work, a.grid, log)
            results.append({**r, **meta})
            save(a.out, results, index)
    finally:
        reader.close()
    print(table(results))
    return results


def save(out: Path, results: list[dict], index: dict) -> None:
    """Merge ``results`` into ``out``: an older result for the same (condition, model, set) is replaced
    (under a lock, so runs of two sets at once keep each other's results)."""
    import fcntl
    import tempfile

    out.parent.mkdir(parents=True, exist_ok=True)
    with open(Path(tempfile.gettempdir()) / "lipread-long_video.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        _merge(out, results, index)


def _merge(out: Path, results: list[dict], index: dict) -> None:
    data = json.loads(out.read_text()) if out.exists() else {}
    def key(r):
        return (r["condition"], r["model"], r["set"], r.get("context", "still"), r.get("pauses", "sound"),
                r.get("window_lead"))

    new = {key(r) for r in results}
    kept = [r for r in data.get("results", []) if key(r) not in new]
    order = list(CONDITIONS)
    rank = {c: i for i, c in enumerate(order)}  # a condition this version no longer has goes last
    merged = sorted(kept + results, key=lambda r: (r["set"] != "report", rank.get(r["condition"], len(rank)),
                                                   r["condition"], r["model"]))
    data["benchmark"] = "long_video (issue 25)"
    data["about"] = (__doc__ or "").split("\n\n")[0]
    data.setdefault("face_width_full_size", {})[index["set"]] = index["face_width_full_size"]
    data["machine"] = machine_info()
    data["results"] = merged
    tmp = out.with_name(out.name + ".part")
    tmp.write_text(json.dumps(data, indent=1) + "\n")
    tmp.replace(out)


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    main()
