"""Benchmark inputs made from the GRID clips: long and large videos with their audio.

``make_clip(out, clips, size)`` concatenates GRID clips (video + audio) into one H.264 + AAC mp4,
each frame scaled to fit ``size`` (width, height) and centred on black (a 360x288 GRID frame in a
3840x2160 frame is 2700x2160 plus bars), so the face fills the frame as much as in the source.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np


def fit(frame: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``frame`` (H, W, 3) scaled to fit ``size`` (w, h), centred on black."""
    import cv2

    w, h = size
    fh, fw = frame.shape[:2]
    if (fw, fh) == (w, h):
        return frame
    s = min(w / fw, h / fh)
    nw, nh = round(fw * s) // 2 * 2, round(fh * s) // 2 * 2
    out = np.zeros((h, w, 3), np.uint8)
    y, x = (h - nh) // 2, (w - nw) // 2
    out[y : y + nh, x : x + nw] = cv2.resize(frame, (nw, nh), interpolation=cv2.INTER_CUBIC)
    return out


def make_clip(out: str | Path, clips: list[Path], size: tuple[int, int] = (360, 288), crf: int = 23) -> Path:
    """One mp4 of ``clips`` back to back (25 fps video scaled to ``size``, 16 kHz mono AAC audio)."""
    import av

    from lipread.io.audio import read_audio
    from lipread.io.video import iter_video_chunks
    from lipread.types import AUDIO_SAMPLE_RATE, VIDEO_FPS

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(out), "w") as container:
        v = container.add_stream("libx264", rate=Fraction(int(VIDEO_FPS)),
                                 options={"crf": str(crf), "preset": "ultrafast"})
        v.width, v.height, v.pix_fmt = size[0], size[1], "yuv420p"
        a = container.add_stream("aac", rate=AUDIO_SAMPLE_RATE, layout="mono")
        samples = 0
        for clip in clips:
            n = 0
            for chunk in iter_video_chunks(clip, 25):
                for img in chunk.frames:
                    for packet in v.encode(av.VideoFrame.from_ndarray(fit(img, size), format="rgb24")):
                        container.mux(packet)
                    n += 1
            audio = read_audio(clip)
            want = int(round(n / VIDEO_FPS * AUDIO_SAMPLE_RATE))  # keep audio and video the same length
            audio = np.pad(audio, (0, max(0, want - len(audio))))[:want].astype(np.float32)
            for i in range(0, len(audio), 1024):
                frame = av.AudioFrame.from_ndarray(audio[None, i : i + 1024], format="fltp", layout="mono")
                frame.sample_rate, frame.pts = AUDIO_SAMPLE_RATE, samples
                samples += frame.samples
                for packet in a.encode(frame):
                    container.mux(packet)
        for stream in (v, a):
            for packet in stream.encode():
                container.mux(packet)
    return out
