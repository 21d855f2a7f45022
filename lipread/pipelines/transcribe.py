"""``lipread transcribe``: video files in, a :class:`~lipread.types.Transcript` out.

decode -> landmarks -> mouth crop (``FrontEnd``) -> model -> decoder -> words with times.
The crop preset, vocabulary and decoder settings come from the model's ``config.json``, so a video
path and a model name are all it needs. A video longer than the model's training clips is read in
windows (speech regions found in the audio when there is audio, else fixed overlapping windows),
one window at a time, so memory stays bounded however long the file is.
"""

from __future__ import annotations

import logging
import os
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from lipread.errors import MediaError, NoFaceError
from lipread.models.zoo import DEFAULT_MODEL
from lipread.pipelines.decode import decode_outputs, run_model
from lipread.pipelines.domain import direction_scores, domain_warnings, lip_ctc_model, mouth_stats
from lipread.pipelines.evaluate import DecodeOptions, stored_decoder
from lipread.pipelines.windows import Window, fixed_windows, keep_owned, speech_windows
from lipread.types import Segment, Transcript

log = logging.getLogger("lipread.transcribe")


@dataclass
class LoadedModel:
    """A model ready to transcribe: weights, its config, tokenizer, crop settings and stored decoder."""

    name: str
    path: Path
    model: torch.nn.Module
    config: dict[str, Any]
    tokenizer: Any
    frontend: Any
    device: torch.device
    window_seconds: float = 3.0
    """Length of the clips the model was trained on: longer videos are read in windows of this length."""

    def decode_options(self, **overrides: Any) -> DecodeOptions:
        """The decoder settings stored with the model (:func:`stored_decoder`), then ``overrides``
        (``decoder``, ``beam_size``, ``lm``, ``lexicon``, ``lm_weight``, ``word_score``; None keeps the stored one)."""
        return resolve_decode_options(stored_decoder(self.config, self.path), **overrides)

    def transcribe(self, path: str | os.PathLike, **options: Any) -> Transcript:
        """Transcribe one video with this model: ``lipread.load_model().transcribe("clip.mp4")``.

        ``options`` as for :func:`lipread.transcribe` (decoder settings, ``batch_size``, ``overlap``).
        """
        return transcribe(path, model=self, **options)


DECODE_KEYS = ("decoder", "beam_size", "lm", "lexicon", "lm_weight", "word_score", "flip_average", "length_norm",
               "word_timing", "ctc_weight", "grammar")
BEAM_ONLY = {"beam_size": "--beam-size", "lm": "--lm", "lexicon": "--lexicon", "lm_weight": "--lm-weight",
             "word_score": "--word-score", "length_norm": "--length-norm", "ctc_weight": "--ctc-weight",
             "grammar": "--grammar"}


def resolve_decode_options(stored: dict[str, Any], **overrides: Any) -> DecodeOptions:
    """``stored`` decoder settings with ``overrides`` on top (None keeps the stored value), checked:
    a known decoder, a beam of at least 1, and no beam-only setting given to the greedy decoder."""
    from lipread.errors import UsageError

    unknown = [k for k in overrides if k not in DECODE_KEYS]
    if unknown:
        raise UsageError(f"unknown decoder setting {unknown[0]!r}", fix=f"Use {', '.join(DECODE_KEYS)}.")
    given = {k: v for k, v in overrides.items() if v is not None}
    opts = {**stored, **given}
    if opts.get("decoder", "greedy") not in ("greedy", "beam"):
        raise UsageError(f"unknown decoder {opts['decoder']!r}", fix="Use greedy or beam.")
    if opts.get("grammar") == "none":
        opts["grammar"] = None
    if opts.get("grammar") not in (None, "grid"):
        raise UsageError(f"unknown grammar {opts['grammar']!r}", fix="Use --grammar grid or --grammar none.")
    if not 0.0 <= float(opts.get("ctc_weight", 0.0)) < 1.0:
        raise UsageError(f"--ctc-weight must be in [0, 1), not {opts['ctc_weight']}", fix="Use e.g. --ctc-weight 0.3.")
    if given.get("grammar") and given.get("lm"):
        raise UsageError("--grammar and --lm both choose the LM", fix="Give one of them.")
    if opts.get("grammar") == "grid" and "lm" not in given:
        opts["lm"] = None  # the grammar is the LM (CTC beam), so the stored one is not reported as used
    if int(opts.get("beam_size", 1)) < 1:
        raise UsageError(f"beam size must be at least 1, not {opts['beam_size']}", fix="Use --beam-size 1 or more.")
    if opts.get("decoder", "greedy") == "greedy":
        beam_only = [flag for key, flag in BEAM_ONLY.items() if key in given]
        if beam_only:
            verb = "applies" if len(beam_only) == 1 else "apply"
            raise UsageError(f"{', '.join(beam_only)} {verb} only to the beam decoder, but the decoder is greedy",
                             fix="Add --decoder beam (decoder='beam' in Python), or leave those options out.")
    return DecodeOptions(**opts)


def load_model(name_or_path: str | os.PathLike = DEFAULT_MODEL, device: str = "auto") -> LoadedModel:
    """Load a zoo model by name or a checkpoint folder by path (safetensors + JSON only).

    ``device``: auto (CUDA when available, else CPU), cpu, cuda, cuda:N or mps.
    """
    from lipread.config import build_config
    from lipread.device import resolve_device
    from lipread.models.checkpoint import load_model as load_checkpoint
    from lipread.models.zoo import resolve_model
    from lipread.pipelines.frontend import FrontEndConfig
    from lipread.text import Tokenizer

    dev = resolve_device(device)
    path = resolve_model(name_or_path)
    model, config = load_checkpoint(path, device=dev)
    tokenizer = Tokenizer.from_dict(config["tokenizer"])
    pre = dict(config.get("preprocess") or {})
    fields = FrontEndConfig.__dataclass_fields__
    frontend = build_config(FrontEndConfig, {k: v for k, v in pre.items() if k in fields})
    frontend.audio = False  # switched on per file when an audio-visual model reads the sound
    window = float(pre.get("clip_seconds") or 3.0)
    return LoadedModel(str(name_or_path), path, model, config, tokenizer, frontend, dev, window)


@dataclass
class StageTimes:
    """Seconds spent per stage (summed over windows), for benchmarks and ``-v`` logs."""

    seconds: dict[str, float] = field(default_factory=lambda: defaultdict(float))

    def add(self, stage: str, t0: float) -> float:
        now = time.perf_counter()
        self.seconds[stage] += now - t0
        return now


class Transcriber:
    """Transcribes many files with one loaded model and one landmark tracker.

    ``decode``: decoding options (default: the ones stored with the model). ``batch_size``: windows
    per model call. ``overlap``: seconds of overlap between fixed windows.
    """

    def __init__(self, model: LoadedModel | str = DEFAULT_MODEL, decode: DecodeOptions | None = None,
                 batch_size: int = 4, overlap: float = 0.5, device: str = "auto", modality: str = "auto",
                 **decode_overrides: Any):
        from lipread.data.augment import VideoAugment, augment_config
        from lipread.errors import UsageError
        from lipread.pipelines.frontend import FrontEnd

        if int(batch_size) < 1:
            raise UsageError(f"batch size must be at least 1, not {batch_size}", fix="Use --batch-size 1 or more.")
        if overlap < 0:
            raise UsageError(f"overlap must be 0 seconds or more, not {overlap}")
        self.loaded = model if isinstance(model, LoadedModel) else load_model(model, device)
        if decode is not None and any(v is not None for v in decode_overrides.values()):
            raise UsageError("give either decode=DecodeOptions(...) or decoder settings, not both")
        self.options = decode or self.loaded.decode_options(**decode_overrides)
        from lipread.pipelines.decode import is_attention_model
        from lipread.pipelines.evaluate import check_attention_options, check_ctc_options, check_modality

        self.attention = is_attention_model(self.loaded.model)
        if modality != "auto":  # a modality the model cannot read fails before any file is touched
            check_modality(modality, self.loaded.model, self.loaded.path)
        self.modality = modality
        if self.attention:
            check_attention_options(self.options)
            self.decoder = None
        else:
            check_ctc_options(self.options)
            self.decoder = self.options.build(self.loaded.tokenizer)
        self.frontend = FrontEnd(self.loaded.frontend)
        # the deterministic evaluation transform of training (e.g. the centre crop 88 of aligned96)
        self.eval_transform = VideoAugment(augment_config(self.loaded.frontend.preset), train=False)
        self.batch_size, self.overlap = int(batch_size), overlap
        self.times = StageTimes()
        self.domain = self.loaded.config.get("domain")
        """The training domain stored with the model: clips unlike it get warnings."""

    def plan(self, path: str) -> tuple[float, list[Window]]:
        """The video's duration and the windows to read it in."""
        from lipread.io.probe import probe

        info = probe(path)
        duration = info.duration or 0.0
        length = self.loaded.window_seconds
        if duration <= 0 or duration <= length * 1.2:
            return duration, [Window(0.0, duration, 0.0, duration)]
        has_audio = any(s.type == "audio" for s in info.streams)
        if has_audio:
            intervals = speech_intervals(path, duration)
            if intervals:
                return duration, speech_windows(intervals, duration, length)
        return duration, fixed_windows(duration, length, self.overlap)

    def file_modality(self, path: str) -> str:
        """The modality for one file: ``auto`` = av when the model reads sound and the file has an audio
        track, else video (said in one line); av/audio on a file without sound is a NoAudioError."""
        from lipread.errors import NoAudioError
        from lipread.io.audio import has_audio
        from lipread.pipelines.decode import reads_audio

        listens = reads_audio(self.loaded.model)
        if self.modality == "auto":
            if not listens:
                return "video"
            if has_audio(path):
                log.info("%s: modality av (the model reads lips and sound, and the file has sound)", path)
                return "av"
            log.warning("%s: no audio track: reading the lips only (modality video)", path)
            return "video"
        if self.modality in ("av", "audio") and not has_audio(path):
            raise NoAudioError(f"--modality {self.modality} needs sound, but the file has no audio track", path,
                               "Use --modality video (or auto) for a silent video.")
        return self.modality

    def transcribe(self, path: str | os.PathLike, progress: Callable[[int, int], None] | None = None) -> Transcript:
        path = os.fspath(path)
        t0 = time.perf_counter()
        modality = self.file_modality(path)
        self.frontend.config.audio = modality != "video"  # the model's audio features, computed per window
        duration, windows = self.plan(path)
        single = len(windows) == 1
        t0 = self.times.add("plan", t0)
        segments: list[Segment] = []
        pending: list[tuple[Window, np.ndarray]] = []
        stats: list[dict[str, float]] = []
        self._directions: list[tuple[float, float]] = []
        truncated = False
        for i, win in enumerate(windows):
            try:
                if single:
                    result = self.frontend.process(path)
                else:
                    result = self.frontend.process(path, start=win.start, end=win.end)
            except NoFaceError:
                if single:
                    raise
                log.warning("%s: no face in %.2f-%.2fs; nothing read there", path, win.start, win.end)
                continue
            except MediaError:
                if single or not segments + pending:
                    raise
                # the file ends before its claimed duration: keep what was read (said once per file)
                if not truncated:
                    log.warning("%s: truncated or damaged; nothing decodes after %.2fs, lost %.2fs of %.2fs",
                                path, win.start, duration - win.start, duration)
                break
            truncated = truncated or bool(result.report and result.report.truncated)
            t0 = self.times.add("frontend", t0)
            if single:
                duration = duration or result.duration
                win = Window(0.0, result.duration, 0.0, result.duration)
            stats.append(mouth_stats(result.mouth))
            mouth, _ = self.eval_transform(result.mouth, None)
            pending.append((win, mouth, result.audio_features))
            if len(pending) == self.batch_size:
                segments += self._run(pending, modality)
                pending = []
            t0 = time.perf_counter()
            if progress:
                progress(i + 1, len(windows))
        if pending:
            segments += self._run(pending, modality)
        transcript = Transcript(path, duration, segments, model=self.loaded.name, modality=modality)
        transcript.warnings = self._warnings(transcript, stats, single)
        if transcript.warnings:
            log.warning("%s: may be unlike the model's training data: %s", path, "; ".join(transcript.warnings))
        return transcript

    def _warnings(self, transcript: Transcript, stats: list[dict[str, float]], single: bool) -> list[str]:
        """Out-of-domain warnings for one file (:mod:`lipread.pipelines.domain`)."""
        if not self.domain or not stats:
            return []
        median = {k: float(np.median([s[k] for s in stats])) for k in stats[0]}
        direction = tuple(np.mean(self._directions, axis=0)) if self._directions else None
        return domain_warnings(self.domain, median, transcript.confidence, direction,
                               transcript.duration if single else None, modality=transcript.modality)

    @torch.no_grad()
    def _run(self, items: list[tuple[Window, np.ndarray, np.ndarray | None]], modality: str = "video") -> list[Segment]:
        from lipread.data.batch import collate
        from lipread.data.dataset import Sample

        batch = collate([Sample(str(i), "", "", mouth, [], audio if modality != "video" else None)
                         for i, (_, mouth, audio) in enumerate(items)])
        batch = batch.to(self.loaded.device)
        t0 = time.perf_counter()
        if self.attention:
            from lipread.pipelines.decode import decode_attention

            decoded = decode_attention(self.loaded.model, self.options, self.loaded.tokenizer, batch.video,
                                       batch.video_lengths, batch.audio, batch.audio_lengths, modality,
                                       time_offset=[win.start for win, *_ in items])
            t0 = self.times.add("model+decoder", t0)
            forward = (None, None)  # the direction check reads the lips with the Watch's CTC head itself
        else:
            outputs = run_model(self.loaded.model, batch.video, batch.video_lengths, self.options.flip_average)
            t0 = self.times.add("model", t0)
            decoded = decode_outputs(outputs, self.decoder, self.loaded.tokenizer,
                                     time_offset=[win.start for win, *_ in items])
            t0 = self.times.add("decoder", t0)
            forward = (outputs[0], outputs[1])  # the CTC model's own forward reading, already computed
        if self.domain and self.domain.get("direction_margin") is not None:
            self._directions += direction_scores(lip_ctc_model(self.loaded.model), self.loaded.tokenizer,
                                                 [mouth for _, mouth, _ in items], *forward,
                                                 self.options.flip_average)
            self.times.add("domain", t0)
        return self._segments(items, decoded)

    @staticmethod
    def _segments(items, decoded) -> list[Segment]:
        segments = []
        for (win, *_), nbest in zip(items, decoded):
            best = nbest[0] if nbest else None
            words = keep_owned(best.words, win) if best else []
            text = " ".join(w.word for w in words) if best and best.words else (best.text if best else "")
            # a segment spans the stretch its window owns, so overlapping windows give no overlapping segments
            segments.append(Segment(win.own_start, win.own_end, text, words))
        return segments

    def close(self) -> None:
        self.frontend.close()


def speech_intervals(path: str, duration: float, chunk: float = 60.0, top_db: float = 35.0) -> list[tuple[float, float]]:
    """Speech regions (s) found by energy in the audio, read ``chunk`` seconds at a time."""
    from lipread.audio.activity import nonsilent_intervals
    from lipread.io.audio import read_audio
    from lipread.types import AUDIO_SAMPLE_RATE

    out: list[tuple[float, float]] = []
    start = 0.0
    while start < duration:
        end = min(duration, start + chunk)
        audio = read_audio(path, start=start, end=end)
        if audio.size:
            for a, b in nonsilent_intervals(audio, top_db=top_db, frame_length=1024, hop_length=256):
                out.append((start + a / AUDIO_SAMPLE_RATE, start + b / AUDIO_SAMPLE_RATE))
        start = end
    return out


def transcribe(
    path: str | os.PathLike,
    model: LoadedModel | str | os.PathLike = DEFAULT_MODEL,
    *,
    decoder: str | None = None,
    beam_size: int | None = None,
    lm: str | None = None,
    lexicon: str | None = None,
    lm_weight: float | None = None,
    word_score: float | None = None,
    device: str = "auto",
    batch_size: int = 4,
    overlap: float = 0.5,
    decode: DecodeOptions | None = None,
    modality: str = "auto",
    length_norm: float | None = None,
    ctc_weight: float | None = None,
    grammar: str | None = None,
) -> Transcript:
    """Transcribe one video: ``lipread.transcribe("clip.mp4")`` with the default zoo model (``wlas-grid-s1``:
    lips and sound when the video has sound, else the lips alone).

    Takes what ``lipread transcribe`` takes: ``model`` (zoo name, checkpoint folder or a loaded model),
    ``decoder`` ("greedy" | "beam"), ``beam_size``, ``lm`` / ``lexicon`` (files, or "grid"), ``lm_weight``,
    ``word_score`` (None: the setting stored with the model), ``device`` (auto | cpu | cuda | cuda:N),
    ``batch_size`` (windows per model call), ``overlap`` (seconds between fixed windows of a long video),
    ``modality`` (audio-visual models: auto | av | video | audio), ``length_norm`` and ``ctc_weight`` (attention beam search), ``grammar`` ("grid": GRID sentences only).
    """
    transcriber = Transcriber(model, decode, batch_size=batch_size, overlap=overlap, device=device,
                              modality=modality, decoder=decoder, beam_size=beam_size, lm=lm, lexicon=lexicon,
                              lm_weight=lm_weight, word_score=word_score, length_norm=length_norm,
                              ctc_weight=ctc_weight, grammar=grammar)
    try:
        return transcriber.transcribe(path)
    finally:
        transcriber.close()
