"""Video decoding: constant 25 fps by timestamps, rotation, chunks, segments, truncated and bad files."""

from __future__ import annotations

import logging
from fractions import Fraction

import av
import numpy as np
import pytest

from lipread.errors import InputFileError, MediaError
from lipread.io.video import DecodeReport, iter_video_chunks, read_video
from lipread.io.writer import write_audio, write_video


def ramp_frames(n: int, h: int = 32, w: int = 48) -> np.ndarray:
    """(n, h, w, 3) frames whose brightness encodes the frame index (0, 2, 4, ...)."""
    return np.repeat((np.arange(n, dtype=np.uint8) * 2)[:, None, None, None], h * w * 3).reshape(n, h, w, 3)


@pytest.mark.parametrize("fps,n", [(25, 50), (30, 90), (30000 / 1001, 60), (50, 100), (15, 30)])
def test_constant_25fps_keeps_duration(tmp_path, fps, n):
    path = write_video(tmp_path / "v.mkv", ramp_frames(n), fps=fps)
    clip = read_video(path)
    expected = n / fps * 25
    assert abs(len(clip.frames) - expected) <= 1, (len(clip.frames), expected)
    # the content follows time: frame k at 25 fps shows the source frame nearest k/25 s
    idx = clip.frames[:, 0, 0, 0].astype(int) // 2
    assert np.all(np.diff(idx) >= 0)
    assert abs(idx[len(idx) // 2] - (len(idx) // 2) / 25 * fps) <= 1.01


def test_variable_frame_rate_uses_timestamps(tmp_path):
    """Frames at irregular times (ms): each 25 fps slot shows the frame whose time is nearest."""
    path = tmp_path / "vfr.mkv"
    times_ms = [0, 40, 60, 200, 210, 400, 440, 960]
    with av.open(str(path), "w") as out:
        stream = out.add_stream("ffv1", rate=25)
        stream.width, stream.height, stream.pix_fmt = 48, 32, "bgr0"
        stream.codec_context.time_base = Fraction(1, 1000)
        for i, t in enumerate(times_ms):
            frame = av.VideoFrame.from_ndarray(ramp_frames(i + 1)[-1], format="rgb24")
            frame.pts, frame.time_base = t, Fraction(1, 1000)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    clip = read_video(path)
    shown = clip.frames[:, 0, 0, 0].astype(int) // 2
    slot_of = {i: round(t / 40) for i, t in enumerate(times_ms)}
    for k, i in enumerate(shown):
        later = [j for j in slot_of if j > i]
        assert slot_of[i] <= k and (not later or slot_of[min(later)] >= k), (k, i, shown)
    assert 24 <= len(clip.frames) <= 26  # 0.96 s + one frame duration


def test_rotation_metadata_is_honoured(tmp_path):
    frames = ramp_frames(5, h=32, w=48)
    frames[:, :4, :4] = 255  # a marker in the top-left corner
    clip = read_video(write_video(tmp_path / "r.mp4", frames, rotation=90))
    assert clip.frames.shape[1:3] == (48, 32)
    assert clip.frames[0, -2, 1, 0] > 200  # 90 degrees counter-clockwise: top-left goes bottom-left


def test_chunks_bound_memory_and_cover_all_frames(tmp_path):
    path = write_video(tmp_path / "v.mkv", ramp_frames(50))
    report = DecodeReport(str(path))
    chunks = list(iter_video_chunks(path, chunk_size=8, report=report))
    assert max(len(c.frames) for c in chunks) <= 8
    assert [c.index for c in chunks] == list(range(0, 50, 8))
    assert np.concatenate([c.frames for c in chunks]).shape[0] == 50 == report.frames
    assert np.allclose(chunks[1].times, np.arange(8, 16) / 25)


def test_segment_start_end(tmp_path):
    path = write_video(tmp_path / "v.mkv", ramp_frames(50))
    clip = read_video(path, start=0.4, end=1.2)
    assert len(clip.frames) == 20
    assert clip.start == pytest.approx(0.4)
    assert clip.frames[0, 0, 0, 0] // 2 == 10


def test_truncated_file_decodes_what_it_can_and_says_how_much_was_lost(tmp_path, caplog):
    full = write_video(tmp_path / "full.mkv", (np.random.default_rng(0).random((50, 64, 80, 3)) * 255).astype(np.uint8))
    data = open(full, "rb").read()
    cut = tmp_path / "cut.mkv"
    cut.write_bytes(data[: len(data) // 2])
    with caplog.at_level(logging.WARNING, logger="lipread.io.video"):
        clip = read_video(cut)
    assert 10 < len(clip.frames) < 50
    assert clip.report.truncated and clip.report.lost_seconds == pytest.approx(2.0 - len(clip.frames) / 25, abs=0.05)
    assert "truncated" in caplog.text and "lost" in caplog.text


@pytest.mark.parametrize("suffix", [".mkv", ".mp4"])
def test_a_sound_track_that_runs_on_is_not_truncation(tmp_path, caplog, suffix):
    """An AAC track of 3.025 s beside 75 frames (3 s) ends ~0.09 s after them; an MKV only knows the longest stream's duration.
    Not a damaged file: no warning. Cut in half, the same file still warns."""
    frames = (np.random.default_rng(0).random((75, 32, 40, 3)) * 255).astype(np.uint8)
    sound = (0.1 * np.sin(np.arange(48400) / 16000 * 2 * np.pi * 220)).astype(np.float32)
    full = write_video(tmp_path / f"av{suffix}", frames, audio=sound)
    with caplog.at_level(logging.WARNING, logger="lipread.io.video"):
        clip = read_video(full)
    assert len(clip.frames) == 75 and not clip.report.truncated, clip.report
    assert "truncated" not in caplog.text
    if suffix == ".mkv":
        data = open(full, "rb").read()
        cut = tmp_path / f"cut{suffix}"
        cut.write_bytes(data[: len(data) // 2])
        with caplog.at_level(logging.WARNING, logger="lipread.io.video"):
            clip = read_video(cut)
        assert clip.report.truncated and "truncated" in caplog.text


def test_not_a_media_file(tmp_path):
    bad = tmp_path / "garbage.mp4"
    bad.write_bytes(np.random.default_rng(1).bytes(5000))
    with pytest.raises(MediaError, match="not a media file"):
        read_video(bad)


def test_missing_file(tmp_path):
    with pytest.raises(InputFileError, match="not found"):
        read_video(tmp_path / "nope.mp4")


def test_audio_only_file_has_no_video_stream(tmp_path):
    path = write_audio(tmp_path / "a.wav", np.zeros(1600, np.float32))
    with pytest.raises(MediaError, match="no video stream"):
        read_video(path)


def test_zero_frames(tmp_path):
    path = tmp_path / "empty.avi"  # AVI keeps a stream header with no frames
    with av.open(str(path), "w") as out:
        stream = out.add_stream("ffv1", rate=25)
        stream.width, stream.height, stream.pix_fmt = 48, 32, "bgr0"
        out.start_encoding()
    with pytest.raises(MediaError, match="zero video frames"):
        read_video(path)


@pytest.mark.grid
def test_grid_30fps_reencode_gives_75_frames(grid_clips, tmp_path):
    frames = read_video(grid_clips[0]).frames
    # resample 75 frames at 25 fps to 90 at 30 fps (nearest in time), as a 30 fps camera would record
    src = frames[np.minimum((np.arange(90) / 30 * 25).round().astype(int), 74)]
    clip = read_video(write_video(tmp_path / "g30.mp4", src, fps=30, options={"crf": "18"}))
    assert abs(len(clip.frames) - 75) <= 1


@pytest.mark.grid
def test_grid_mp4_and_original_mpg_decode(grid_dir, grid_clips):
    """The mp4 re-encodes carry all-zero timestamps; the frame index / nominal rate is used instead."""
    assert read_video(grid_clips[0]).frames.shape == (75, 288, 360, 3)
    mpgs = sorted((grid_dir / "original_mpg").glob("*.mpg"))
    assert len(mpgs) >= 1
    for mpg in mpgs:
        clip = read_video(mpg)
        assert clip.frames.shape == (75, 288, 360, 3), mpg
        assert not clip.report.errors


def test_segment_far_into_a_file_seeks(tmp_path):
    frames = np.repeat((np.arange(325) % 128 * 2).astype(np.uint8)[:, None, None, None], 16 * 16 * 3).reshape(325, 16, 16, 3)
    path = write_video(tmp_path / "long.mkv", frames)  # 13 s; start beyond SEEK_MIN_S takes the seek path
    clip = read_video(path, start=12.0, end=12.4)
    assert len(clip.frames) == 10
    assert list(clip.frames[:, 0, 0, 0] // 2) == [i % 128 for i in range(300, 310)]


def test_a_complete_segment_is_not_reported_as_truncated(tmp_path, caplog):
    """Reading a window of a long file decodes only that window: no false 'truncated' warning."""
    frames = np.repeat((np.arange(325) % 128 * 2).astype(np.uint8)[:, None, None, None], 16 * 16 * 3).reshape(325, 16, 16, 3)
    path = write_video(tmp_path / "long.mkv", frames)  # 13 s
    with caplog.at_level(logging.WARNING, logger="lipread.io.video"):
        for start, end in [(0.0, 3.0), (2.5, 5.5), (11.0, 14.0), (12.0, 12.4)]:  # the last two seek
            clip = read_video(path, start=start, end=end)
            assert not clip.report.truncated and clip.report.lost_seconds < 2 / 25, (start, end, clip.report)
            assert clip.report.expected_duration == pytest.approx(min(end, 13.0) - start, abs=0.05)
    assert "truncated" not in caplog.text


def test_a_segment_of_a_truncated_file_still_warns(tmp_path, caplog):
    rng = np.random.default_rng(0)
    full = write_video(tmp_path / "full.mkv", (rng.random((150, 32, 40, 3)) * 255).astype(np.uint8))  # 6 s
    data = open(full, "rb").read()
    cut = tmp_path / "cut.mkv"
    cut.write_bytes(data[: len(data) // 2])  # the container still claims 6 s
    with caplog.at_level(logging.WARNING, logger="lipread.io.video"):
        clip = read_video(cut, start=1.0, end=5.0)
    assert clip.report.truncated and 0.5 < clip.report.lost_seconds < 4.0
    assert "truncated" in caplog.text and "segment 1.00-5.00s" in caplog.text
