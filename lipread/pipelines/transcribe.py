"""``lipread transcribe``: video files in, a :class:`~lipread.types.Transcript` out.

decode -> landmarks -> mouth crop (``FrontEnd``) -> model -> decoder -> words with times.
The crop preset, vocabulary and decoder settings come from the model's ``config.json``, so a video
path and a model name are all it needs. A video longer than the model's training clips is read a
block (a minute) at a time, so memory stays bounded however long the file is; each block is cut into
utterances at the pauses of its sound (or of the mouth's motion, lips only), and each utterance is
read in a window of the training clips' length placed around it (:mod:`lipread.pipelines.windows`).
A file with no face but with sound is read from the sound alone by a model that hears (``auto`` only).
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

from lipread.audio.activity import SILENT_DB, adaptive_threshold, frame_energy_db, is_silent
from lipread.audio.features import compute_features, fit_samples
from lipread.background import Background
from lipread.errors import MediaError, NoFaceError
from lipread.face.motion import mouth_activity
from lipread.models.zoo import DEFAULT_MODEL
from lipread.pipelines.domain import domain_warnings, mouth_stats
from lipread.pipelines.windows import SegmentConfig, Window, context_windows, keep_owned, utterances
from lipread.readers.options import (  # noqa: F401  (resolve_decode_options: also importable from here)
    DecodeOptions,
    resolve_decode_options,
    stored_decoder,
)
from lipread.types import AUDIO_SAMPLE_RATE, VIDEO_FPS, Segment, Transcript

log = logging.getLogger("lipread.transcribe")

SILENT_NOTE = "the sound track is silent: read from the lips alone"

LANDMARK_EVERY = 2
"""Files with sound are read with landmarks on every other frame, interpolated between
(``FrontEndConfig.landmark_every``): the landmark model's time halves; on 20 GRID clips the crops moved by at most
1.1 px and every reading stayed the same (``benchmarks/speedup.py`` checks the WER of clips and of a recording).
Not silent files: their pauses are found in the mouth's motion, and the dev recording without sound read 11.7%
instead of 9.6% (41 utterances for 40) with it."""

LANDMARK_WORKERS = 0
"""Files are read with two landmark trackers taking frames in turn where the process has two cores
(``FrontEndConfig.landmark_workers``; a model's ``preprocess`` may say otherwise): the landmarks take half the
time. Each tracker then follows every other frame it would have seen alone; ``benchmarks/speedup.py`` checks
that the clips and the recording read the same."""

SEGMENT_MARGIN = 0.1
"""Seconds an utterance's segment (subtitle cue) extends past its first and last word."""


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
    window_lead: float = 0.25
    """The share of a window's silence placed before its utterance when the sound finds the pauses
    (:class:`SegmentConfig`), chosen per model on
    the dev recordings of ``benchmarks/long_video.py`` and stored in its config (``windows.lead``): a model
    trained with random time shifts (the default zoo model) reads best at 0.25, one trained on clips as cut (the
    zoo's lips-only model) at GRID's own 0.35."""

    def decode_options(self, **overrides: Any) -> DecodeOptions:
        """The decoder settings stored with the model (:func:`stored_decoder`), then ``overrides``
        (``decoder``, ``beam_size``, ``lm``, ``lexicon``, ``lm_weight``, ``word_score``; None keeps the stored one)."""
        return resolve_decode_options(stored_decoder(self.config, self.path), **overrides)

    def transcribe(self, path: str | os.PathLike, **options: Any) -> Transcript:
        """Transcribe one video with this model: ``lipread.load_model().transcribe("clip.mp4")``.

        ``options`` as for :func:`lipread.transcribe` (decoder settings, ``batch_size``).
        """
        return transcribe(path, model=self, **options)


def load_model(name_or_path: str | os.PathLike = DEFAULT_MODEL, device: str = "auto") -> LoadedModel:
    """Load a zoo model by name or a checkpoint folder by path (safetensors + JSON only).

    ``device``: auto (CUDA when available, else CPU), cpu, cuda, cuda:N or mps.
    """
    from lipread.config import build_config
    from lipread.device import resolve_device
    from lipread.frontend import FrontEndConfig
    from lipread.models.checkpoint import load_model as load_checkpoint
    from lipread.models.zoo import resolve_model
    from lipread.text import Tokenizer

    dev = resolve_device(device)
    path = resolve_model(name_or_path)
    model, config = load_checkpoint(path, device=dev)
    if dev.type == "cpu":
        from lipread.models.lipnet import channels_last

        model = channels_last(model)
    tokenizer = Tokenizer.from_dict(config["tokenizer"])
    pre = dict(config.get("preprocess") or {})
    fields = FrontEndConfig.__dataclass_fields__
    frontend = build_config(FrontEndConfig, {k: v for k, v in pre.items() if k in fields})
    frontend.audio = False  # switched on per file when an audio-visual model reads the sound
    if "landmark_workers" not in pre:
        frontend.landmark_workers = LANDMARK_WORKERS
    window = float(pre.get("clip_seconds") or 3.0)
    lead = float((config.get("windows") or {}).get("lead", SegmentConfig.lead))
    return LoadedModel(str(name_or_path), path, model, config, tokenizer, frontend, dev, window, lead)


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
    per model call. ``block_seconds``: a long file is read this many seconds at a time (bounded memory).
    ``context``: what an utterance's window shows around it: ``still`` (the pauses around it, then its edge
    frames repeated and a quiet sound where a neighbour speaks; the better on recordings with short pauses:
    ``benchmarks/long_video.py --set dev --context frames``) or ``frames`` (the video as it is, neighbours
    included).
    ``face``: which face to read when several are seen (:class:`~lipread.frontend.FrontEndConfig`).
    """

    def __init__(self, model: LoadedModel | str = DEFAULT_MODEL, decode: DecodeOptions | None = None,
                 batch_size: int = 4, block_seconds: float = 60.0, device: str = "auto", modality: str = "auto",
                 context: str = "still", face: str = "auto", pauses: str = "sound",
                 **decode_overrides: Any):
        from lipread.data.augment import eval_crop
        from lipread.errors import UsageError
        from lipread.frontend import FrontEnd
        from lipread.readers import reader_for
        from lipread.readers.options import check_modality

        if int(batch_size) < 1:
            raise UsageError(f"batch size must be at least 1, not {batch_size}", fix="Use --batch-size 1 or more.")
        if block_seconds < 10:
            raise UsageError(f"block_seconds must be 10 or more, not {block_seconds}")
        self.loaded = model if isinstance(model, LoadedModel) else load_model(model, device)
        if decode is not None and any(v is not None for v in decode_overrides.values()):
            raise UsageError("give either decode=DecodeOptions(...) or decoder settings, not both")
        self.options = decode or self.loaded.decode_options(**decode_overrides)
        self.reader = reader_for(self.loaded.model, self.loaded.tokenizer, self.options)
        """The model family's reader: checks the options, reads each batch with one model pass."""
        if modality != "auto":  # a modality the model cannot read fails before any file is touched
            check_modality(modality, self.reader.reads_audio, self.loaded.path)
        self.modality = modality
        from lipread.face.track import check_face_option

        self.frontend = FrontEnd(self.loaded.frontend)
        self.frontend.config.face = check_face_option(face)
        # the deterministic evaluation transform of training (e.g. the centre crop 88 of aligned96)
        self.eval_crop = eval_crop(self.loaded.frontend.preset)
        self.batch_size, self.block_seconds = int(batch_size), float(block_seconds)
        if context not in ("still", "frames"):
            raise UsageError(f"unknown context {context!r}", fix="Use still or frames.")
        self.context = context
        if pauses not in ("sound", "mouth", "lips-mouth"):
            raise UsageError(f"unknown pauses {pauses!r}", fix="Use sound, mouth or lips-mouth.")
        self.pauses = pauses
        """Where a long file's pauses are found: ``sound`` (the sound when there is some, else the mouth's motion),
        ``mouth`` (always the mouth's motion) or ``lips-mouth`` (the mouth's motion when only the lips are read)."""
        self.lookahead = 4 * self.loaded.window_seconds
        """Seconds read past a block's end, so that the utterance at its end is read whole, with its context."""
        self.times = StageTimes()
        self._sound: bool | None = None
        self._windows_read = 0
        self._directions: list[tuple[float, float]] = []
        self.domain = self.loaded.config.get("domain")
        """The training domain stored with the model: clips unlike it get warnings."""

    def file_modality(self, path: str, sound: bool | None = None) -> str:
        """The modality for one file: ``auto`` = av when the model reads sound and the file has an audio
        track, else video (said in one line); av/audio on a file without sound is a NoAudioError.
        ``sound``: whether the file has an audio track, when already known (else the file is opened)."""
        from lipread.errors import NoAudioError

        if sound is None:
            from lipread.io.audio import has_audio

            sound = has_audio(path)
        listens = self.reader.reads_audio
        if self.modality == "auto":
            if not listens:
                return "video"
            if sound:
                log.info("%s: modality av (the model reads lips and sound, and the file has sound)", path)
                return "av"
            log.warning("%s: no audio track: reading the lips only (modality video)", path)
            return "video"
        if self.modality in ("av", "audio") and not sound:
            raise NoAudioError(f"--modality {self.modality} needs sound, but the file has no audio track", path,
                               "Use --modality video (or auto) for a silent video.")
        return self.modality

    def _pauses_by_mouth(self, modality: str) -> bool:
        """Whether a long file read in ``modality`` has its pauses found in the mouth's motion even with sound
        (``pauses``: ``mouth``, or ``lips-mouth`` when only the lips are read)."""
        return self.pauses == "mouth" or (self.pauses == "lips-mouth" and modality == "video")

    def segment_config(self, source: str) -> SegmentConfig:
        """How a long file is cut into utterances: from the ``sound``, or, in a file without sound, the
        ``mouth``'s motion, which starts before the voice and pauses less clearly (runs joined across
        longer gaps). A window placed by the sound puts the model's ``window_lead`` share of its silence before
        its utterance (:attr:`LoadedModel.window_lead`); one placed by the mouth, whose motion starts before
        the voice, 0.25 (the zoo's lips-only model, 0.35 by the sound, read the dev recordings without sound
        better so)."""
        return SegmentConfig(lead=self.loaded.window_lead) if source == "sound" else SegmentConfig(bridge=0.3)

    def _queue(self, win: Window, mouth: np.ndarray, features: np.ndarray | None, modality: str) -> None:
        """Add one window to the batch being gathered; a full batch (or a change of modality) is read."""
        if self._pending and self._pending[-1][3] != modality:
            self._flush()
        self._pending.append((win, mouth, features, modality))
        self._read.add(modality)
        if len(self._pending) >= self.batch_size:
            self._flush()

    def _flush(self) -> None:
        if self._pending:
            items, modality = [item[:3] for item in self._pending], self._pending[0][3]
            self._pending = []
            self._done += self._run(items, modality)

    def transcribe(self, path: str | os.PathLike, progress: Callable[[int, int], None] | None = None) -> Transcript:
        """One file -> :class:`Transcript`. A file up to 1.2 training clips long is read whole; a longer one in
        blocks of ``block_seconds``, each cut into utterances read in windows like the training clips
        (:mod:`lipread.pipelines.windows`). ``progress(done, total)`` is called in seconds of the file."""
        from lipread.io.probe import probe

        path = os.fspath(path)
        t0 = time.perf_counter()
        info = probe(path)
        duration = info.duration or 0.0
        sound = any(s.type == "audio" for s in info.streams)
        self._sound = sound  # known from the probe: the front end does not open the file to ask again
        # landmarks on every other frame where the sound finds the pauses; a silent file's pauses come from the
        # mouth's motion, which needs every frame
        modality = self.file_modality(path, sound)
        self.frontend.config.landmark_every = LANDMARK_EVERY if sound and not self._pauses_by_mouth(modality) else 1
        single = duration <= 0 or duration <= self.loaded.window_seconds * 1.2
        # the model's audio features: of the whole file when it is short, else of each window (see window_sound)
        self.frontend.config.audio = modality != "video" and single
        self.frontend.config.waveform = sound  # the sound, which finds the pauses of a long file
        self._directions: list[tuple[float, float]] = []
        self._windows_read = 0
        self._stats: list[dict[str, float]] = []
        self._pending: list[tuple[Window, np.ndarray, np.ndarray | None, str]] = []
        self._done: list[Segment] = []
        self._notes: list[str] = []
        self._read: set[str] = set()
        self._faces: list[dict] = []
        self._offsets: list[float] = []
        self.times.add("plan", t0)
        if single:
            duration = self._read_whole(path, modality)
        else:
            self._read_blocks(path, duration, modality, progress)
        self._flush()
        # what was read throughout: the sound alone where no face was seen, the lips alone if the sound is silent
        final = next(iter(self._read)) if len(self._read) == 1 else modality
        transcript = Transcript(path, duration, sorted(self._done, key=lambda s: s.start), model=self.loaded.name,
                                modality=final, faces=self._faces,
                                av_offset=round(float(np.median(self._offsets)), 3) if self._offsets else None)
        domain = self._warnings(transcript, self._stats, single)
        if domain:
            log.warning("%s: may be unlike the model's training data: %s", path, "; ".join(domain))
        transcript.warnings = self._notes + domain
        return transcript

    def _front(self, path: str, modality: str, start: float | None = None, end: float | None = None):
        """The front end on [start, end) -> (result or None, modality read). With no face there, an
        audio-visual model chosen by ``--modality auto`` reads the sound alone (None: no mouth crops)."""
        from lipread.errors import FaceTooSmallError

        try:
            return self.frontend.process(path, start=start, end=end, has_sound=self._sound), modality
        except NoFaceError as exc:
            if not (self.modality == "auto" and modality == "av"):
                raise
            self._why_no_face = "the face is too small" if isinstance(exc, FaceTooSmallError) else "no face"
        span = "" if start is None else f" in {start:.2f}-{end:.2f}s"
        log.warning("%s: %s%s: reading the sound alone (modality audio)", path, self._why_no_face, span)
        return None, "audio"

    def _read_whole(self, path: str, modality: str) -> float:
        """A short file: one window over all of it. Returns its duration."""
        t0 = time.perf_counter()
        result, read = self._front(path, modality)
        if result is None:
            mouth, sound = self._audio_only(path)
            duration = len(mouth) / VIDEO_FPS
            win = Window(0.0, duration, 0.0, duration)
            self._note_audio_only(0.0, duration)
            features = compute_features(sound, self.loaded.frontend.audio_features, n_video_frames=len(mouth))
            heard = self._speaker(None, sound, "audio")
            if heard:
                self._stats.append(heard)
            self._queue(win, mouth, features, "audio")
            return duration
        self.times.add("frontend", t0)
        win = Window(0.0, result.duration, 0.0, result.duration, face=self._face_read(result, result.duration / 2))
        read = self._unless_silent(path, read, result.waveform is not None and is_silent(result.waveform))
        self._stats.append({**mouth_stats(result.mouth), **self._speaker(result.mouth, result.waveform, read)})
        self._queue(win, self.eval_crop(result.mouth), result.audio_features if read != "video"
                    else None, read)
        return result.duration

    def _unless_silent(self, path: str, modality: str, silent: bool) -> str:
        """``modality``, or ``video`` where ``auto`` chose lips and sound but the sound track is ``silent``
        (muted): said once per file."""
        if modality != "av" or self.modality != "auto" or not silent:
            return modality
        if SILENT_NOTE not in self._notes:
            log.warning("%s: the sound track is silent: reading the lips only (modality video)", path)
            self._notes.append(SILENT_NOTE)
        return "video"

    def _face_read(self, result, at: float) -> dict | None:
        """The face ``result`` read at ``at`` seconds (id, box, reason) when it saw several faces or was told
        which to read, else None; keeps the file's faces and the sound's offset for the transcript."""
        if len(result.faces) > len(self._faces):
            self._faces = [dict(f, box=list(f["box"])) for f in result.faces]
        if result.av_offset is not None:
            self._offsets.append(float(result.av_offset))
        if len(result.faces) < 2 and self.frontend.config.face == "auto":
            return None
        stretch = next((c for c in result.face_choice if c["start"] <= at < c["end"]), result.face_choice[-1])
        box = next(f["box"] for f in result.faces if f["id"] == stretch["face"])
        return {"id": stretch["face"], "box": list(box), "reason": stretch["reason"]}

    def _audio_only(self, path: str, start: float | None = None, end: float | None = None):
        """(placeholder mouth (T, 1, 1, C), sound (S,) of T frames) of a stretch read from the sound alone."""
        from lipread.io.audio import read_audio

        audio = read_audio(path, start=start, end=end)
        n = int(len(audio) * VIDEO_FPS // AUDIO_SAMPLE_RATE)
        if n == 0:
            raise MediaError("no sound to read where there is no face", path, "Use a video with a visible face.")
        channels = 1 if self.loaded.frontend.gray else 3
        return np.zeros((n, 1, 1, channels), np.uint8), fit_samples(audio, n)

    def _note_audio_only(self, start: float, end: float) -> None:
        """Say in the transcript where there was no face and the sound alone was read (one stretch a block)."""
        self._notes.append(f"{self._why_no_face} in {start:.2f}-{end:.2f}s: read from the sound alone")

    def _read_blocks(self, path: str, duration: float, modality: str, progress) -> None:
        """A long file, ``block_seconds`` at a time (+ ``lookahead`` s so an utterance at a block's end is
        read whole): utterances found in the sound (or, with no sound read, the mouth's motion), each read
        in a window of the training clips' length around it; the next block starts where the last
        utterance read ended."""
        fps = VIDEO_FPS
        spf = int(AUDIO_SAMPLE_RATE // fps)
        length = int(round(self.loaded.window_seconds * fps))
        pos, truncated = 0.0, False
        total = max(1, int(round(duration)))
        while pos < duration - 1.0 / fps:
            end = min(duration, pos + self.block_seconds + self.lookahead)
            last = end >= duration - 1.0 / fps
            t0 = time.perf_counter()
            try:
                result, read = self._front(path, modality, pos, end)
            except NoFaceError:
                log.warning("%s: no face in %.2f-%.2fs; nothing read there", path, pos, end)
                pos = end if last else pos + self.block_seconds
                continue
            except MediaError:
                if not self._done + self._pending:
                    raise
                log.warning("%s: truncated or damaged; nothing decodes after %.2fs, lost %.2fs of %.2fs",
                            path, pos, duration - pos, duration)  # keep what was read (said once per file)
                break
            if result is None:
                mouth, waveform = self._audio_only(path, pos, end)
                start, n = pos, len(mouth)
            else:
                truncated = truncated or bool(result.report and result.report.truncated)
                mouth, waveform, start, n = result.mouth, result.waveform, result.start, len(result.valid)
            energy = None if waveform is None else frame_energy_db(waveform, n, spf)  # dB per frame
            silent = energy is not None and float(energy.max(initial=-np.inf)) < SILENT_DB
            if result is not None:
                read = self._unless_silent(path, read, silent)
            self.times.add("frontend", t0)
            # the pauses of the sound (also when only the lips are read), else of the mouth's motion
            source = "sound" if energy is not None and (result is None or not silent) else "mouth"
            if result is not None and self._pauses_by_mouth(read):
                source = "mouth"
            if source == "sound":
                activity = energy
                threshold = adaptive_threshold(activity, min_range=10.0)
            else:
                activity = mouth_activity(result.landmarks, result.valid)
                threshold = adaptive_threshold(activity, 20, 80, 0.3)
            # no contrast between quiet and busy frames (talk throughout, or none): cut at the quietest frames
            utts = utterances(activity, -np.inf if threshold is None else threshold, self.segment_config(source))
            done = n if last or truncated else int(round(self.block_seconds * fps))
            kept = [u for u in utts if u[0] < done and (last or u[1] < n - fps // 2)]
            nxt = n  # where the next block starts: after the last utterance read here, or a second before the
            if not last:  # first one left to it (for its context), and never where this block started
                later = [u[0] for u in utts if u not in kept]
                nxt = max(1, *[u[1] for u in kept], min(later + [done]) - int(fps))
            windows = context_windows(kept, n, length, self.segment_config(source).lead, 0, nxt,
                                      still=self.context == "still")
            quiet = None if energy is None else float(np.percentile(energy, 10))
            for (s, e), fw in zip(kept, windows):
                win = Window(start + fw.start / fps, start + fw.end / fps, start + fw.own_start / fps,
                             start + fw.own_end / fps, speech=(start + s / fps, start + e / fps),
                             face=None if result is None else self._face_read(result, start + (s + e) / 2 / fps))
                index = fw.frame_index()
                own = None if waveform is None else waveform[fw.real_start * spf : fw.real_end * spf]
                if result is not None:
                    self._stats.append({**mouth_stats(mouth[fw.real_start : fw.real_end]),
                                        **self._speaker(mouth[fw.real_start : fw.real_end], own, read)})
                    clip = self.eval_crop(mouth[index])
                else:
                    heard = self._speaker(None, own, read)
                    if heard:
                        self._stats.append(heard)
                    clip = mouth[index]
                feats = None
                if read != "video":
                    feats = compute_features(window_sound(waveform, fw, spf, quiet), self.loaded.frontend.audio_features,
                                             n_video_frames=len(index))
                self._queue(win, clip, feats, read)
                if progress:
                    progress(min(int(win.own_end), total), total)
            if result is None:
                self._note_audio_only(start, start + nxt / fps)
            if progress:
                progress(total if last else min(int(start + nxt / fps), total), total)
            pos = start + nxt / fps
            if truncated:
                break

    def _speaker(self, mouth: np.ndarray | None, waveform: np.ndarray | None, read: str) -> dict[str, float]:
        """Distances of the face read and the voice heard from the training speaker's (none when the model
        carries no speaker profile)."""
        speaker = (self.domain or {}).get("speaker")
        if not speaker:
            return {}
        from lipread.pipelines.speaker import speaker_distances

        return speaker_distances(speaker, mouth if read != "audio" else None,
                                 waveform if read != "video" else None)

    def _warnings(self, transcript: Transcript, stats: list[dict[str, float]], single: bool) -> list[str]:
        """Out-of-domain warnings for one file (:mod:`lipread.pipelines.domain`): each measure's median over
        the windows that have it."""
        if not self.domain or not stats:
            return []
        keys = {k for s in stats for k in s}
        median = {k: float(np.median([s[k] for s in stats if k in s])) for k in keys}
        direction = tuple(np.mean(self._directions, axis=0)) if self._directions else None
        return domain_warnings(self.domain, median, transcript.confidence, direction,
                               transcript.duration if single else None, modality=transcript.modality)

    @torch.no_grad()
    def _run(self, items: list[tuple[Window, np.ndarray, np.ndarray | None]], modality: str = "video") -> list[Segment]:
        """Read one batch of windows (one model pass, :mod:`lipread.readers`); the reading-direction check
        reads the lips backwards and compares with the forward reading that pass gave."""
        from lipread.data.batch import collate_clips

        video, video_lengths, audio, audio_lengths = collate_clips(
            [mouth for _, mouth, _ in items], [f for *_, f in items] if modality != "video" else None)
        dev = self.loaded.device
        checked = []
        if self.domain and self.domain.get("direction_margin") is not None and modality != "audio":
            checked = [i for i in range(len(items)) if direction_sampled(self._windows_read + i)]
        # the direction check's backward reading runs beside the decoding, whose beam search leaves a core idle
        backward = Background(self.reader.clips_reading, [items[i][1][::-1] for i in checked]) if checked else None
        t0 = time.perf_counter()
        reading = self.reader.read(video.to(dev), video_lengths.to(dev),
                                   None if audio is None else audio.to(dev),
                                   None if audio_lengths is None else audio_lengths.to(dev), modality,
                                   time_offset=[win.start for win, *_ in items])
        t0 = self.times.add("model+decoder", t0)
        if backward is not None:
            lips = reading.lips
            if lips is not None and len(checked) < len(items):
                lips = (lips[0][checked], lips[1][checked])
            self._directions += self.reader.direction_scores([items[i][1] for i in checked], lips, backward.result())
            self.times.add("domain", t0)
        self._windows_read += len(items)
        return self._segments(items, reading.nbests)

    @staticmethod
    def _segments(items, decoded) -> list[Segment]:
        segments = []
        for (win, *_), nbest in zip(items, decoded):
            best = nbest[0] if nbest else None
            words = keep_owned(best.words, win) if best else []
            text = " ".join(w.word for w in words) if best and best.words else (best.text if best else "")
            start, end = max(0.0, win.own_start), win.own_end
            if win.speech is not None:  # an utterance's segment spans its words (else its speech), inside what it owns
                first, last = (words[0].start, words[-1].end) if words else win.speech
                start, end = max(start, first - SEGMENT_MARGIN), min(end, last + SEGMENT_MARGIN)
                for w in words:  # a word timed into the window's still context stays inside its segment
                    w.start, w.end = min(max(w.start, start), end), max(min(w.end, end), start)
            segments.append(Segment(round(start, 3), round(end, 3), text, words, face=win.face))
        return segments

    def close(self) -> None:
        self.frontend.close()


DIRECTION_FIRST, DIRECTION_EVERY = 4, 5
"""The reading-direction check (which reads the lips once more, backwards) reads a file's first
``DIRECTION_FIRST`` windows and every ``DIRECTION_EVERY``-th after them; its warning is on their mean, so a
long recording pays for about a fifth of its windows (a 3-s clip, one window, is always checked)."""


def direction_sampled(index: int) -> bool:
    """Whether the ``index``-th window read from a file (from 0) is read backwards for the direction check."""
    return index < DIRECTION_FIRST or (index - DIRECTION_FIRST) % DIRECTION_EVERY == DIRECTION_EVERY - 1


def window_sound(waveform: np.ndarray, window, samples_per_frame: int, quiet_db: float | None) -> np.ndarray:
    """The sound of a :class:`~lipread.pipelines.windows.FrameWindow` (its frames' samples of the block's
    ``waveform``), quiet outside its real frames: noise at ``quiet_db`` (the block's quiet level), as in
    the silence of a training clip."""
    spf = samples_per_frame
    out = np.zeros((window.end - window.start) * spf, np.float32)
    lo, hi = window.real_start - window.start, window.real_end - window.start
    out[lo * spf : hi * spf] = waveform[window.real_start * spf : window.real_end * spf]
    if quiet_db is not None and (lo > 0 or hi < window.end - window.start):
        noise = np.random.default_rng(abs(window.start)).normal(0.0, 10 ** (quiet_db / 20), out.shape).astype(np.float32)
        out[: lo * spf] = noise[: lo * spf]
        out[hi * spf :] = noise[hi * spf :]
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
    decode: DecodeOptions | None = None,
    modality: str = "auto",
    length_norm: float | None = None,
    ctc_weight: float | None = None,
    grammar: str | None = None,
    face: str = "auto",
) -> Transcript:
    """Transcribe one video: ``lipread.transcribe("clip.mp4")`` with the default zoo model (``wlas-grid-s1``:
    lips and sound when the video has sound, else the lips alone).

    Takes what ``lipread transcribe`` takes: ``model`` (zoo name, checkpoint folder or a loaded model),
    ``decoder`` ("greedy" | "beam"), ``beam_size``, ``lm`` / ``lexicon`` (files, or "grid"), ``lm_weight``,
    ``word_score`` (None: the setting stored with the model), ``device`` (auto | cpu | cuda | cuda:N),
    ``batch_size`` (windows per model call),
    ``modality`` (audio-visual models: auto | av | video | audio), ``length_norm`` and ``ctc_weight`` (attention beam search), ``grammar`` ("grid": GRID sentences only),
    ``face`` (which face to read when several are seen: "auto" (the one whose mouth moves with the sound),
    "largest" or "N", numbered left to right).
    """
    transcriber = Transcriber(model, decode, batch_size=batch_size, device=device, face=face,
                              modality=modality, decoder=decoder, beam_size=beam_size, lm=lm, lexicon=lexicon,
                              lm_weight=lm_weight, word_score=word_score, length_norm=length_norm,
                              ctc_weight=ctc_weight, grammar=grammar)
    try:
        return transcriber.transcribe(path)
    finally:
        transcriber.close()
