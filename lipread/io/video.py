"""Video decoding with PyAV: RGB frames at a constant 25 fps, in chunks.

Shape legend: T frames, H/W height/width in pixels. Frames are RGB ``uint8`` ``(T, H, W, 3)``.

The source frame rate may be anything (25, 30, 29.97, variable): frames are mapped to a constant
output rate by their presentation timestamps, the way FFmpeg's ``fps`` filter does (each output slot
takes the source frame nearest to it; gaps repeat the previous frame), so the duration is kept.
Files whose timestamps are missing or degenerate (all zero, as in the shared GRID mp4 re-encodes)
fall back to the frame index over the stream's nominal rate. Rotation metadata (display matrix)
is honoured. :func:`iter_video_chunks` never holds more than one chunk of frames in memory.
"""

from __future__ import annotations

import itertools
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from lipread.errors import InputFileError, MediaError
from lipread.types import VIDEO_FPS

log = logging.getLogger("lipread.io.video")

SEEK_MIN_S = 10.0
"""Segments starting earlier than this are decoded from the file's start instead of seeking."""


@dataclass
class VideoChunk:
    """A run of consecutive output frames.

    ``frames`` (n, H, W, 3) uint8 RGB; ``index`` the output frame number of ``frames[0]``;
    ``times`` (n,) seconds of each output frame in the source's time line.
    """

    frames: np.ndarray
    index: int
    times: np.ndarray


SOUND_RUNS_ON = 0.25
"""Seconds a sound track may run past a video's last frame in a container that only knows the longest
stream's duration (an AAC track written beside 3 s of frames ends 0.08 s later) before the file is called
truncated."""


@dataclass
class DecodeReport:
    """What happened while decoding: filled in as the iterator runs, final once it is exhausted.

    ``source_frames`` frames decoded from the file; ``frames`` frames produced at ``fps``;
    ``expected_duration`` the container's claimed duration (s, None if unknown);
    ``decoded_duration`` the duration actually decoded (s); ``errors`` decoder error messages;
    ``lost_seconds`` how much of the claimed duration could not be decoded (truncated files).
    When a ``start``..``end`` segment is read, ``expected_duration`` is the segment's claimed length
    (the part of it inside the file) and ``segment`` its ``(start, end)`` in seconds.
    """

    path: str
    fps: float = VIDEO_FPS
    source_fps: float | None = None
    source_frames: int = 0
    frames: int = 0
    expected_duration: float | None = None
    decoded_duration: float = 0.0
    errors: list[str] = field(default_factory=list)
    segment: tuple[float, float] | None = None
    slack: float = 0.0
    """Seconds the claimed duration may exceed the frames without the file being truncated: a container's
    duration (MKV, WebM) is that of its longest stream, and a sound track often ends after the last frame."""

    @property
    def lost_seconds(self) -> float:
        if self.expected_duration is None:
            return 0.0
        return max(0.0, self.expected_duration - self.decoded_duration)

    @property
    def truncated(self) -> bool:
        """True when decoding stopped early: an error, or >= 2 frames (plus ``slack``) of the claimed duration
        missing."""
        return bool(self.errors) or self.lost_seconds >= 2.0 / self.fps + self.slack


def open_container(path: str | os.PathLike):
    """Open ``path`` with PyAV; :class:`InputFileError` / :class:`MediaError` with a fix otherwise."""
    import av

    path = os.fspath(path)
    if not os.path.exists(path):
        raise InputFileError("file not found", path, "Check the path.")
    if os.path.isdir(path):
        raise InputFileError("is a directory, not a media file", path, "Pass video files.")
    try:
        return av.open(path)
    except (av.error.InvalidDataError, av.error.FFmpegError, UnicodeDecodeError) as exc:
        why = getattr(exc, "strerror", None) or exc.__class__.__name__
        raise MediaError(
            f"not a media file FFmpeg can read, or damaged/truncated before its index ({why})",
            path,
            "Pass a complete video file (mp4, mkv, mov, avi, webm, mpg); re-download or re-encode it.",
        ) from None


def video_stream(container, path: str):
    """The first video stream of an open container, or :class:`MediaError` if there is none."""
    if not container.streams.video:
        kinds = ", ".join(s.type for s in container.streams) or "no streams"
        raise MediaError(f"no video stream (found: {kinds})", path, "Pass a file that contains video.")
    return container.streams.video[0]


def nominal_fps(stream) -> float | None:
    """The stream's nominal frame rate (guessed / average), None if unknown or absurd (> 240)."""
    for rate in (stream.guessed_rate, stream.average_rate, stream.base_rate):
        if rate and 0 < float(rate) <= 240:
            return float(rate)
    return None


def _rotate(img: np.ndarray, degrees: int) -> np.ndarray:
    """Rotate an (H, W, 3) frame by the display-matrix angle (counter-clockwise degrees)."""
    k = int(round(degrees / 90.0)) % 4
    return np.ascontiguousarray(np.rot90(img, k)) if k else img


def frame_to_rgb(frame) -> np.ndarray:
    """(H, W, 3) uint8 RGB of a PyAV frame; yuv420p goes through OpenCV (BT.601, ~2x faster than swscale)."""
    if frame.format.name == "yuv420p" and frame.width % 2 == 0 and frame.height % 2 == 0:
        import cv2

        return cv2.cvtColor(frame.to_ndarray(), cv2.COLOR_YUV2RGB_I420)
    return frame.to_ndarray(format="rgb24")


def prefetch(iterator: Iterator, depth: int = 2) -> Iterator:
    """Run ``iterator`` in a background thread, ``depth`` items ahead (decoding overlaps the consumer)."""
    import queue
    import threading

    q: queue.Queue = queue.Queue(maxsize=depth)
    done = object()
    stop = threading.Event()

    def work():
        try:
            for item in iterator:
                if stop.is_set():
                    return
                q.put(item)
            q.put(done)
        except BaseException as exc:  # handed to the consumer, re-raised there
            q.put(exc)

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    try:
        while True:
            item = q.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while thread.is_alive():
            try:
                q.get_nowait()
            except queue.Empty:
                thread.join(0.01)


def _source_frames(container, stream, path: str, report: DecodeReport, seek: float | None):
    """Yield (time_s, frame) from the stream; decoder errors end the stream and go into ``report``."""
    import av

    rate = nominal_fps(stream) or VIDEO_FPS
    report.source_fps = rate
    tb = float(stream.time_base) if stream.time_base else None
    if seek is not None and seek < SEEK_MIN_S:
        seek = None  # decoding a few seconds from the start is cheap and safe
    if seek:
        container.seek(int(seek / tb) if tb else int(seek * 1e6), stream=stream if tb else None, backward=True)
    last_t = None
    degenerate = False
    i = 0
    try:
        frames = container.decode(stream)
        if seek:
            first = next(frames, None)
            if first is None or first.time is None or first.time > seek:
                # the seek overshot (or timestamps are useless): decode from the beginning instead
                log.debug("%s: seek to %.2fs failed, decoding from the start", path, seek)
                container.seek(0)
                frames = container.decode(stream)
            else:
                frames = itertools.chain([first], frames)
        for frame in frames:
            t = frame.time if (frame.pts is not None and not degenerate) else None
            if t is not None and last_t is not None and t <= last_t:
                # duplicate/backwards timestamps: from here on trust the nominal rate
                if i == 1 or t == last_t:
                    degenerate = True
                    log.debug("%s: degenerate timestamps, using frame index / %.3f fps", path, rate)
                    t = None
            if t is None:
                t = (last_t + 1.0 / rate) if last_t is not None else (float(frame.time or 0.0))
            last_t = t
            i += 1
            yield t, frame
    except (av.error.InvalidDataError, av.error.EOFError, av.error.FFmpegError) as exc:
        report.errors.append(str(exc))
        log.debug("%s: decoding stopped: %s", path, exc)


def iter_video_chunks(
    path: str | os.PathLike,
    chunk_size: int = 256,
    start: float | None = None,
    end: float | None = None,
    fps: float = VIDEO_FPS,
    report: DecodeReport | None = None,
    threads: bool = True,
    chunk_mb: float | None = None,
) -> Iterator[VideoChunk]:
    """Decode ``path`` into RGB frames at a constant ``fps``, ``chunk_size`` frames at a time.

    ``chunk_mb`` (optional) caps a chunk's size in MB too (at least one frame), so large frames come
    in smaller chunks. ``start``/``end`` (s) select a segment. ``report`` (optional) is filled in as decoding goes.
    Raises :class:`MediaError` for a file that is not media, has no video stream or has no frames.
    """
    path = os.fspath(path)
    report = report if report is not None else DecodeReport(path, fps=fps)
    container = open_container(path)
    try:
        stream = video_stream(container, path)
        if threads:
            stream.thread_type = "AUTO"
        if stream.duration and stream.time_base:  # the video's own length (MP4 and MOV store it)
            report.expected_duration = float(stream.duration * stream.time_base)
        elif container.duration:
            report.expected_duration = container.duration / 1e6
            if len(container.streams) > 1:  # the longest stream's: a sound track may run on past the last frame
                report.slack = SOUND_RUNS_ON
        if report.expected_duration is not None and (start is not None or end is not None):
            # a segment is complete when its own stretch of the file was decoded, not the whole file
            stop = report.expected_duration if end is None else min(end, report.expected_duration)
            report.segment = (start or 0.0, stop)
            report.expected_duration = max(0.0, stop - (start or 0.0))
        if chunk_mb is not None and stream.width and stream.height:
            chunk_size = max(1, min(chunk_size, int(chunk_mb * 2**20 // (stream.width * stream.height * 3))))
        yield from _resample(_source_frames(container, stream, path, report, start), report, chunk_size,
                             start, end, fps)
    finally:
        container.close()
    if report.frames == 0:
        why = f" (decoder said: {report.errors[0]})" if report.errors else ""
        segment = f" between {start or 0:.2f}s and {end:.2f}s" if end is not None else ""
        raise MediaError(f"zero video frames could be decoded{segment}{why}", path,
                         "The file is empty or damaged; re-encode or re-download it.")
    if report.truncated:
        lost = f"{report.lost_seconds:.2f}s of {report.expected_duration:.2f}s" if report.expected_duration else "the rest"
        if report.segment is not None:
            lost += f" (segment {report.segment[0]:.2f}-{report.segment[1]:.2f}s)"
        log.warning("%s: truncated or damaged; decoded %d frames (%.2fs), lost %s", path,
                    report.frames, report.decoded_duration, lost)


def _resample(source, report: DecodeReport, chunk_size: int, start, end, fps: float) -> Iterator[VideoChunk]:
    """Map timestamped source frames to constant-rate slots (nearest frame; repeat over gaps)."""
    t0 = None
    next_slot = 0
    current = None
    rotation = 0
    buf: list[np.ndarray] = []
    first_index = 0
    last_t = None
    last_dt = 1.0 / fps

    def flush() -> VideoChunk:
        nonlocal buf, first_index
        part, buf = buf[:chunk_size], buf[chunk_size:]
        chunk = VideoChunk(np.stack(part), first_index, t0 + (first_index + np.arange(len(part))) / fps)
        first_index += len(part)
        return chunk

    def emit_until(slot: int):
        nonlocal next_slot
        while next_slot < slot:
            buf.append(current)
            next_slot += 1
            report.frames = next_slot

    for t, frame in source:
        if start is not None and t < start - 0.5 / fps:
            continue
        if end is not None and t >= end - 0.5 / fps:
            break
        report.source_frames += 1
        if last_t is not None and t > last_t:
            last_dt = t - last_t
        last_t = t
        if t0 is None:
            t0 = float(start) if start is not None else t
            rotation = int(getattr(frame, "rotation", 0) or 0)
        slot = int(round((t - t0) * fps))
        if current is not None:
            emit_until(slot)
        img = frame_to_rgb(frame)
        current = _rotate(img, rotation) if rotation else img
        while len(buf) >= chunk_size:
            yield flush()
    if current is None:
        return
    # the last frame lasts one nominal frame period (the last gap when the rate is unknown)
    last_dt = 1.0 / report.source_fps if report.source_fps else last_dt
    total = int(round((last_t + last_dt - t0) * fps))
    if end is not None and start is not None:
        total = min(total, int(round((end - start) * fps)))
    emit_until(max(total, next_slot + 1))
    report.decoded_duration = report.frames / fps
    while buf:
        yield flush()


@dataclass
class VideoClip:
    """A whole decoded clip: ``frames`` (T, H, W, 3) uint8 RGB at ``fps``; ``start`` (s) in the source."""

    path: str
    frames: np.ndarray
    fps: float
    start: float
    report: DecodeReport

    @property
    def duration(self) -> float:
        return len(self.frames) / self.fps


def read_video(path: str | os.PathLike, start: float | None = None, end: float | None = None,
               fps: float = VIDEO_FPS) -> VideoClip:
    """Decode a whole clip (or the ``start``..``end`` segment) into memory. See :func:`iter_video_chunks`."""
    report = DecodeReport(os.fspath(path), fps=fps)
    chunks = list(iter_video_chunks(path, start=start, end=end, fps=fps, report=report))
    frames = np.concatenate([c.frames for c in chunks]) if len(chunks) > 1 else chunks[0].frames
    return VideoClip(os.fspath(path), frames, fps, float(chunks[0].times[0]), report)
