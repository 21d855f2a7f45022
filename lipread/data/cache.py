"""The prepared cache: mouth clips, audio features and metadata, laid out for fast training reads.

Layout of a cache folder::

    cache.json                     format version, front-end config, corpus and split options
    shards/NAME.mouth.npy          uint8 (sum of T*H*W*C,) : every clip's (T, H, W, C) mouth, concatenated
    shards/NAME.valid.npy          bool  (sum of T,)       : face found per frame (before interpolation)
    shards/NAME.audio.npy          float32 (sum of 4T, F)  : audio features (only when computed)
    shards/NAME.json               the shard's index: per clip id, text, speaker, split, fps, offsets, shapes ...
    failures.tsv                   id, source, reason of every clip that failed (per --shard: failures-IofN.tsv)

A shard holds a few hundred clips; its ``.npy`` arrays are memory-mapped on read, so a clip is a
slice of a page-cached file. Crash safety: each file is written to ``*.tmp``, fsynced and renamed;
the shard's ``.json`` is renamed into place last, so a shard exists for readers only once all of its
data is durable. Data files without their ``.json`` (a killed run) are removed by the next run.
Shard names are ``TAG-SEQ-RANDOM`` so reruns and parallel ``--shard`` jobs never collide.
"""

from __future__ import annotations

import json
import logging
import os
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from lipread.errors import ConfigError, DataError

log = logging.getLogger("lipread.data.cache")

FORMAT = "lipread-prepared-cache"
VERSION = 1
CACHE_FILE = "cache.json"
SHARDS = "shards"


@dataclass
class ClipInfo:
    """Metadata of one cached clip (what a shard's index stores per clip).

    ``shape`` is the mouth's (T, H, W, C); ``offset`` its start in the shard's flat mouth array;
    ``frame_offset`` its start in the valid array; ``audio_offset``/``audio_shape`` its rows (4T, F);
    ``wave_offset``/``wave_len`` its 16 kHz samples in the shard's int16 waveform array (None: no sound kept).
    """

    id: str
    text: str
    speaker: str
    split: str
    source: str
    shape: list[int]
    fps: float = 25.0
    start: float | None = None
    end: float | None = None
    duration: float = 0.0
    valid_frames: int = 0
    words: list[list] | None = None  # [[word, start, end], ...] in seconds, relative to the source
    offset: int = 0
    frame_offset: int = 0
    audio_offset: int = 0
    audio_shape: list[int] | None = None
    wave_offset: int = 0
    wave_len: int | None = None
    shard: str = ""

    @property
    def frames(self) -> int:
        return int(self.shape[0])


@dataclass
class ClipData:
    """One processed clip to write: arrays plus metadata (``info.shape`` etc. are filled by the writer).

    ``mouth``: (T, H, W, C) uint8; ``valid``: (T,) bool; ``audio``: (4T, F) float32 or None;
    ``wave``: (S,) int16 16 kHz mono or None.
    """

    info: ClipInfo
    mouth: np.ndarray
    valid: np.ndarray
    audio: np.ndarray | None = None
    wave: np.ndarray | None = None


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _atomic_write(path: Path, write) -> None:
    """Write via ``write(fileobj)`` to a temporary file beside ``path``, fsync, rename onto ``path``.

    The temporary name is unique to the writer (``path.PID-RANDOM.tmp``): the jobs of a ``--shard`` array
    start at the same time and all write ``cache.json`` of a new cache; with one shared temporary name
    one job's rename would take the file from under another's.
    """
    tmp = path.with_name(f"{path.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp")
    with open(tmp, "wb") as f:
        write(f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def write_json_atomic(path: Path, data: Any) -> None:
    _atomic_write(path, lambda f: f.write(json.dumps(data, indent=1).encode("utf-8")))
    _fsync_dir(path.parent)


RUNTIME_KEYS = frozenset({"chunk_size", "prefetch", "keep_frames_mb", "min_face_width", "workers", "device"})
"""Front-end settings that change speed or memory, not the crops (``min_face_width`` only refuses clips); they
may differ between runs."""


def _differences(old: dict, new: dict) -> list[str]:
    """Settings (``frontend.KEY`` / top-level keys) whose values differ between two cache configs.

    Runtime knobs are ignored, and so is a front-end key only one side has (a newer lipread adding
    a setting with its default must not invalidate every cache).
    """
    diff = [k for k in sorted(set(old) | set(new)) if k != "frontend" and old.get(k) != new.get(k)]
    fo, fn = old.get("frontend", {}), new.get("frontend", {})
    for key in sorted(set(fo) & set(fn) - RUNTIME_KEYS):
        if fo[key] != fn[key]:
            diff.append(f"frontend.{key}")
    return diff


def _get(meta: dict, key: str):
    return meta.get("frontend", {}).get(key[9:]) if key.startswith("frontend.") else meta.get(key)


def ensure_cache_config(out: Path, config: dict[str, Any]) -> None:
    """Create ``cache.json`` or check that an existing one matches ``config`` (else ConfigError)."""
    out.mkdir(parents=True, exist_ok=True)
    (out / SHARDS).mkdir(exist_ok=True)
    meta = {"format": FORMAT, "version": VERSION, **config}
    path = out / CACHE_FILE
    if not path.exists():
        write_json_atomic(path, meta)
        return
    old = read_cache_config(out)
    diff = _differences(old, meta)
    if diff:
        raise ConfigError(
            "the cache was prepared with different settings ("
            + "; ".join(f"{k} was {json.dumps(_get(old, k))}, now {json.dumps(_get(meta, k))}" for k in diff) + ")",
            out,
            "Prepare into a new folder, or rerun with the original settings.",
        )


def read_cache_config(cache_dir: str | os.PathLike) -> dict[str, Any]:
    path = Path(cache_dir) / CACHE_FILE
    if not path.is_file():
        raise DataError("not a prepared cache (no cache.json)", cache_dir, "Run `lipread prepare` first.")
    try:
        meta = json.loads(path.read_text())
    except json.JSONDecodeError:
        raise DataError("cache.json is corrupt", path, "Prepare the cache again.") from None
    if meta.get("format") != FORMAT or meta.get("version") != VERSION:
        raise DataError(f"unsupported cache format {meta.get('format')} v{meta.get('version')}", path,
                        f"This lipread reads {FORMAT} v{VERSION}; prepare the cache again.")
    return meta


class ShardWriter:
    """Buffers clips and writes them as shards (single writer per ``tag``).

    ``add`` flushes when ``max_clips`` clips or ``max_bytes`` of mouth data are buffered, or when
    the oldest buffered clip waited ``max_seconds`` (bounds the work a kill can lose).
    """

    def __init__(self, out: str | os.PathLike, tag: str = "all", max_clips: int = 256,
                 max_bytes: int = 512 << 20, max_seconds: float = 120.0):
        self.dir = Path(out) / SHARDS
        self.dir.mkdir(parents=True, exist_ok=True)
        self.tag, self.max_clips, self.max_bytes, self.max_seconds = tag, max_clips, max_bytes, max_seconds
        self.buffer: list[ClipData] = []
        self.buffer_bytes = 0
        self.buffer_since = 0.0
        self.written = 0
        self.remove_orphans()

    def remove_orphans(self) -> None:
        """Delete this tag's temp files and data files whose shard index never got written."""
        for p in self.dir.glob(f"{self.tag}-*"):
            base = p.name.split(".", 1)[0]
            if p.name.endswith(".tmp") or not (self.dir / f"{base}.json").exists():
                log.info("removing unfinished %s", p.name)
                p.unlink(missing_ok=True)

    def add(self, clip: ClipData) -> None:
        if not self.buffer:
            self.buffer_since = time.monotonic()
        self.buffer.append(clip)
        self.buffer_bytes += clip.mouth.nbytes
        if (len(self.buffer) >= self.max_clips or self.buffer_bytes >= self.max_bytes
                or time.monotonic() - self.buffer_since >= self.max_seconds):
            self.flush()

    def flush(self) -> None:
        """Write the buffered clips as one shard (data durable first, then its index)."""
        if not self.buffer:
            return
        name = f"{self.tag}-{int(time.time() * 1000):013d}-{uuid.uuid4().hex[:8]}"
        clips = self.buffer
        with_audio = [c.audio is not None for c in clips]
        if any(with_audio) and not all(with_audio):
            raise DataError("some clips have audio features and some do not; a shard must be uniform")
        with_wave = all(c.wave is not None for c in clips)
        offset = frame_offset = audio_offset = wave_offset = 0
        infos = []
        for c in clips:
            mouth = np.ascontiguousarray(c.mouth, dtype=np.uint8)
            info = c.info
            info.shape, info.offset, info.frame_offset = list(mouth.shape), offset, frame_offset
            info.valid_frames = int(np.count_nonzero(c.valid))
            offset += mouth.size
            frame_offset += mouth.shape[0]
            if c.audio is not None:
                info.audio_offset, info.audio_shape = audio_offset, list(c.audio.shape)
                audio_offset += c.audio.shape[0]
            if with_wave:
                info.wave_offset, info.wave_len = wave_offset, int(len(c.wave))
                wave_offset += len(c.wave)
            info.shard = name
            infos.append(info)
        mouth_all = np.concatenate([np.ascontiguousarray(c.mouth, dtype=np.uint8).reshape(-1) for c in clips])
        valid_all = np.concatenate([np.asarray(c.valid, dtype=bool).reshape(-1) for c in clips])
        _atomic_write(self.dir / f"{name}.mouth.npy", lambda f: np.save(f, mouth_all))
        _atomic_write(self.dir / f"{name}.valid.npy", lambda f: np.save(f, valid_all))
        if with_audio[0]:
            audio_all = np.concatenate([np.asarray(c.audio, dtype=np.float32) for c in clips])
            _atomic_write(self.dir / f"{name}.audio.npy", lambda f: np.save(f, audio_all))
        if with_wave:
            wave_all = np.concatenate([np.asarray(c.wave, dtype=np.int16).reshape(-1) for c in clips])
            _atomic_write(self.dir / f"{name}.wave.npy", lambda f: np.save(f, wave_all))
        index = {"version": VERSION, "mouth_size": int(mouth_all.size), "frames": int(valid_all.size),
                 "audio_rows": audio_offset if with_audio[0] else None,
                 "wave_samples": wave_offset if with_wave else None,
                 "clips": [{k: v for k, v in asdict(i).items() if k != "shard"} for i in infos]}
        _fsync_dir(self.dir)
        write_json_atomic(self.dir / f"{name}.json", index)
        self.written += len(clips)
        self.buffer, self.buffer_bytes = [], 0


@dataclass
class _Shard:
    name: str
    mouth_size: int
    frames: int
    audio_rows: int | None
    wave_samples: int | None = None
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    pid: int = -1


class CacheReader:
    """Reads a prepared cache: ``clips`` (list of ClipInfo, sorted by id) and their arrays.

    Shards whose data files are missing or of the wrong size are skipped with a warning, and a
    clip id found in two shards is read once (the first shard by name). Arrays are memory-mapped
    lazily per process, so a reader can be shared with DataLoader worker processes.
    """

    def __init__(self, cache_dir: str | os.PathLike):
        self.dir = Path(cache_dir)
        self.config = read_cache_config(self.dir)
        self.shards: dict[str, _Shard] = {}
        clips: dict[str, ClipInfo] = {}
        self.duplicates = 0
        for index_path in sorted((self.dir / SHARDS).glob("*.json")):
            name = index_path.name[: -len(".json")]
            try:
                index = json.loads(index_path.read_text())
                shard = _Shard(name, index["mouth_size"], index["frames"], index["audio_rows"],
                               index.get("wave_samples"))
                self._check(shard)
            except (OSError, ValueError, KeyError) as exc:
                log.warning("skipping damaged shard %s: %s", name, exc)
                continue
            self.shards[name] = shard
            for raw in index["clips"]:
                info = ClipInfo(**raw, shard=name)
                if info.id in clips:
                    self.duplicates += 1
                    log.warning("clip %s is in shards %s and %s; reading the first", info.id, clips[info.id].shard, name)
                    continue
                clips[info.id] = info
        self.clips = [clips[k] for k in sorted(clips)]

    def _check(self, shard: _Shard) -> None:
        """Raise ValueError unless the shard's arrays exist with the sizes its index says."""
        expected = {"mouth": (shard.mouth_size,), "valid": (shard.frames,)}
        for kind, shape in expected.items():
            arr = np.load(self.dir / SHARDS / f"{shard.name}.{kind}.npy", mmap_mode="r")
            if arr.shape != shape:
                raise ValueError(f"{kind} array has shape {arr.shape}, index says {shape}")
        if shard.audio_rows is not None:
            arr = np.load(self.dir / SHARDS / f"{shard.name}.audio.npy", mmap_mode="r")
            if arr.shape[0] != shard.audio_rows:
                raise ValueError(f"audio array has {arr.shape[0]} rows, index says {shard.audio_rows}")
        if shard.wave_samples is not None:
            arr = np.load(self.dir / SHARDS / f"{shard.name}.wave.npy", mmap_mode="r")
            if arr.shape != (shard.wave_samples,):
                raise ValueError(f"wave array has shape {arr.shape}, index says ({shard.wave_samples},)")

    def __len__(self) -> int:
        return len(self.clips)

    def _array(self, shard_name: str, kind: str) -> np.ndarray:
        shard = self.shards[shard_name]
        if shard.pid != os.getpid():  # maps made before a fork are reopened in the child
            shard.arrays, shard.pid = {}, os.getpid()
        if kind not in shard.arrays:
            shard.arrays[kind] = np.load(self.dir / SHARDS / f"{shard_name}.{kind}.npy", mmap_mode="r")
        return shard.arrays[kind]

    def mouth(self, info: ClipInfo) -> np.ndarray:
        """The clip's mouth frames, (T, H, W, C) uint8 (a read-only memory map)."""
        n = int(np.prod(info.shape))
        return self._array(info.shard, "mouth")[info.offset : info.offset + n].reshape(info.shape)

    def valid(self, info: ClipInfo) -> np.ndarray:
        """(T,) bool: face found in each frame."""
        return self._array(info.shard, "valid")[info.frame_offset : info.frame_offset + info.frames]

    def audio(self, info: ClipInfo) -> np.ndarray | None:
        """(4T, F) float32 audio features, or None when the cache has none."""
        if info.audio_shape is None:
            return None
        return self._array(info.shard, "audio")[info.audio_offset : info.audio_offset + info.audio_shape[0]]

    def wave(self, info: ClipInfo) -> np.ndarray | None:
        """(S,) float32 16 kHz mono sound in [-1, 1], or None when the cache kept none."""
        if info.wave_len is None:
            return None
        raw = self._array(info.shard, "wave")[info.wave_offset : info.wave_offset + info.wave_len]
        return np.asarray(raw, dtype=np.float32) / 32767.0

    @property
    def has_wave(self) -> bool:
        return bool(self.clips) and all(c.wave_len is not None for c in self.clips)
