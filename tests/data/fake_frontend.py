"""A fast, deterministic stand-in for the front end, importable by spawned prepare workers.

``make_fake(config)`` returns ``process(record) -> result`` whose mouth is a pure function of the
clip id (so a test can check every cached clip is the right one): T = 10 + hash % 7 frames of
(H, W, C) = (6, 8, C), every pixel = hash % 251. ``config`` (a dict) may hold ``sleep`` (seconds per
clip), ``fail`` (id suffixes that raise MediaError), ``audio`` (add (4T, 5) features), ``channels``.

Run as a script (``python fake_frontend.py ROOT OUT WORKERS SLEEP``) it prepares a GRID tree with
the fake; the kill test SIGKILLs that process group midway.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass

import numpy as np

from lipread.data.splits import stable_hash
from lipread.errors import MediaError

FACTORY = "fake_frontend:make_fake"


@dataclass
class FakeResult:
    mouth: np.ndarray
    valid: np.ndarray
    audio_features: np.ndarray | None
    fps: float = 25.0
    start: float = 0.0
    duration: float = 0.0


def expected_mouth(clip_id: str, channels: int = 3) -> np.ndarray:
    h = stable_hash(clip_id)
    t = 10 + h % 7
    return np.full((t, 6, 8, channels), h % 251, dtype=np.uint8)


def make_fake(config):
    """``config``: a dict of the options above, or a FrontEndConfig (gray -> 1 channel, audio)."""
    if not isinstance(config, dict):
        config = {"audio": config.audio, "channels": 1 if config.gray else 3}
    sleep = float(config.get("sleep", 0.0))
    fail = tuple(config.get("fail", ()))
    channels = int(config.get("channels", 3))
    with_audio = bool(config.get("audio", False))

    def process(record):
        if sleep:
            time.sleep(sleep)
        if fail and record.id.endswith(fail):
            raise MediaError("fake decode failure", record.video, "This clip is meant to fail.")
        mouth = expected_mouth(record.id, channels)
        t = mouth.shape[0]
        valid = np.arange(t) % 5 != 0
        audio = np.full((4 * t, 5), t, dtype=np.float32) if with_audio else None
        return FakeResult(mouth, valid, audio, duration=t / 25.0)

    return process


def main(argv: list[str]) -> None:
    from lipread.data.corpora import read_corpus
    from lipread.data.prepare import prepare

    root, out, workers, sleep = argv[0], argv[1], int(argv[2]), float(argv[3])
    entries = read_corpus("grid", root)
    prepare(entries, out, {"sleep": sleep}, corpus={"name": "grid"}, workers=workers,
            worker_factory=FACTORY, shard_clips=3, progress=False)


if __name__ == "__main__":
    main(sys.argv[1:])


def make_broken(config):
    """A factory that cannot start (like a front end whose model fails to load)."""
    raise RuntimeError("cannot load the fake model")


def make_crashy(config):
    """Kills its worker process on clips whose id ends in 'zn' (a native crash), else like make_fake."""
    import os

    inner = make_fake(config)

    def process(record):
        if record.id.endswith("zn"):
            os._exit(3)
        return inner(record)

    return process
