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


def test_two_trackers_take_frames_in_turn_across_chunks_and_videos():
    """SplitBackend: frame i of a video goes to tracker (i % 2), counted across chunks (a chunk of odd length
    moves the turn), the second runs in a worker thread, results come back in frame order; reset starts the
    count again; an error in either tracker reaches the caller."""
    import threading

    from lipread.face.backends import SplitBackend

    class Recording:
        def __init__(self, name):
            self.name, self.seen, self.threads, self.resets, self.closed = name, [], set(), 0, False

        def reset(self):
            self.resets += 1

        def detect(self, frames):
            self.threads.add(threading.current_thread().name)
            values = [int(f[0, 0, 0]) for f in frames]
            if 99 in values:
                raise RuntimeError(f"{self.name} failed")
            self.seen += values
            return [[np.full((2, 2), v, np.float32)] for v in values]

        def close(self):
            self.closed = True

    made = []

    def make():
        made.append(Recording("second"))
        return made[-1]

    first = Recording("first")
    split = SplitBackend(first, make)
    video = np.arange(12, dtype=np.uint8)[:, None, None, None] * np.ones((1, 2, 2, 3), np.uint8)
    out = split.detect(video[:5]) + split.detect(video[5:6]) + split.detect(video[6:])
    assert [int(f[0][0, 0]) for f in out] == list(range(12))
    assert first.seen == [0, 2, 4, 6, 8, 10] and made[0].seen == [1, 3, 5, 7, 9, 11]
    assert threading.current_thread().name in first.threads
    assert all(name.startswith("lipread-landmarks") for name in made[0].threads)
    split.reset()
    split.detect(video[:3])
    assert first.seen[-2:] == [0, 2] and made[0].seen[-1] == 1 and first.resets == 1 and made[0].resets == 2
    bad = video[:4].copy()
    bad[3] = 99  # the worker's frame fails: the caller sees its error
    with pytest.raises(RuntimeError, match="second failed"):
        split.reset() or split.detect(bad)
    assert split.name == "first" and len(made) == 1
    split.close()
    assert first.closed and made[0].closed


def test_landmark_workers_setting_is_checked_and_switches_the_backend(monkeypatch):
    from lipread.face import backends
    from lipread.face.backends import SplitBackend, landmark_workers

    with pytest.raises(ConfigError, match="landmark_workers"):
        FrontEndConfig(landmark_workers=3)
    assert landmark_workers(1) == 1 and landmark_workers(2) == 2
    monkeypatch.setattr(backends.os, "sched_getaffinity", lambda pid: {0})
    assert landmark_workers(0) == 1  # one core: one tracker
    monkeypatch.setattr(backends.os, "sched_getaffinity", lambda pid: {0, 1, 2})
    assert landmark_workers(0) == 2

    class Fake:
        name = "mediapipe"

        def reset(self):
            pass

        def close(self):
            pass

    monkeypatch.setattr("lipread.frontend.create_backend", lambda name, **kw: Fake())
    front = FrontEnd(FrontEndConfig(landmark_workers=0))
    assert isinstance(front.backend, SplitBackend)
    front.config.landmark_workers = 1
    assert isinstance(front.backend, Fake)  # the same first tracker, alone again
    front.config.landmark_workers = 2
    assert isinstance(front.backend, SplitBackend) and front.backend is front.backend
    front.close()


@pytest.mark.grid
def test_two_trackers_crop_grid_clips_as_one_does(grid_clips):
    """Two mediapipe trackers taking alternate frames (what transcribe uses on two cores) cut the same crops as
    one tracker within a fraction of a pixel: the mouth centre and width from both, 10 GRID clips, landmarks on every
    other frame as files with sound are read."""
    clips = grid_clips[:: max(1, len(grid_clips) // 10)][:10]
    fronts = [FrontEnd(FrontEndConfig(landmark_every=2, landmark_workers=w)) for w in (1, 2)]
    try:
        for clip in clips:
            one, two = (f.process(clip) for f in fronts)
            assert one.valid.all() and two.valid.all(), clip
            shift = np.linalg.norm(centre_track(one) - centre_track(two), axis=1)
            assert shift.max() < 0.6, (clip, shift.max())  # measured: at most 0.25 px
            scale = np.linalg.norm(one.transforms[:, :, 0], axis=1) / np.linalg.norm(two.transforms[:, :, 0], axis=1)
            assert np.abs(scale - 1).max() < 0.015, (clip, scale)  # measured: at most 0.6%
    finally:
        for f in fronts:
            f.close()


def test_backends_started_ahead_are_handed_over_one_each(monkeypatch):
    """prestart(copies=2) builds two backends in the background; create_backend takes them one at a time
    (the second from another thread, as the second tracker is made, while it is still being built), then
    builds new ones."""
    import threading

    from lipread.face import backends

    built = []

    class Probe(backends.LandmarkBackend):
        name = "probe-backend"

        def __init__(self, **options):
            built.append(self)

        def detect(self, frames):
            return [[] for _ in frames]

    gate = threading.Event()  # the first is asked for while it is still being built (as in a real start)

    class Slow(Probe):
        def __init__(self, **options):
            if not built:
                gate.wait(5)
            super().__init__(**options)

    monkeypatch.setitem(backends.LANDMARK_BACKENDS._items, "probe-backend", Slow)
    backends.prestart("probe-backend", copies=2, warm_up=False, max_faces=2)
    threading.Timer(0.2, gate.set).start()
    got = [backends.create_backend("probe-backend", max_faces=2)]
    second = threading.Thread(target=lambda: got.append(backends.create_backend("probe-backend", max_faces=2)),
                              daemon=True)
    second.start()
    second.join(5)
    assert not second.is_alive(), "the second backend started ahead was never handed over"
    assert len(got) == 2 and got[0] is not got[1] and set(map(id, got)) == set(map(id, built))
    assert ("probe-backend", (("max_faces", 2),)) not in backends._STARTED
    third = backends.create_backend("probe-backend", max_faces=2)
    assert third is built[-1] and len(built) == 3


@pytest.mark.grid
def test_whole_file_sound_is_read_once_beside_the_landmarks(grid_clips, monkeypatch):
    """With the sound known to be there (the caller's probe), a whole file's sound is read in a thread while the
    landmarks run, once, and gives the features and waveform the plain path gives."""
    import threading

    import lipread.io.audio as audio_io

    calls = []
    real = audio_io.read_audio

    def counted(*args, **kwargs):
        calls.append(threading.current_thread().name)
        return real(*args, **kwargs)

    monkeypatch.setattr(audio_io, "read_audio", counted)
    front = FrontEnd(FrontEndConfig(audio=True, waveform=True))
    try:
        ahead = front.process(grid_clips[0], has_sound=True)
        assert calls == ["lipread-audio"]
        plain = front.process(grid_clips[0])
        assert calls[1:] == [threading.current_thread().name]
    finally:
        front.close()
    assert np.array_equal(ahead.audio_features, plain.audio_features)
    assert np.array_equal(ahead.waveform, plain.waveform)
