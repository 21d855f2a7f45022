"""`lipread crop` and `lipread info` end to end (a GRID clip, a bad file, a file with no face)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lipread.cli.main import main
from lipread.io.video import read_video
from lipread.io.writer import write_video


@pytest.mark.grid
def test_crop_writes_lossless_clip_npz_and_overlay_and_reports_bad_files(grid_clips, tmp_path, caplog):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"not a video" * 100)
    out = tmp_path / "out"
    code = main(["crop", str(grid_clips[0]), str(bad), "-o", str(out), "--overlay", "--preset", "aligned96", "--gray"])
    assert code == 1  # the bad file fails, the good one is still cropped
    stem = grid_clips[0].stem
    clip = read_video(out / f"{stem}.mkv")
    assert clip.frames.shape == (75, 96, 96, 3)  # decoders return RGB; the grey channel is repeated
    assert np.array_equal(clip.frames[..., 0], clip.frames[..., 2])
    data = np.load(out / f"{stem}.npz")
    assert data["landmarks"].shape[0] == 75 and data["valid"].all() and data["transforms"].shape == (75, 2, 3)
    assert str(data["preset"]) == "aligned96"
    assert read_video(out / f"{stem}.overlay.mp4").frames.shape == (75, 288, 360, 3)
    assert "bad.mp4: not a media file" in caplog.text


@pytest.mark.grid
def test_crop_is_lossless(grid_clips, tmp_path):
    from lipread.frontend import FrontEndConfig, process_video

    assert main(["crop", str(grid_clips[4]), "-o", str(tmp_path)]) == 0
    expected = process_video(grid_clips[4], FrontEndConfig()).mouth
    assert np.array_equal(read_video(tmp_path / f"{grid_clips[4].stem}.mkv").frames, expected)


@pytest.mark.grid
def test_info_json_and_face(grid_clips, capsys):
    assert main(["info", "--json", "--face", str(grid_clips[0])]) == 0
    data = json.loads(capsys.readouterr().out)
    video, audio = data["streams"]
    assert (video["width"], video["height"], video["fps"], video["frames"]) == (360, 288, 25.0, 75)
    assert (audio["sample_rate"], audio["channels"]) == (44100, 1)
    assert data["face"]["found"] == 1.0 and 2.9 < data["duration"] < 3.1


def test_info_text_no_face_and_bad_file(tmp_path, capsys, caplog):
    blank = write_video(tmp_path / "blank.mkv", np.full((5, 64, 64, 3), 80, np.uint8))
    bad = tmp_path / "x.avi"
    bad.write_bytes(b"\x00" * 64)
    assert main(["info", "--face", blank, str(bad)]) == 1
    captured = capsys.readouterr()
    assert "ffv1 64x64 25.000 fps, 5 frames" in captured.out
    assert "face found in 0.0% of frames" in captured.out
    assert "x.avi" in caplog.text
