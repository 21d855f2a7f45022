"""Write frames (and optionally audio) to a video file with PyAV.

Used by ``lipread crop`` (near-lossless mouth clips: FFV1 in .mkv, or H.264 at CRF 0 in .mp4) and by
the tests to make their own inputs (other frame rates, rotation metadata, audio-only files).
Legend: T frames, H/W pixels; frames ``(T, H, W, 3)`` RGB or ``(T, H, W, 1)`` / ``(T, H, W)`` gray uint8.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from fractions import Fraction

import numpy as np

from lipread.types import AUDIO_SAMPLE_RATE, VIDEO_FPS

LOSSLESS = {".mkv": ("ffv1", {}), ".avi": ("ffv1", {}), ".mp4": ("libx264", {"crf": "0", "preset": "veryfast"}),
            ".webm": ("libvpx-vp9", {"lossless": "1", "deadline": "realtime", "cpu-used": "8"})}
SOUND_CODECS = {".webm": "libopus"}
"""The sound track's codec by extension (AAC elsewhere): WebM holds Opus or Vorbis only."""


class VideoWriter:
    """Streaming writer: ``with VideoWriter(path, fps) as w: w.write(frames)``.

    ``codec`` defaults by extension: FFV1 (lossless) for .mkv/.avi, H.264 CRF 0 for .mp4, lossless VP9 for
    .webm. A lossy codec
    may be asked for explicitly (``codec="libx264", options={"crf": "23"}``). ``rotation`` (degrees)
    is stored as display-matrix metadata.
    """

    def __init__(self, path: str | os.PathLike, fps: float = VIDEO_FPS, codec: str | None = None,
                 options: dict | None = None, rotation: int = 0):
        import av

        self.path = os.fspath(path)
        ext = os.path.splitext(self.path)[1].lower()
        default_codec, default_options = LOSSLESS.get(ext, ("libx264", {"crf": "0"}))
        self.codec = codec or default_codec
        self.options = options if options is not None else default_options
        self.fps = Fraction(fps).limit_denominator(1001)
        self.rotation = rotation
        self._container = av.open(self.path, "w")
        self._stream = None

    def _open_stream(self, h: int, w: int, gray: bool):
        stream = self._container.add_stream(self.codec, rate=self.fps, options=self.options)
        stream.width, stream.height = w, h
        if self.codec == "ffv1":
            stream.pix_fmt = "gray" if gray else "bgr0"
        else:
            stream.pix_fmt = "yuv444p" if self.options.get("crf") == "0" else "yuv420p"
        if self.rotation:
            stream.set_display_rotation(self.rotation)
        self._stream = stream

    def write(self, frames: np.ndarray) -> None:
        """Append ``frames`` (T, H, W[, C]) uint8."""
        import av

        frames = np.asarray(frames)
        if frames.ndim == 4 and frames.shape[-1] == 1:
            frames = frames[..., 0]
        gray = frames.ndim == 3
        if self._stream is None:
            self._open_stream(frames.shape[1], frames.shape[2], gray)
        for img in frames:
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format="gray" if gray else "rgb24")
            for packet in self._stream.encode(frame):
                self._container.mux(packet)

    def close(self) -> None:
        if self._stream is not None:
            for packet in self._stream.encode():
                self._container.mux(packet)
        self._container.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def write_video(path: str | os.PathLike, frames: np.ndarray | Iterable[np.ndarray], fps: float = VIDEO_FPS,
                codec: str | None = None, options: dict | None = None, rotation: int = 0,
                audio: np.ndarray | None = None, sample_rate: int = AUDIO_SAMPLE_RATE) -> str:
    """Write ``frames`` to ``path`` (see :class:`VideoWriter`), with mono float32 ``audio`` (S,) as an AAC
    track (Opus in .webm) when given; returns the path."""
    with VideoWriter(path, fps, codec, options, rotation) as writer:
        sound_codec = SOUND_CODECS.get(os.path.splitext(writer.path)[1].lower(), "aac")
        sound = None if audio is None else writer._container.add_stream(sound_codec, rate=sample_rate, layout="mono")
        writer.write(np.asarray(frames))
        if sound is not None:
            data = np.asarray(audio, dtype=np.float32)
            for i in range(0, len(data), 1024):
                frame = av_audio_frame(data[i : i + 1024], sample_rate, pts=i)
                for packet in sound.encode(frame):
                    writer._container.mux(packet)
            for packet in sound.encode():
                writer._container.mux(packet)
    return writer.path


def av_audio_frame(samples: np.ndarray, sample_rate: int, pts: int = 0):
    """A PyAV mono float (fltp) audio frame of ``samples`` (S,), starting at sample ``pts``."""
    import av

    frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(samples, dtype=np.float32)[None], format="fltp",
                                       layout="mono")
    frame.sample_rate, frame.pts = sample_rate, pts
    return frame


def write_audio(path: str | os.PathLike, audio: np.ndarray, sample_rate: int = AUDIO_SAMPLE_RATE,
                codec: str = "pcm_s16le") -> str:
    """Write mono float32 ``audio`` (S,) as an audio-only file (e.g. .wav or .m4a with codec="aac")."""
    import av

    path = os.fspath(path)
    with av.open(path, "w") as container:
        stream = container.add_stream(codec, rate=sample_rate, layout="mono")
        fmt = "s16" if codec == "pcm_s16le" else "fltp"
        data = np.asarray(audio, dtype=np.float32)[None, :]
        if fmt == "s16":
            data = (np.clip(data, -1, 1) * 32767).astype(np.int16)
        frame = av.AudioFrame.from_ndarray(data, format=fmt, layout="mono")
        frame.sample_rate = sample_rate
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path
