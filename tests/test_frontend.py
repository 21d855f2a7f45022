"""The front end on the real GRID clips, and its errors on inputs the tests make themselves."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from lipread.errors import ConfigError, MediaError, NoAudioError, NoFaceError
from lipread.face.align import apply
from lipread.face.geometry import face_geometry
from lipread.frontend import FrontEnd, FrontEndConfig, process_video
from lipread.io.video import read_video
from lipread.io.writer import write_audio, write_video

# Jitter bound, measured on 20 GRID clips spread over the corpus (every 45th): the crop centre, mapped
# back to the source frame, moves at most 0.65 px between frames (mean 0.11 px), while the raw mouth
# centre moves 0.36 px per frame on average (speech). The lips are ~38 px wide in these 360x288 frames,
# so the bound of 1.5 px (4 % of the mouth width, < 2 px of the 100 px crop) allows 2x the measured
# worst case and still catches any unsmoothed landmark tracking (raw per-frame noise exceeds it).
MAX_CENTRE_STEP_PX = 1.5
MAX_MEAN_STEP_PX = 0.3


def centre_track(result) -> np.ndarray:
    """(T, 2) source-pixel position of the crop centre."""
    m = result.transforms.astype(np.float64)
    w, h = result.mouth.shape[2], result.mouth.shape[1]
    return np.einsum("tij,tj->ti", np.linalg.inv(m[:, :, :2]), np.array([w / 2, h / 2]) - m[:, :, 2])


@pytest.fixture(scope="module")
def front():
    fe = FrontEnd(FrontEndConfig(preset="lipnet"))
    yield fe
    fe.close()


@pytest.mark.grid
def test_grid_clips_every_frame_cropped_stably(grid_clips, front):
    geo = face_geometry()
    clips = grid_clips[:: max(1, len(grid_clips) // 20)][:20]
    assert len(clips) >= 20
    for clip in clips:
        r = front.process(clip)
        assert r.mouth.shape == (75, 50, 100, 3) and r.mouth.dtype == np.uint8, clip
        assert r.valid.all(), clip
        assert r.landmarks.shape == (75, geo.n_points, 2) and r.transforms.shape == (75, 2, 3)
        lips = apply(r.transforms.astype(np.float64), r.landmarks[:, geo.lips].astype(np.float64))
        assert (lips[..., 0] > 0).all() and (lips[..., 0] < 100).all(), clip
        assert (lips[..., 1] > 0).all() and (lips[..., 1] < 50).all(), clip
        steps = np.linalg.norm(np.diff(centre_track(r), axis=0), axis=1)
        assert steps.max() < MAX_CENTRE_STEP_PX and steps.mean() < MAX_MEAN_STEP_PX, (clip, steps.max())
        assert r.mouth.std() > 10  # real image content, not a border fill
        assert r.fps == 25.0 and r.duration == 3.0 and r.start == 0.0


@pytest.mark.grid
def test_aligned96_gray_audio_and_segment(grid_clips):
    cfg = FrontEndConfig(preset="aligned96", gray=True, audio=True)
    r = process_video(grid_clips[1], cfg, start=1.0, end=2.0)
    assert r.mouth.shape == (25, 96, 96, 1)
    assert r.audio_features.shape == (100, 13)
    assert r.start == pytest.approx(1.0)


@pytest.mark.grid
def test_opencv_backend_end_to_end(grid_clips):
    r = process_video(grid_clips[2], FrontEndConfig(landmarks="opencv"))
    assert r.backend == "opencv" and r.valid.mean() > 0.9 and r.mouth.shape == (75, 50, 100, 3)


@pytest.mark.grid
def test_face_missing_in_part_warns_with_ranges(grid_clips, tmp_path, front, caplog):
    frames = read_video(grid_clips[3]).frames.copy()
    frames[20:30] = 128  # ten blank frames: 0.80-1.20 s
    path = write_video(tmp_path / "gap.mkv", frames)
    with caplog.at_level(logging.WARNING, logger="lipread.frontend"):
        r = front.process(path)
    assert not r.valid[20:30].any() and r.valid[:20].all() and r.valid[31:].all()
    assert "0.80-1.20s" in caplog.text
    assert r.mouth.shape[0] == 75


def test_no_face_in_any_frame(tmp_path):
    path = write_video(tmp_path / "blank.mkv", np.full((10, 120, 160, 3), 90, np.uint8))
    with pytest.raises(NoFaceError, match="no face found in any of 10 frames"):
        process_video(path)


def test_audio_asked_but_missing(tmp_path, grid_clips):
    frames = read_video(grid_clips[0], end=0.4).frames
    path = write_video(tmp_path / "silent.mkv", frames)
    with pytest.raises(NoAudioError):
        process_video(path, FrontEndConfig(audio=True))


def test_bad_files(tmp_path):
    garbage = tmp_path / "garbage.mov"
    garbage.write_bytes(b"\x00\x01lipread" * 500)
    with pytest.raises(MediaError, match="not a media file"):
        process_video(garbage)
    with pytest.raises(MediaError, match="no video stream"):
        process_video(write_audio(tmp_path / "a.wav", np.zeros(1600, np.float32)))
    with pytest.raises(ConfigError):
        FrontEndConfig(preset="lipnet200")


def test_landmarks_every_other_frame_are_interpolated_between_the_frames_read():
    """landmark_every=2: the backend sees every other frame (and each chunk's last); the frames between get the
    points halfway, across chunk boundaries too; a change in the number of faces takes the nearer frame's."""
    from lipread.frontend import detect_every

    class Counting:
        def __init__(self):
            self.seen = []

        def detect(self, frames):
            self.seen += [int(f[0, 0, 0]) for f in frames]
            return [[np.full((3, 2), float(f[0, 0, 0]), np.float32)] if f[0, 0, 0] != 8 else [] for f in frames]

    video = np.arange(10, dtype=np.uint8)[:, None, None, None] * np.ones((1, 2, 2, 3), np.uint8)
    backend, state = Counting(), {}
    out = detect_every(backend, video[:5], 2, state) + detect_every(backend, video[5:], 2, state)
    assert backend.seen == [0, 2, 4, 6, 8, 9]  # every other frame, and each chunk's last (4 and 9)
    assert [float(f[0][0, 0]) if f else None for f in out] == [0, 1, 2, 3, 4, 5, 6, None, None, 9]
    # frame 5 lies between 4 (the first chunk's last) and 6; frame 8 shows no face, so frame 7, halfway
    # between a face and none, takes the later frame's (none); every=1 reads every frame
    plain = Counting()
    assert len(detect_every(plain, video, 1, {})) == 10 and plain.seen == list(range(10))
