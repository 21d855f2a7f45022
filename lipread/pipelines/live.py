"""Live reading: lips (and sound) read as they come, from a camera, a stream, or a file played at its pace.

A :class:`Source` decodes in a thread of its own and hands 25 fps RGB frames and 16 kHz mono sound to a
bounded queue. With ``realtime`` a file is delivered at its own pace, as a camera would deliver it; a
camera, a stream or a paced file never waits for the reader: when the queue is full a frame is dropped
(counted, said once), so reading never falls further behind. A file read as fast as possible waits instead.

:class:`LiveReader` follows the face frame by frame (the landmark model in tracking mode, as for files),
cuts each mouth crop once its smoothing window (±``smooth_radius`` frames) has arrived, and finds the
utterances as the long-file reader does (:mod:`lipread.pipelines.windows`: pauses in the sound, or the
mouth's motion without sound). An utterance is read as soon as a pause of ``SegmentConfig.pause`` follows
it, in a window of the training clips' length (what has not arrived yet is the still context: its edge
frames repeated, a quiet sound), and yielded as an :class:`Utterance`. Only what a window can still
need is kept (a few seconds), so memory stays flat however long the source runs.

Legend: frames are 25 fps; a "frame index" counts frames from the source's first.
"""

from __future__ import annotations

import logging
import os
import queue
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lipread.errors import InputFileError, MediaError
from lipread.types import AUDIO_SAMPLE_RATE, VIDEO_FPS, WordSpan

log = logging.getLogger("lipread.live")

SPF = AUDIO_SAMPLE_RATE // int(VIDEO_FPS)
"""Sound samples per video frame."""
KEEP_BEFORE = 4.0
"""Seconds kept before the next utterance can start: its window's lead-in, and an utterance read at its pause
that a follower may still join (it is then read again, whole)."""
AHEAD = 3
"""Frames of quiet after an utterance (the activity's ``bridge``) from which it is read ahead of its pause
being long enough to end it (``SegmentConfig.pause``): its line is then ready when the pause is."""
SAME = 3
"""Frames an utterance's start or end may move by (the speech threshold adapts as sound arrives) and still
be the utterance already read."""
RECENT = 60.0
"""Seconds of activity the speech/pause threshold adapts to (the file reader's block length)."""
EDGE = 4
"""Frames at the end of what has arrived whose activity is not yet trusted (smoothing reaches past them)."""
MAX_WAIT = 20.0
"""With no utterance complete after this many seconds (talk with no pause, or none at all), what is
buffered is read or dropped, so memory stays bounded."""


@dataclass
class Utterance:
    """One utterance read from a live source: seconds of the source, words with times and confidences."""

    text: str
    start: float
    end: float
    words: list[WordSpan] = field(default_factory=list)
    confidence: float | None = None
    warnings: list[str] = field(default_factory=list)
    modality: str = "video"
    latency: float | None = None
    """Seconds from the end of the utterance's speech in the source to when it was read (paced sources)."""
    id: int = 0
    """Its number in the stream (0, 1, ...); a revision has the number of the utterance it replaces."""
    revised: bool = False
    """This replaces the utterance with the same ``id`` given before: a short utterance that followed it
    within ``SegmentConfig.join`` (a sentence's last word after a closure) joined it, so it was read again."""

    def to_dict(self) -> dict[str, Any]:
        out = {"event": "utterance", "id": self.id, **({"revised": True} if self.revised else {}), "text": self.text, "start": round(self.start, 3), "end": round(self.end, 3),
               "words": [{"word": w.word, "start": round(w.start, 3), "end": round(w.end, 3),
                          **({"confidence": round(w.confidence, 3)} if w.confidence is not None else {})}
                         for w in self.words],
               "confidence": None if self.confidence is None else round(self.confidence, 3),
               "warnings": list(self.warnings), "modality": self.modality}
        if self.latency is not None:
            out["latency"] = round(self.latency, 3)
        return out


def describe_source(source: str | int) -> str:
    return f"camera {source}" if is_camera(source) else ("standard input" if source == "-" else str(source))


def is_camera(source: str | int) -> bool:
    return isinstance(source, int) or (isinstance(source, str) and source.isdigit())


def check_source(source: str | int) -> None:
    """A file source that is missing or a folder: the error :func:`open_source` would give, without opening."""
    if is_camera(source) or source == "-" or "://" in str(source):
        return
    if not os.path.exists(source):
        raise InputFileError("file not found", source, "Check the path, or give a camera index or a URL.")
    if os.path.isdir(source):
        raise InputFileError("is a directory, not a media file", source, "Give a video file.")


def open_source(source: str | int):
    """A PyAV container for ``source``: a camera index, ``-`` (stdin), a URL or a file path."""
    import av

    name = describe_source(source)
    try:
        if is_camera(source):
            index = int(source)
            if sys.platform.startswith("linux"):
                return av.open(f"/dev/video{index}", format="v4l2")
            if sys.platform == "darwin":
                return av.open(str(index), format="avfoundation")
            return av.open(f"video={index}", format="dshow")  # pragma: no cover - Windows
        if source == "-":
            return av.open(sys.stdin.buffer, mode="r")
        check_source(source)
        return av.open(str(source), timeout=10.0) if "://" in str(source) else av.open(str(source))
    except (InputFileError, MediaError):
        raise
    except Exception as exc:  # PyAV/FFmpeg errors, OSError from a missing camera device
        why = getattr(exc, "strerror", None) or str(exc) or exc.__class__.__name__
        fix = ("Check that the camera is connected and not used by another program, or give a video file."
               if is_camera(source) else "Give a video file, a stream URL PyAV can open, or a camera index.")
        raise MediaError(f"cannot open {name} ({why})", name, fix) from None


class Source:
    """Decodes ``source`` in a thread: ``("video", index, frame)`` (25 fps slots, RGB uint8) and
    ``("audio", samples)`` (16 kHz mono float32) on :attr:`queue`, then ``("end", reason)``.

    ``realtime``: deliver at the source's own pace (a file as a camera would); a live source (camera,
    URL, stdin) or a paced file drops frames the reader has not taken in time (``dropped``)."""

    def __init__(self, source: str | int, realtime: bool = False, queue_seconds: float = 2.0):
        self.source, self.name = source, describe_source(source)
        self.container = open_source(source)
        if not self.container.streams.video:
            kinds = ", ".join(s.type for s in self.container.streams) or "no streams"
            self.container.close()
            raise MediaError(f"no video stream (found: {kinds})", self.name, "Give a source with video.")
        self.has_audio = bool(self.container.streams.audio)
        self.live = is_camera(source) or source == "-" or "://" in str(source)
        self.realtime = realtime or self.live
        self.queue: queue.Queue = queue.Queue(maxsize=max(4, int(queue_seconds * VIDEO_FPS)))
        self.dropped = 0
        self.frames = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lipread-live-source", daemon=True)
        self.error: BaseException | None = None

    def start(self) -> Source:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5.0)

    def _put(self, item, droppable: bool) -> bool:
        while not self._stop.is_set():
            if droppable and self.realtime:
                try:
                    self.queue.put_nowait(item)
                    return True
                except queue.Full:
                    if self.dropped == 0:
                        log.warning("%s: the reader cannot keep up; skipping frames", self.name)
                    self.dropped += 1
                    return False
            try:
                self.queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        import av

        reason = "end of source"
        streams = [self.container.streams.video[0]] + ([self.container.streams.audio[0]] if self.has_audio else [])
        streams[0].thread_type = "AUTO"
        resampler = av.AudioResampler(format="flt", layout="mono", rate=AUDIO_SAMPLE_RATE) if self.has_audio else None
        from lipread.io.video import nominal_fps

        rate = nominal_fps(streams[0]) or VIDEO_FPS
        wall0 = None
        next_slot = 0
        last_t = None  # the video's clock: its timestamps, or the nominal rate where they do not advance
        audio_t0 = None
        audio_started = False
        try:
            for packet in self.container.demux(streams):
                if self._stop.is_set():
                    reason = "stopped"
                    break
                try:
                    frames = packet.decode()
                except av.error.FFmpegError as exc:  # a damaged packet: skip it, as the file reader does
                    log.debug("%s: skipped a packet (%s)", self.name, exc)
                    continue
                for frame in frames:
                    if packet.stream.type == "audio":
                        if audio_t0 is None:
                            audio_t0 = float(frame.time or 0.0)
                        for out in resampler.resample(frame):
                            samples = out.to_ndarray().reshape(-1).astype(np.float32)
                            if not audio_started:  # the sound's start placed on the video's clock (0 = its start)
                                audio_started = True
                                lead = int(round(audio_t0 * AUDIO_SAMPLE_RATE))
                                samples = (np.concatenate([np.zeros(lead, np.float32), samples]) if lead >= 0
                                           else samples[-lead:])
                            self._put(("audio", samples), droppable=False)
                        continue
                    t = float(frame.time) if frame.time is not None else None
                    if t is None or (last_t is not None and t <= last_t):
                        t = 0.0 if last_t is None else last_t + 1.0 / rate
                    if last_t is None:
                        wall0 = time.monotonic() - t
                    last_t = t
                    slot = int(round(t * VIDEO_FPS))
                    if slot < next_slot:
                        continue  # a faster source: the nearest frame of each slot is kept
                    if self.realtime and not self.live:
                        delay = wall0 + t - time.monotonic()
                        if delay > 0:
                            time.sleep(delay)
                    image = frame.to_ndarray(format="rgb24")
                    while next_slot <= slot:  # a gap in the source repeats the frame
                        self.frames += 1
                        self._put(("video", next_slot, image), droppable=True)
                        next_slot += 1
        except Exception as exc:  # surfaced by the reader, with the source's name
            self.error = exc
            reason = "error"
        finally:
            self.container.close()
            try:
                self.queue.put(("end", reason), timeout=5.0)
            except queue.Full:  # the reader is gone
                pass


class LiveReader:
    """Reads utterances from a live source with a model: ``for u in LiveReader(model).stream(src): ...``."""

    def __init__(self, model="wlas-grid-s1", modality: str = "auto", device: str = "auto", face: str = "largest",
                 wait: bool = False, **decode_overrides: Any):
        from lipread.pipelines.transcribe import Transcriber

        self.transcriber = Transcriber(model, device=device, modality=modality, face=face, **decode_overrides)
        # one landmark tracker live: frames come a few at a time, as they are filmed, so a second tracker taking
        # every other one would only add a hand-over per frame (files are read with two: transcribe)
        self.transcriber.frontend.config.landmark_workers = 1
        if self.transcriber.domain:  # no reading-direction check live: it reads the lips four more times a
            # window, and a live feed does not run backwards; the other checks stay
            self.transcriber.domain = {k: v for k, v in self.transcriber.domain.items() if k != "direction_margin"}
        self.source: Source | None = None
        self._state: _State | None = None
        self.interrupted = False
        self.wait = bool(wait)
        """Wait, after the pause that ends an utterance, until no short one can join it (up to ``join``, 1 s: a
        sentence's last word after a closure) before reading it: never revised, about 1 s later. Without it,
        an utterance is read as soon as the pause follows, and read again (``revised``) when one joins."""
        self._warm = False
        self._stop: threading.Event | None = None

    @property
    def loaded(self):
        return self.transcriber.loaded

    def stream(self, source: str | int = 0, realtime: bool = False, on_ready=None) -> Iterator[Utterance]:
        """Utterances of ``source`` as they end. ``on_ready()`` is called once the first frame has arrived.
        An utterance with ``revised`` True replaces the one given before with the same ``id`` (unless
        ``wait``).

        Ctrl-C (SIGINT, when called from the main thread) ends the stream cleanly: the source stops and what
        it has delivered is read and yielded; a second Ctrl-C stops at once."""
        import signal

        src = Source(source, realtime=realtime)
        self.source = src
        modality = self.transcriber.file_modality(src.name, src.has_audio)
        self.warm_up(modality)
        state = self._state = _State(self, src, modality)
        stop = self._stop = threading.Event()
        previous = None
        if threading.current_thread() is threading.main_thread():
            def on_sigint(signum, frame):
                if stop.is_set():
                    raise KeyboardInterrupt
                stop.set()

            previous = signal.signal(signal.SIGINT, on_sigint)
        src.start()
        try:
            while not stop.is_set():
                try:
                    item = src.queue.get(timeout=0.2)
                except queue.Empty:
                    continue
                if item[0] == "end":
                    if src.error is not None:
                        fix = ("A stream on standard input must be in a container that can be read without "
                               "seeking (MPEG-TS, Matroska/WebM, fragmented MP4); give a plain MP4 by its path."
                               if source == "-" else "Check the source; a file may be damaged.")
                        raise MediaError(f"reading stopped: {src.error}", src.name, fix) from None
                    break
                items = [item]
                while len(items) < 16:  # whatever else has arrived: frames are tracked a few at a time
                    try:
                        nxt = src.queue.get_nowait()
                    except queue.Empty:
                        break
                    if nxt[0] == "end":
                        src.queue.put(nxt)
                        break
                    items.append(nxt)
                if state.add(items) and on_ready is not None:
                    on_ready()
                    on_ready = None
                yield from state.ready()
            if stop.is_set():
                self.interrupted = True
                src.stop()
            yield from state.finish()
        finally:
            src.stop()
            if previous is not None:
                signal.signal(signal.SIGINT, previous)

    def stop(self) -> None:
        """End :meth:`stream` as Ctrl-C does (from another thread, or a callback)."""
        if getattr(self, "_stop", None) is not None:
            self._stop.set()

    def warm_up(self, modality: str) -> None:
        """One-time start-up before the first frame (the first MFCC, the landmark model, the first model
        call), so that it does not delay the first utterance."""
        if self._warm:
            return
        from lipread.audio.features import compute_features
        from lipread.pipelines.windows import Window

        t = self.transcriber
        n = int(round(t.loaded.window_seconds * VIDEO_FPS))
        w, h = t.frontend.preset.size
        clip = np.full((n, h, w, 1 if t.loaded.frontend.gray else 3), 128, np.uint8)
        feats = None
        if modality != "video":
            feats = compute_features(np.zeros(n * SPF, np.float32), t.loaded.frontend.audio_features, n_video_frames=n)
        t.frontend.backend.detect(np.zeros((1, 64, 64, 3), np.uint8))
        t.frontend.backend.reset()
        t._directions = []
        t._run([(Window(0.0, n / VIDEO_FPS, 0.0, n / VIDEO_FPS), t.eval_crop(clip), feats)],
               modality)
        self._warm = True

    def close(self) -> None:
        if self.source is not None:
            self.source.stop()
        self.transcriber.close()


def stream(source: str | int = 0, model="wlas-grid-s1", realtime: bool = False, **options: Any) -> Iterator[Utterance]:
    """Read a live source an utterance at a time, as each ends:
    ``for u in lipread.stream("clip.mp4", realtime=True): print(u.text)``.

    ``source``: a camera index, a video file, a stream URL or ``-`` (stdin); ``model``: a zoo name, checkpoint
    folder or loaded model (:func:`lipread.load_model`); ``realtime`` paces a file as a camera would.
    ``options``: ``modality``, ``face``, ``wait``, ``device`` and decoder settings (:class:`LiveReader`).
    Yields :class:`Utterance` (one with ``revised`` replaces the one given before with its ``id``).
    """
    reader = LiveReader(model, **options)
    try:
        yield from reader.stream(source, realtime=realtime)
    finally:
        reader.close()


class _State:
    """The buffers of one live source: frames awaiting their crop, crops, landmarks, sound, activity."""

    def __init__(self, reader: LiveReader, src: Source, modality: str):
        from lipread.face.track import FaceTracks
        from lipread.pipelines.transcribe import Transcriber

        self.reader, self.src, self.modality = reader, src, modality
        t: Transcriber = reader.transcriber
        self.t = t
        self.frontend = t.frontend
        self.backend = t.frontend.backend
        self.backend.reset()
        self.tracks = FaceTracks()
        self.radius = int(t.frontend.config.smooth_radius)
        self.length = int(round(t.loaded.window_seconds * VIDEO_FPS))
        self.segment = t.segment_config("sound" if src.has_audio else "mouth")
        self.wall0: float | None = None
        self.base = 0  # absolute index of the buffers' first frame
        self.origin = 0  # absolute index from which the next utterance is looked for
        self.prev_end: int | None = None  # absolute end of the last utterance read for good
        self.shown: tuple[int, int, Utterance] | None = None  # read at its pause; a follower may still join it
        self.ahead: tuple[int, int, Utterance] | None = None  # read as its pause began, not given out yet
        self.next_id = 0
        self.raw: dict[int, np.ndarray] = {}  # frames awaiting their crop
        self.points: list[np.ndarray | None] = []  # chosen face's landmarks per frame (buffer)
        self.crops: list[np.ndarray] = []
        self.valid: list[bool] = []
        self.energy: list[float] = []
        self.wave = np.zeros(0, np.float32)  # buffer's sound, from base * SPF
        self.pending_audio = np.zeros(0, np.float32)
        self.received = 0  # absolute frames received
        self.cropped = 0  # absolute frames cropped
        self.face_track: int | None = None
        self.last_points: np.ndarray | None = None
        self.started = False
        self.channels = 1 if t.loaded.frontend.gray else 3
        self.crop_size = t.frontend.preset.size
        self.all_energy: list[float] = []

    # ---- intake ------------------------------------------------------------------------------------------

    def add(self, items) -> bool:
        """Take decoded items; True the first time a frame arrives."""
        first = not self.started
        frames, slots = [], []
        for item in items:
            if item[0] == "audio":
                self.pending_audio = np.concatenate([self.pending_audio, item[1]])
            else:
                _, slot, image = item
                while self.received < slot:  # dropped frames: the last one held
                    prev = frames[-1] if frames else self.raw.get(self.received - 1)
                    if prev is None:
                        prev = image
                    frames.append(prev)
                    slots.append(self.received)
                    self.received += 1
                frames.append(image)
                slots.append(slot)
                self.received = slot + 1
        if frames:
            self.started = True
            if self.wall0 is None:
                self.wall0 = time.monotonic() - slots[0] / VIDEO_FPS
            self._track(np.stack(frames), slots)
        self._take_audio()
        self._crop(final=False)
        return first and self.started

    def _track(self, frames: np.ndarray, slots: list[int]) -> None:
        from lipread.face.track import _box

        for slot, frame, faces in zip(slots, frames, self.backend.detect(frames)):
            by_id = self.tracks.update(faces)
            pts = None
            if by_id:
                if self.face_track not in by_id:  # the largest face, kept while it is seen
                    self.face_track = max(by_id, key=lambda k: _box(by_id[k])[1])
                pts = by_id[self.face_track]
            self.raw[slot] = frame
            self.points.append(None if pts is None else np.asarray(pts, np.float32))
            if pts is not None:
                self.last_points = np.asarray(pts, np.float32)
        self.tracks._frames.clear()  # only the last positions are needed; memory stays flat

    def _take_audio(self) -> None:
        if not self.src.has_audio:
            return
        whole = len(self.pending_audio) // SPF
        if whole == 0:
            return
        from lipread.audio.activity import frame_energy_db

        take, self.pending_audio = self.pending_audio[: whole * SPF], self.pending_audio[whole * SPF :]
        energy = frame_energy_db(take, whole, SPF)
        self.wave = np.concatenate([self.wave, take])
        self.energy.extend(float(e) for e in energy)
        self.all_energy.extend(float(e) for e in energy)
        self.all_energy = self.all_energy[-int(RECENT * VIDEO_FPS):]

    def _crop(self, final: bool) -> None:
        """Crop every frame whose smoothing window has arrived (all of them when ``final``)."""
        from lipread.face.align import crop_transforms, warp_crops

        upto = self.received if final else self.received - self.radius
        if upto <= self.cropped:
            return
        lo = max(self.base, self.cropped - 2 * self.radius)
        pts = self.points[lo - self.base : self.received - self.base]
        known = [i for i, p in enumerate(pts) if p is not None]
        todo = range(self.cropped, upto)
        if not known:  # no face yet: placeholder crops, marked invalid
            w, h = self.crop_size
            for i in todo:
                self.crops.append(np.zeros((h, w, self.channels), np.uint8))
                self.valid.append(False)
                self.raw.pop(i, None)
            self.cropped = upto
            return
        from lipread.face.track import interpolate_missing

        found = np.array([p is not None for p in pts])
        held = np.stack([p if p is not None else pts[known[0]] for p in pts])
        # missing frames: linear between found ones, held at the ends (as the file front end fills them)
        transforms = crop_transforms(interpolate_missing(held, found), self.frontend.geometry, self.frontend.preset,
                                     self.radius)
        rows = np.arange(self.cropped, upto) - lo
        frames = np.stack([self.raw.pop(i) for i in todo])
        crops = warp_crops(frames, transforms[rows], self.crop_size, self.frontend.config.gray)
        self.crops.extend(crops)
        self.valid.extend(pts[r] is not None for r in rows)
        self.cropped = upto

    # ---- utterances --------------------------------------------------------------------------------------

    def _available(self) -> int:
        """Absolute frames whose activity is known: their landmarks and (with sound) their sound. Their crops
        may lag by the smoothing radius; a window needs them only up to its utterance's end."""
        n = self.received
        if self.src.has_audio:
            n = min(n, self.base + len(self.energy))
        return n

    def _activity(self, upto: int) -> tuple[np.ndarray, float | None, str]:
        from lipread.audio.activity import adaptive_threshold

        lo, hi = self.origin - self.base, upto - self.base
        if self.src.has_audio and not self._silent():
            act = np.asarray(self.energy[lo:hi])
            return act, adaptive_threshold(np.asarray(self.all_energy), min_range=10.0), "sound"
        from lipread.face.motion import mouth_activity

        pts = self.points[: hi]
        if not any(p is not None for p in pts):
            return np.zeros(hi - lo), None, "mouth"
        ref = next(p for p in pts if p is not None)
        filled = np.stack([p if p is not None else ref for p in pts])
        act = mouth_activity(filled, np.array([p is not None for p in pts]))
        return act[lo:], adaptive_threshold(act, 20, 80, 0.3), "mouth"

    def _silent(self) -> bool:
        from lipread.audio.activity import SILENT_DB

        return bool(self.all_energy) and max(self.all_energy) < SILENT_DB

    def ready(self) -> Iterator[Utterance]:
        """The utterances complete so far (a pause of ``pause`` seconds after them has arrived)."""
        from lipread.pipelines.windows import utterances

        while True:
            upto = self._available()
            if upto - self.origin < int(self.segment.pause * VIDEO_FPS):
                return
            act, threshold, source = self._activity(upto)
            config = self.t.segment_config(source)
            utts = utterances(act, -np.inf if threshold is None else threshold, config)
            pause = int(round(config.pause * VIDEO_FPS))
            if threshold is None or not utts:
                if (upto - self.origin) / VIDEO_FPS > MAX_WAIT:  # nothing said for a while: let it go
                    self._advance(upto - int(KEEP_BEFORE * VIDEO_FPS))
                return
            s, e = utts[0]
            # a pause has followed it; and one too short to be a sentence (a word and a closure) has either
            # found no neighbour near enough to join or waited long enough for one (as the file reader joins)
            join, short = config.join * VIDEO_FPS, config.short * VIDEO_FPS
            complete = e + pause <= len(act) and (e - s >= short or len(utts) > 1 or len(act) - e >= join)
            at_pause = complete
            if complete:
                # as the file reader does, a short utterance that follows within ``join`` joins this one (a
                # sentence's last word after a closure): it is final once no follower can
                if len(utts) > 1:
                    ns, ne = utts[1]
                    complete = ns - e >= join or ne - ns >= short or ne + pause <= len(act)
                else:
                    complete = len(act) - e >= join
            if self.origin + e > self.cropped:  # its last crops wait for their smoothing window
                return
            if not complete and (upto - self.origin) / VIDEO_FPS <= MAX_WAIT:
                key = (self.origin + s, self.origin + e)
                if self.reader.wait or self.shown is not None:
                    return
                if at_pause:  # read it now (or take what was read as the pause began); a follower revises it
                    said = self._number(self._take_ahead(key) or self._read(*key, upto, None), key[1])
                    self.shown = (*key, said)
                    yield said
                elif len(act) - e >= AHEAD and (e - s >= short or len(utts) > 1) and not self._ahead_is(key):
                    # its pause has begun: read it while the pause grows long enough to end it, so that its
                    # line is ready then (if speech goes on instead, this reading is dropped)
                    self.ahead = (*key, self._read(*key, upto, None))
                return
            # the next search starts where this pause was seen to go on to (not at the utterance's end: a
            # threshold that adapts as the buffer moves must not turn its tail into an utterance of its own)
            resume = utts[1][0] if len(utts) > 1 else max(e, len(act) - EDGE)
            yield from self._final(self.origin + s, self.origin + e, upto, self.origin + resume)

    def finish(self) -> Iterator[Utterance]:
        """The source ended: the rest of the buffers, every utterance in them."""
        from lipread.pipelines.windows import utterances

        self._take_audio()
        self._crop(final=True)
        upto = self._available()
        while upto - self.origin > 0:
            act, threshold, source = self._activity(upto)
            utts = utterances(act, -np.inf if threshold is None else threshold, self.t.segment_config(source))
            if threshold is None or not utts:
                return
            s, e = utts[0]
            resume = utts[1][0] if len(utts) > 1 else len(act)
            yield from self._final(self.origin + s, self.origin + e, upto, self.origin + resume)

    def _number(self, said: Utterance, e: int, revises: Utterance | None = None) -> Utterance:
        """Give ``said`` its id (a new one, or that of the utterance it ``revises``) and its latency now that
        it is given out (``e``: its end, absolute frames)."""
        said.latency = self._latency(e)
        if revises is not None:
            said.id, said.revised = revises.id, True
        else:
            said.id = self.next_id
            self.next_id += 1
        return said

    def _final(self, s: int, e: int, upto: int, resume: int) -> Iterator[Utterance]:
        """The utterance [s, e) (absolute frames) is final: read it, unless it was read at its pause and is
        still the same (then it stands); if what was read then has grown (a follower joined), read it again
        as a revision."""
        shown, self.shown = self.shown, None
        ahead = self._take_ahead((s, e))
        if shown is None and ahead is not None:  # read as its pause began, and nothing has changed since
            self.prev_end = e
            self._advance(resume)
            yield self._number(ahead, e)
            return
        if shown is not None:
            ss, se, said = shown
            if s >= se:  # what was read is no longer the first utterance here: it stands as it was said
                self.prev_end = se
            elif abs(s - ss) <= SAME and abs(e - se) <= SAME:
                self.prev_end = e
                self._advance(resume)
                return
            else:
                yield self._number(self._read(s, e, upto, resume), e, revises=said)
                return
        yield self._number(self._read(s, e, upto, resume), e)

    def _ahead_is(self, key: tuple[int, int]) -> bool:
        return self.ahead is not None and all(abs(a - b) <= SAME for a, b in zip(self.ahead[:2], key))

    def _take_ahead(self, key: tuple[int, int]) -> Utterance | None:
        """The reading made as this utterance's pause began, if it was of exactly this stretch (then dropped)."""
        ahead, self.ahead = self.ahead, None
        return ahead[2] if ahead is not None and ahead[:2] == key else None

    def _advance(self, to: int) -> None:
        """Drop what no later window needs: everything before ``to`` less the lead-in kept."""
        self.origin = max(self.origin, to)
        keep_from = max(self.base, self.origin - int(KEEP_BEFORE * VIDEO_FPS))
        cut = min(keep_from, self.cropped) - self.base
        if cut <= 0:
            return
        del self.points[:cut], self.crops[:cut], self.valid[:cut]
        cut_audio = min(cut, len(self.energy))
        del self.energy[:cut_audio]
        self.wave = self.wave[cut_audio * SPF :]
        self.base += cut

    def _read(self, s: int, e: int, upto: int, resume: int | None) -> Utterance:
        """Read the utterance [s, e) (absolute frames) in a window; what has not arrived is still context.
        The next utterance is looked for from ``resume``; with ``resume`` None nothing moves on (it is read at
        its pause and may still be revised)."""
        from lipread.audio.activity import is_silent
        from lipread.audio.features import compute_features
        from lipread.pipelines.domain import domain_warnings, mouth_stats
        from lipread.pipelines.transcribe import window_sound
        from lipread.pipelines.windows import Window, context_windows

        utts = ([(self.prev_end - self.base, self.prev_end - self.base)] if self.prev_end is not None else [])
        utts.append((s - self.base, e - self.base))
        n = min(upto, self.cropped) - self.base  # what is shown as it is; the rest is still context
        # it owns from the middle of the pause before it (where the search for it began may be later: a
        # quiet first consonant under the threshold is still its word)
        own_from = max(self.base, (self.prev_end + s) // 2 if self.prev_end is not None else min(self.origin, s))
        fw = context_windows(utts, n, self.length, self.segment.lead, own_from - self.base, n)[-1]
        index = fw.frame_index()
        real = slice(fw.real_start, fw.real_end)
        valid = np.asarray(self.valid[real])
        modality = self.modality
        wave = None
        if self.src.has_audio:
            wave = self.wave[: n * SPF]
            wave = np.pad(wave, (0, n * SPF - len(wave)))
        if modality != "video" and wave is not None and is_silent(wave[fw.real_start * SPF : fw.real_end * SPF]):
            modality = "video" if self.t.modality == "auto" else modality
        if not valid.any():
            if modality == "av" and self.t.modality == "auto":
                modality = "audio"
            elif modality != "audio":
                modality = "none"
        base_s = self.base / VIDEO_FPS
        win = Window(base_s + fw.start / VIDEO_FPS, base_s + fw.end / VIDEO_FPS, own_from / VIDEO_FPS,
                     base_s + fw.end / VIDEO_FPS, speech=(s / VIDEO_FPS, e / VIDEO_FPS))
        if resume is not None:
            self.prev_end = e
        if modality == "none":
            if resume is not None:
                self._advance(resume)
            return Utterance("", s / VIDEO_FPS, e / VIDEO_FPS, [], None, ["no face: nothing to read"], "video",
                             self._latency(e))
        crops = np.stack([self.crops[i] for i in index])
        if resume is not None:
            self._advance(resume)
        clip = self.t.eval_crop(crops)
        feats = None
        if modality != "video":
            quiet = float(np.percentile(self.all_energy, 10)) if self.all_energy else None
            feats = compute_features(window_sound(wave, fw, SPF, quiet), self.t.loaded.frontend.audio_features,
                                     n_video_frames=len(index))
        self.t._directions = []
        segment = self.t._run([(win, clip, feats)], modality)[0]
        stats = {} if modality == "audio" else mouth_stats(crops[fw.real_start - fw.start: fw.real_end - fw.start]
                                                           if fw.real_end > fw.real_start else crops)
        stats.update(self.t._speaker(crops, None if wave is None else wave[fw.real_start * SPF : fw.real_end * SPF],
                                     modality))
        direction = tuple(np.mean(self.t._directions, axis=0)) if self.t._directions else None
        warnings = domain_warnings(self.t.domain, stats, segment.confidence, direction, modality=modality)
        return Utterance(segment.text, segment.start, segment.end, segment.words, segment.confidence, warnings,
                         modality, self._latency(e))

    def _latency(self, e: int) -> float | None:
        if not self.src.realtime or self.wall0 is None:
            return None
        return time.monotonic() - (self.wall0 + e / VIDEO_FPS)


def write_subtitles(out_dir: str | os.PathLike, said: list[Utterance]) -> None:
    """``out_dir/live.srt`` and ``live.vtt`` of the utterances so far (rewritten whole: a few kB)."""
    from lipread.pipelines.writers import get_writers
    from lipread.types import Segment, Transcript

    segments = [Segment(u.start, u.end, u.text, list(u.words)) for u in said]
    transcript = Transcript(os.path.join(os.fspath(out_dir), "live"), said[-1].end if said else 0.0, segments)
    for writer in get_writers(["srt", "vtt"], out_dir):
        writer.write(transcript)


__all__ = ["LiveReader", "Source", "Utterance", "check_source", "open_source", "write_subtitles"]
