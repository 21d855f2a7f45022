"""benchmarks/long_video.py's recording builder: duration, audio/video sync, manifest times (real GRID clips)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.grid

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "long_video.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("long_video_bench", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop(spec.name, None)


def _lag(a: np.ndarray, b: np.ndarray, max_lag: int) -> int:
    """The shift (samples) of ``b`` against ``a`` that correlates best, within +-max_lag."""
    n = min(len(a), len(b)) - 2 * max_lag
    ref = a[max_lag: max_lag + n]
    return max(range(-max_lag, max_lag + 1), key=lambda k: float(np.dot(ref, b[max_lag + k: max_lag + k + n])))


@pytest.mark.parametrize("shorten", [True, False])
def test_recording_duration_sync_and_manifest(bench, grid_dir, tmp_path, shorten):
    from lipread.io.audio import read_audio
    from lipread.io.video import read_video

    recs = bench.val_records(grid_dir)[:3]
    out = tmp_path / "rec.mp4"
    manifest = bench.build_recording(out, recs, shorten=shorten, sound=True)
    frames = read_video(out).frames
    audio = read_audio(out)
    sents = manifest["sentences"]
    total = sum(b - a for a, b in (s["source_frames"] for s in sents))
    assert len(frames) == total
    assert manifest["duration"] == pytest.approx(total / 25)
    assert abs(len(audio) - total * 640) <= 640, "audio and video lengths differ by more than a frame"
    if not shorten:
        assert total == 3 * 75
    assert sents[0]["start"] == 0 and all(s["end"] == t["start"] for s, t in zip(sents, sents[1:]))
    for s, rec in zip(sents, recs):
        a, b = s["source_frames"]
        assert [s["text"], s["id"]] == [rec.text, rec.id]
        # the first word starts PAD_FRAMES (or less, at the clip's edge) after the sentence starts
        assert s["start"] <= s["speech_start"] < s["speech_end"] <= s["end"]
        if shorten:
            assert s["speech_start"] - s["start"] == pytest.approx(min(5, round(rec.words[0].start * 25)) / 25)
        src_frames, src_audio = bench.clip_av(rec.video)
        # video: the recording's frames at the manifest times are the source frames a..b
        i0 = round(s["start"] * 25)
        mid = (b - a) // 2
        got = frames[i0 + mid].astype(float)
        assert np.abs(got - src_frames[a + mid]).mean() < np.abs(got - src_frames[a + mid + 3]).mean()
        # audio: the recording's sound at the manifest times matches the source's at zero lag (+-2 ms)
        j0 = i0 * 640
        seg = audio[j0 + 0: j0 + (b - a) * 640]
        assert _lag(src_audio[a * 640: b * 640], seg, 400) in range(-32, 33)


def test_no_sound_copy_has_no_audio_stream(bench, grid_dir, tmp_path):
    from lipread.io.audio import has_audio

    recs = bench.val_records(grid_dir)[:2]
    m = bench.build_recording(tmp_path / "silent.mp4", recs, shorten=True, sound=False)
    assert not has_audio(tmp_path / "silent.mp4") and not m["sound"]


def test_the_per_clip_cache_is_not_shared_by_other_weights(bench, tmp_path):
    """The "as clips" readings are cached per model name, modality and fingerprint: new weights under the same name
    (as when issue 26 replaced the default model's) read the clips again instead of reusing the old readings."""
    from types import SimpleNamespace

    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    (folder / "model.safetensors").write_bytes(b"old weights")
    calls = []

    def read(path, modality):
        calls.append(path.name)
        return {"text": f"read by {(folder / 'model.safetensors').read_bytes().decode()}", "seconds": 0.1}

    reader = SimpleNamespace(name="m", loaded=SimpleNamespace(path=folder), read=read)
    recs = [SimpleNamespace(id=f"s1/c{i}", video=str(tmp_path / f"c{i}.mp4")) for i in range(2)]
    first = bench.per_clip(reader, recs, "video", tmp_path / "work", lambda *_: None)
    again = bench.per_clip(reader, recs, "video", tmp_path / "work", lambda *_: None)
    assert len(calls) == 2 and first == again  # the same weights: read once
    (folder / "model.safetensors").write_bytes(b"new weights")
    renewed = bench.per_clip(reader, recs, "video", tmp_path / "work", lambda *_: None)
    assert len(calls) == 4 and {r["text"] for r in renewed} == {"read by new weights"}
