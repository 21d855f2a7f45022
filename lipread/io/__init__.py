"""Decode video (RGB, constant 25 fps, in chunks) and audio (mono float32, 16 kHz) with PyAV; probe; write."""

from lipread.io.audio import read_audio
from lipread.io.video import DecodeReport, VideoChunk, VideoClip, iter_video_chunks, read_video

__all__ = ["DecodeReport", "VideoChunk", "VideoClip", "iter_video_chunks", "read_audio", "read_video"]
