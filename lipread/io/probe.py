"""Media information for ``lipread info``: streams, codecs, resolution, fps, frames, duration, audio."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field

from lipread.io.video import nominal_fps, open_container


@dataclass
class StreamInfo:
    """One stream: ``type`` video|audio|...; video: ``width``/``height``/``fps``/``frames``/``rotation``;
    audio: ``sample_rate``/``channels``."""

    index: int
    type: str
    codec: str
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    frames: int | None = None
    rotation: int | None = None
    sample_rate: int | None = None
    channels: int | None = None


@dataclass
class MediaInfo:
    """A file's container format, duration (s) and streams."""

    path: str
    format: str
    duration: float | None
    streams: list[StreamInfo] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def probe(path: str | os.PathLike, count_frames: bool = False) -> MediaInfo:
    """Read the container header (and, with ``count_frames``, demux the video to count its packets)."""
    path = os.fspath(path)
    with open_container(path) as container:
        duration = container.duration / 1e6 if container.duration else None
        info = MediaInfo(path, container.format.name, duration)
        for s in container.streams:
            codec = s.codec_context.name if s.codec_context else "?"
            item = StreamInfo(s.index, s.type, codec)
            if s.type == "video":
                item.width, item.height = s.codec_context.width, s.codec_context.height
                item.fps = nominal_fps(s)
                item.frames = s.frames or None
            elif s.type == "audio":
                item.sample_rate, item.channels = s.codec_context.sample_rate, s.codec_context.channels
            info.streams.append(item)
        if count_frames and container.streams.video:
            video = container.streams.video[0]
            info.streams[video.index].frames = sum(1 for p in container.demux(video) if p.size)
    return info
