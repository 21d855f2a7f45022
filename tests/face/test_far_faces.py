"""Far faces (issue 25): real GRID frames scaled down into a wide frame are found, their landmarks land
on the face, several small faces come back as several candidates, and a face too small to read is refused
with one clear line."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from lipread.errors import FaceTooSmallError
from lipread.face import backends
from lipread.face.far import tiles
from lipread.face.geometry import face_geometry
from lipread.face.size import MIN_FACE_WIDTH, check_face_size, face_width

FRAME = (1280, 720)


def place(frames: np.ndarray, scale, centres=(0.5,), size=FRAME) -> tuple[np.ndarray, list[np.ndarray]]:
    """``frames`` (T, h, w, 3) scaled by ``scale`` (one, or one per copy) and pasted at each x ``centres``
    (fractions of the width) of a grey ``size`` frame. Returns the (T, H, W, 3) frames and each copy's (x, y)."""
    import cv2

    w, h = size
    scales = list(scale) if np.ndim(scale) else [scale] * len(centres)
    out = np.full((len(frames), h, w, 3), 128, np.uint8)
    offsets = []
    for i, frame in enumerate(frames):
        offsets = []
        for c, sc in zip(centres, scales):
            img = cv2.resize(frame, None, fx=sc, fy=sc, interpolation=cv2.INTER_AREA)
            y, x = (h - img.shape[0]) // 2, int(round(w * c - img.shape[1] / 2))
            out[i, y : y + img.shape[0], x : x + img.shape[1]] = img
            offsets.append(np.array([x, y], np.float32))
    return out, offsets


@pytest.fixture(scope="module")
def clip(grid_clips):
    """30 frames of a real GRID clip, its full-size landmarks (T, N, 2) and its face width (px)."""
    from lipread.io.video import read_video

    frames = read_video(grid_clips[0], end=1.2).frames
    backend = backends.MediaPipeBackend()
    faces = backend.detect(frames)
    backend.close()
    assert all(len(f) == 1 for f in faces)
    ref = np.stack([f[0] for f in faces])
    return frames, ref, float(np.median([face_width(p) for p in ref]))


@pytest.fixture(scope="module")
def backend():
    b = backends.MediaPipeBackend()
    yield b
    b.close()


@pytest.mark.grid
@pytest.mark.parametrize("width", [70, 40])
def test_small_face_is_found_and_landmarks_land_on_it(clip, backend, width):
    frames, ref, full = clip
    scale = width / full
    small, (offset,) = place(frames, scale)
    backend.reset()
    faces = backend.detect(small)
    assert sum(len(f) == 1 for f in faces) >= 0.9 * len(faces), [len(f) for f in faces]
    errors = [np.linalg.norm(f[0] - (r * scale + offset), axis=1).mean() for f, r in zip(faces, ref) if f]
    assert np.mean(errors) < 0.05 * width, np.mean(errors)  # mean point error under 5% of the face width
    assert np.median([face_width(f[0]) for f in faces if f]) == pytest.approx(width, rel=0.1)


@pytest.mark.grid
def test_two_small_faces_side_by_side_are_both_returned(clip, backend):
    frames, ref, full = clip
    scale = 45 / full
    small, offsets = place(frames, scale, centres=(0.3, 0.7))
    backend.reset()
    faces = backend.detect(small)
    assert sum(len(f) == 2 for f in faces) >= 0.9 * len(faces), [len(f) for f in faces]
    lips = face_geometry().lips
    for f, r in zip(faces, ref):
        if len(f) == 2:
            got = sorted(p[lips].mean(axis=0)[0] for p in f)
            want = sorted((r[lips].mean(axis=0) * scale + o)[0] for o in offsets)
            assert np.allclose(got, want, atol=0.1 * 45)


@pytest.mark.grid
def test_a_near_and_a_far_face_are_both_returned_on_the_face(clip, backend):
    """A face large enough for the fast path beside a far one: both come back, each where it is."""
    frames, ref, full = clip
    scales = [260 / full, 40 / full]
    video, offsets = place(frames, scales, centres=(0.3, 0.8))
    backend.reset()
    faces = backend.detect(video)
    assert sum(len(f) == 2 for f in faces) >= 0.9 * len(faces), [len(f) for f in faces]
    for f, r in zip(faces, ref):
        if len(f) == 2:
            near, far = sorted(f, key=face_width, reverse=True)
            for got, sc, off in ((near, scales[0], offsets[0]), (far, scales[1], offsets[1])):
                width = sc * full
                assert np.linalg.norm(got - (r * sc + off), axis=1).mean() < 0.05 * width


@pytest.mark.grid
def test_close_up_stays_on_the_fast_path(clip, backend, monkeypatch):
    """A GRID close-up never calls the far-face detector (the fast path is unchanged)."""
    frames = clip[0]
    calls = []
    monkeypatch.setattr(backend._far, "boxes", lambda frame: calls.append(1) or np.zeros((0, 4), np.float32))
    backend.reset()
    assert all(len(f) == 1 for f in backend.detect(frames))
    assert not calls


def test_tiles_cover_the_frame_with_overlap():
    cover = np.zeros((720, 1280), int)
    boxes = tiles(1280, 720, 320)
    for x0, y0, x1, y1 in boxes:
        assert x1 - x0 <= 320 and y1 - y0 <= 320
        cover[y0:y1, x0:x1] += 1
    assert cover.min() >= 1
    assert tiles(300, 200, 640) == [(0, 0, 300, 200)]


def test_check_face_size_names_the_width_needed():
    geo = face_geometry()
    big, small = geo.mean * 2 * MIN_FACE_WIDTH, geo.mean * 0.5 * MIN_FACE_WIDTH
    valid = np.ones(3, bool)
    assert check_face_size(np.stack([big] * 3), valid, "a.mp4") == pytest.approx(2 * MIN_FACE_WIDTH, rel=1e-4)
    with pytest.raises(FaceTooSmallError) as err:
        check_face_size(np.stack([small] * 3), valid, "a.mp4")
    msg = str(err.value)
    assert msg.startswith("a.mp4: ") and f"{MIN_FACE_WIDTH * 0.5:.0f} px wide" in msg
    assert f"at least {MIN_FACE_WIDTH} px wide" in msg and "\n" not in msg
    assert check_face_size(np.stack([small] * 3), valid, "a.mp4", min_width=0) > 0  # 0: no check


@pytest.fixture(scope="module")
def small_videos(clip, tmp_path_factory):
    """Lossless 1280x720 clips of the GRID frames with the face 70 px and 30 px wide."""
    from lipread.io.writer import write_video

    frames, _, full = clip
    out = tmp_path_factory.mktemp("far")
    return {w: write_video(out / f"face{w}.mkv", place(frames, w / full)[0]) for w in (70, 30)}


@pytest.mark.grid
def test_cli_refuses_a_face_too_small_with_one_line(small_videos, tmp_path, monkeypatch, caplog, capsys):
    from lipread.cli.main import main
    from lipread.face import size

    monkeypatch.setattr(size, "MIN_FACE_WIDTH", 50)  # the 30-px face is found, and is under the minimum
    assert main(["crop", str(small_videos[30]), "-o", str(tmp_path)]) == 1
    text = caplog.text + capsys.readouterr().err
    found = re.search(r"face30\.mkv: the face is too small to read lips: (\d+) px wide, at least 50 px needed", text)
    assert found and 27 <= int(found[1]) <= 33, text
    assert "so the face is at least 50 px wide" in text


@pytest.mark.grid
def test_info_face_json_reports_the_face_width(small_videos, capsys):
    from lipread.cli.main import main

    assert main(["info", "--json", "--face", str(small_videos[70])]) == 0
    face = json.loads(capsys.readouterr().out)["face"]
    assert face["found"] >= 0.9 and face["width_px"] == pytest.approx(70, rel=0.1)
    assert face["readable"] is (face["width_px"] >= MIN_FACE_WIDTH)
    assert main(["info", "--face", str(small_videos[30])]) == 0
    found = re.search(r"face (\d+) px wide \(median\)(.*)", capsys.readouterr().out)
    assert found and 27 <= int(found[1]) <= 33
    assert ("too small to read lips" in found[2]) is (int(found[1]) < MIN_FACE_WIDTH)


@pytest.mark.grid
def test_a_second_far_face_coming_into_view_is_picked_up(clip, backend):
    frames, _, full = clip
    one, _ = place(frames, 45 / full, centres=(0.3,))
    two, _ = place(frames, 45 / full, centres=(0.3, 0.7))
    video = np.concatenate([one[:5], two, two])  # the second face appears at frame 5
    backend.reset()
    counts = [len(f) for f in backend.detect(video)]
    assert counts[:5] == [1] * 5
    assert counts[-5:] == [2] * 5, counts  # found within LOOK_FOR_NEW_EVERY frames


@pytest.mark.grid
def test_far_faces_keep_native_warnings_quiet(small_videos):
    import subprocess
    import sys

    script = ("import sys\nfrom lipread.frontend import process_video\n"
              "r = process_video(sys.argv[1])\nprint(int(r.valid.sum()))")
    res = subprocess.run([sys.executable, "-c", script, str(small_videos[70])], capture_output=True, text=True,
                         timeout=120)
    assert res.returncode == 0, res.stderr[-2000:]
    assert int(res.stdout) >= 27  # of 30 frames
    assert "W0000" not in res.stderr and "Feedback manager" not in res.stderr and "INFO:" not in res.stderr, res.stderr


@pytest.mark.parametrize("side", [60.0, 700.0])
def test_crop_square_maps_crop_units_back_to_frame_pixels(side):
    from lipread.face.far import CROP_SIDE, crop_square

    frame = np.zeros((720, 1280, 3), np.uint8)
    frame[300:302, 500:502] = 255  # a bright 2x2 dot at (501, 301) (pixel centres 500.5..501.5)
    crop, origin, span = crop_square(frame, np.array([520.0, 290.0]), side)
    assert crop.shape == (CROP_SIDE, CROP_SIDE, 3)
    ys, xs = np.nonzero(crop[..., 0] > 0)
    w = crop[ys, xs, 0].astype(float)
    u = (np.array([(xs * w).sum(), (ys * w).sum()]) / w.sum() + 0.5) / CROP_SIDE  # crop units, pixel centres
    assert np.allclose(origin + u * span, [501.0, 301.0], atol=0.02 * side + 0.5)


@pytest.mark.grid
def test_wide_shots_with_a_40px_face_read_like_the_clips(clip, grid_clips, tmp_path):
    """Issue 25, end to end: whole GRID clips shrunk so the face is 40 px wide in a 1280x720 frame, with their
    sound, read by the default model from the lips alone, read (nearly) as the clips at full size do."""
    from lipread.io.audio import read_audio
    from lipread.io.video import read_video
    from lipread.io.writer import write_video
    from lipread.models.zoo import DEFAULT_MODEL
    from lipread.pipelines.transcribe import Transcriber, load_model

    full = clip[2]
    clips = grid_clips[:2]
    wide = [write_video(tmp_path / f"{c.stem}.mkv", place(read_video(c).frames, 40 / full)[0],
                        audio=read_audio(c)) for c in clips]
    tr = Transcriber(load_model(DEFAULT_MODEL, "cpu"), modality="video")
    try:
        near = [tr.transcribe(c) for c in clips]
        far = [tr.transcribe(w) for w in wide]
    finally:
        tr.close()
    for n, f in zip(near, far):  # the face read is the small one: its box shrunk as the frames were
        assert f.modality == "video" and len(f.faces) == 1
        assert f.faces[0]["box"][2] == pytest.approx(n.faces[0]["box"][2] * 40 / full, rel=0.2), (n.faces, f.faces)
    same = sum(a == b for n, f in zip(near, far) for a, b in zip(n.text.split(), f.text.split()))
    assert same >= 11, ([n.text for n in near], [f.text for f in far])  # of 12 words
