"""Issue 25: what worked before on files filmed the way people film still works. One real GRID clip made into
a portrait phone video with rotation metadata, a 60-fps video, one with 8 kHz phone sound, a mirrored one, MKV and
WebM files, a dark one and a still photo with the sound, each read by the default model as a user would
(``lipread.transcribe`` defaults: lips and sound), against the same clip read as it is."""

from __future__ import annotations

import numpy as np
import pytest

from lipread.models.zoo import DEFAULT_MODEL, list_zoo

pytestmark = [pytest.mark.grid,
              pytest.mark.skipif(DEFAULT_MODEL not in list_zoo(), reason=f"zoo model {DEFAULT_MODEL} is not in models/")]


@pytest.fixture(scope="module")
def reader():
    from lipread.pipelines.transcribe import Transcriber, load_model

    tr = Transcriber(load_model(DEFAULT_MODEL, "cpu"))
    yield tr
    tr.close()


@pytest.fixture(scope="module")
def source(grid_clips, reader):
    """The clip's frames, its sound (16 kHz) and its reading as it is."""
    from lipread.io.audio import read_audio
    from lipread.io.video import read_video

    clip = grid_clips[0]
    return read_video(clip).frames, read_audio(clip), reader.transcribe(clip)


def resample(sound: np.ndarray, rate: int) -> np.ndarray:
    """16 kHz -> ``rate`` (linear interpolation after a moving-average low-pass: a phone line, roughly)."""
    smooth = np.convolve(sound, np.ones(3) / 3, mode="same")
    t = np.arange(int(len(sound) * rate / 16000)) * 16000 / rate
    return np.interp(t, np.arange(len(sound)), smooth).astype(np.float32)


def portrait(frames: np.ndarray) -> np.ndarray:
    """The frames on a 288x480 upright canvas (a phone held upright), stored turned a quarter clockwise as phones
    store them; the rotation metadata (90) turns them back for display."""
    canvas = np.full((len(frames), 480, 360, 3), 40, np.uint8)
    canvas[:, 96:384] = frames
    return np.ascontiguousarray(np.rot90(canvas, k=-1, axes=(1, 2)))


def test_rotation_60fps_phone_sound_mirror_and_containers_read_as_the_clip(source, reader, tmp_path):
    from lipread.io.writer import write_video

    frames, sound, clip = source
    at60 = frames[(np.arange(180) * 25 // 60)]  # each frame held for 2.4 slots: 3 s at 60 fps
    phone_rate = 8000
    files = {
        "portrait": write_video(tmp_path / "portrait.mp4", portrait(frames), rotation=90, audio=sound),
        "60fps": write_video(tmp_path / "60fps.mp4", at60, fps=60, audio=sound),
        "phone_sound": write_video(tmp_path / "phone.mp4", frames, audio=resample(sound, phone_rate),
                                   sample_rate=phone_rate),
        "mirrored": write_video(tmp_path / "mirrored.mp4", np.ascontiguousarray(frames[:, :, ::-1]), audio=sound),
        "mkv": write_video(tmp_path / "clip.mkv", frames, audio=sound),
        "webm": write_video(tmp_path / "clip.webm", frames, audio=sound),
    }
    read = {name: reader.transcribe(path) for name, path in files.items()}
    for name, t in read.items():
        assert t.modality == "av", name
        assert t.duration == pytest.approx(3.0, abs=0.1), name
        assert t.text == clip.text, (name, t.text, clip.text)
        assert not t.warnings, (name, t.warnings)  # the training speaker: mirrored or over a phone line too


def test_a_dark_clip_is_read_and_warned(source, reader, tmp_path):
    from lipread.io.writer import write_video

    frames, sound, clip = source
    dark = write_video(tmp_path / "dark.mp4", (frames * 0.2).astype(np.uint8), audio=sound)
    t = reader.transcribe(dark)
    assert t.text == clip.text  # the sound carries it
    assert any("darker than in training" in w for w in t.warnings), t.warnings


def test_a_still_photo_with_speech_reads_the_sound_and_is_warned(source, reader, tmp_path):
    from lipread.io.writer import write_video

    frames, sound, clip = source
    still = write_video(tmp_path / "still.mp4", np.repeat(frames[:1], len(frames), axis=0), audio=sound)
    t = reader.transcribe(still)
    assert t.text == clip.text
    assert any("a still image" in w for w in t.warnings), t.warnings
