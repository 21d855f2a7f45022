"""Audio decoding with PyAV: mono float32 at 16 kHz on the video's time line.

Legend: S samples. ``read_audio`` returns ``(S,)`` float32 in [-1, 1].
"""

from __future__ import annotations

import logging
import os

import numpy as np

from lipread.errors import NoAudioError
from lipread.io.video import open_container
from lipread.types import AUDIO_SAMPLE_RATE

log = logging.getLogger("lipread.io.audio")


def has_audio(path: str | os.PathLike) -> bool:
    """True when the file has at least one audio stream."""
    with open_container(path) as container:
        return bool(container.streams.audio)


def read_audio(path: str | os.PathLike, start: float | None = None, end: float | None = None,
               sample_rate: int = AUDIO_SAMPLE_RATE) -> np.ndarray:
    """Decode the first audio stream to mono float32 at ``sample_rate``; ``start``/``end`` in seconds.

    Sample 0 is at ``start`` (or the stream's start). Raises :class:`NoAudioError` if there is no
    audio stream. A decoding error ends the audio early (logged as a warning).
    """
    import av

    path = os.fspath(path)
    with open_container(path) as container:
        if not container.streams.audio:
            raise NoAudioError("no audio track, but audio features were asked for", path,
                               "Use a file with sound, or leave audio features off.")
        stream = container.streams.audio[0]
        stream.thread_type = "AUTO"
        resampler = av.AudioResampler(format="flt", layout="mono", rate=sample_rate)
        if start:
            container.seek(int(start / float(stream.time_base)), stream=stream, backward=True)
        parts: list[np.ndarray] = []
        first_time = None

        def take(frames):
            for out in frames:
                parts.append(out.to_ndarray().reshape(-1))

        try:
            for frame in container.decode(stream):
                if first_time is None and frame.time is not None:
                    first_time = frame.time
                take(resampler.resample(frame))
                if end is not None and frame.time is not None and frame.time > end + 0.1:
                    break
        except (av.error.InvalidDataError, av.error.FFmpegError) as exc:
            log.warning("%s: audio decoding stopped early: %s", path, exc)
        take(resampler.resample(None))
    audio = np.concatenate(parts).astype(np.float32) if parts else np.zeros(0, np.float32)
    # sample 0 of the result sits at `start` (or 0 s): drop what came before, pad if audio starts late
    offset = int(round(((start or 0.0) - (first_time or 0.0)) * sample_rate))
    audio = audio[offset:] if offset >= 0 else np.concatenate([np.zeros(-offset, np.float32), audio])
    if end is not None:
        audio = audio[: int(round((end - (start or 0.0)) * sample_rate))]
    return audio
