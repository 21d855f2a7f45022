"""Several faces on the real GRID clips: the face heard is the face read; --face overrides; the sound's offset."""

from __future__ import annotations

import numpy as np
import pytest

from lipread.cli.main import main
from lipread.frontend import FrontEnd, FrontEndConfig
from lipread.io.audio import read_audio
from lipread.io.video import read_video
from lipread.models.zoo import list_zoo

N_FRAMES = 50


def write_av(path, frames: np.ndarray, audio: np.ndarray | None):
    """An H.264 mp4 of ``frames`` (T, H, W, 3) with 16 kHz mono AAC ``audio`` cut to their length (or none)."""
    from lipread.io.writer import write_video

    if audio is not None:
        audio = np.pad(audio, (0, max(0, len(frames) * 640 - len(audio))))[: len(frames) * 640]
    return write_video(path, frames, options={"crf": "18", "preset": "ultrafast"}, audio=audio)


@pytest.fixture(scope="module")
def two_faces(grid_clips, tmp_path_factory):
    """50-frame videos of two GRID clips side by side (720x288): with the left clip's sound, the right's,
    and none; the clips start with the speaker's face visible (mediapipe sees both in the first frame)."""
    left, right = grid_clips[0], grid_clips[7]
    lv, rv = read_video(left).frames[:N_FRAMES], read_video(right).frames[:N_FRAMES]
    frames = np.concatenate([lv, rv], axis=2)
    d = tmp_path_factory.mktemp("two_faces")
    return {"left": write_av(d / "left.mp4", frames, read_audio(left)),
            "right": write_av(d / "right.mp4", frames, read_audio(right)),
            "silent": write_av(d / "silent.mp4", frames, None)}


@pytest.fixture(scope="module")
def front():
    fe = FrontEnd(FrontEndConfig(audio=True))
    yield fe
    fe.close()


@pytest.mark.grid
@pytest.mark.parametrize("heard,face", [("left", 0), ("right", 1)])
def test_the_face_heard_is_the_face_read(two_faces, front, heard, face):
    r = front.process(two_faces[heard])
    assert [f["id"] for f in r.faces] == [0, 1]
    assert r.faces[0]["box"][0] < 360 <= r.faces[1]["box"][0]  # numbered left to right
    assert (r.face == face).all() and r.valid.all()
    assert [(c["face"], c["start"], c["end"]) for c in r.face_choice] == [(face, 0.0, 2.0)]
    assert r.face_choice[0]["reason"].startswith("sync with sound")
    lips_x = r.landmarks[:, front.geometry.lips, 0]
    assert ((lips_x >= 360) == bool(face)).all()  # the crops follow the heard face's mouth
    assert r.mouth.shape == (N_FRAMES, 50, 100, 3) and r.audio_features.shape[0] == 4 * N_FRAMES
    assert r.av_offset is not None and abs(r.av_offset) < 0.08


@pytest.mark.grid
def test_face_override_and_largest(two_faces):
    fe = FrontEnd(FrontEndConfig())
    for face, want, reason in (("0", 0, "--face 0"), ("1", 1, "--face 1"), ("largest", None, "largest")):
        fe.config.face = face
        r = fe.process(two_faces["right"])
        assert [c["reason"] for c in r.face_choice] == [reason]
        if want is not None:
            assert (r.face == want).all()
        assert r.av_offset is None  # no sound read for an override
    fe.close()


@pytest.mark.grid
def test_silent_two_faces_read_the_moving_mouth(grid_clips, tmp_path):
    frames = read_video(grid_clips[0]).frames[:N_FRAMES]
    still = np.repeat(frames[:1], N_FRAMES, axis=0)
    fe = FrontEnd(FrontEndConfig())
    for order, want in (((frames, still), 0), ((still, frames), 1)):
        r = fe.process(write_av(tmp_path / f"still{want}.mp4", np.concatenate(order, axis=2), None))
        assert (r.face == want).all() and "no sound" in r.face_choice[0]["reason"]
    fe.close()


@pytest.mark.grid
@pytest.mark.parametrize("shift", [0.2, -0.2])
def test_offset_estimate_of_shifted_sound(grid_clips, tmp_path, front, shift):
    clip = grid_clips[3]
    audio = read_audio(clip)
    k = int(round(abs(shift) * 16000))
    audio = np.r_[np.zeros(k, np.float32), audio] if shift > 0 else audio[k:]
    r = front.process(write_av(tmp_path / "shifted.mp4", read_video(clip).frames, audio))
    assert len(r.faces) == 1 and r.face_choice[0]["reason"] == "only face"
    assert abs(r.av_offset - shift) <= 0.08 and r.av_offset_corr >= 0.3
    assert not r.av_offset_applied  # reported, not corrected, by default


@pytest.mark.grid
def test_cli_face_option(two_faces, tmp_path):
    out = tmp_path / "out"
    assert main(["crop", str(two_faces["left"]), "-o", str(out), "--face", "1"]) == 0
    data = np.load(out / "left.npz")
    assert (data["face"] == 1).all() and '"--face 1"' in str(data["face_choice_json"])


@pytest.mark.parametrize("command", ["transcribe", "crop"])
@pytest.mark.parametrize("value", ["left", "-1", "1.5"])
def test_bad_face_value_exits_2(tmp_path, command, value):
    assert main([command, str(tmp_path / "missing.mp4"), "--face", value, "-o", str(tmp_path)]) == 2


@pytest.mark.grid
@pytest.mark.skipif("wlas-grid-s1" not in list_zoo(), reason="zoo model wlas-grid-s1 is not in models/")
def test_the_transcript_says_which_face_was_read(two_faces, tmp_path):
    import json

    import lipread
    from lipread.pipelines.writers import get_writers

    for heard, face in (("left", 0), ("right", 1)):
        t = lipread.transcribe(two_faces[heard], device="cpu")
        assert t.modality == "av" and [f["id"] for f in t.faces] == [0, 1]
        seg = t.segments[0]
        assert seg.face["id"] == face and seg.face["reason"].startswith("sync with sound")
        assert seg.face["box"] == list(t.faces[face]["box"])
        assert t.av_offset is not None and abs(t.av_offset) < 0.08
        data = json.loads(get_writers("json", tmp_path / heard)[0].write(t).read_text())
        assert data["segments"][0]["face"]["id"] == face and len(data["faces"]) == 2
        assert data["av_offset"] == t.av_offset
