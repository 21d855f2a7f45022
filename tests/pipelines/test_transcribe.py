"""`lipread transcribe` and the Python API, on real GRID clips.

The machinery (formats, bad files, windows, model loading) is tested with a small untrained model
saved by the test; agreement with `lipread evaluate` uses the zoo model when it is present.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest
from subtitle_times import cue_times

import lipread
from lipread.cli.main import main
from lipread.errors import CheckpointError, NoFaceError
from lipread.models import create_model
from lipread.models.checkpoint import save_model
from lipread.models.zoo import DEFAULT_MODEL, list_zoo
from lipread.pipelines.transcribe import Transcriber, load_model
from lipread.text import Tokenizer

HAS_ZOO = DEFAULT_MODEL in list_zoo()

pytestmark = pytest.mark.grid


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "tiny"
    model = create_model("lipnet_tiny", input_size=[50, 100], in_chans=3)
    meta = {"tokenizer": Tokenizer.from_name("grid").to_dict(),
            "preprocess": {"preset": "lipnet", "gray": False, "clip_seconds": 3.0},
            "decoder": {"name": "greedy"}}
    save_model(path, model, meta)
    return path


def test_cli_writes_every_format_and_goes_on_past_bad_files(tiny_model, grid_clips, tmp_path, caplog, capsys):
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(b"this is not a video" * 100)
    blank = tmp_path / "blank.mkv"
    from lipread.io.writer import write_video

    write_video(blank, np.full((30, 120, 160, 3), 128, np.uint8))
    good = [str(p) for p in grid_clips[:2]]
    out = tmp_path / "out"
    args = ["transcribe", good[0], str(garbage), str(tmp_path / "missing.mp4"), str(blank), good[1],
            "-m", str(tiny_model), "-o", str(out)]
    assert main(args) == 1
    # one `path<TAB>text` line per good video on stdout (printed through tqdm, above its bar)
    printed = [line.split("\t")[0] for line in capsys.readouterr().out.splitlines() if "\t" in line]
    assert printed == good
    for p in good:
        stem = p.rsplit("/", 1)[1].rsplit(".", 1)[0]
        assert sorted(f.name for f in out.glob(f"{stem}.*")) == [f"{stem}.{e}" for e in ("json", "srt", "txt", "vtt")]
        data = json.loads((out / f"{stem}.json").read_text())
        assert data["version"] == 1 and data["duration"] == pytest.approx(3.0, abs=0.05)
        assert data["text"] == (out / f"{stem}.txt").read_text().strip()
        for ext in ("srt", "vtt"):
            times = cue_times((out / f"{stem}.{ext}").read_text())
            assert all(0 <= s < e <= data["duration"] + 1e-6 for s, e in times)
            assert all(a[1] <= b[0] for a, b in zip(times, times[1:]))
    assert "garbage.mp4: not a media file" in caplog.text and "missing.mp4: file not found" in caplog.text
    assert "blank.mkv: no face" in caplog.text and "3 of 5 videos failed" in caplog.text
    assert not list(out.glob("garbage.*")) and not list(out.glob("blank.*"))


def test_python_api_and_no_face_error(tiny_model, grid_clips, tmp_path):
    t = lipread.transcribe(grid_clips[0], model=str(tiny_model))
    assert t.path == str(grid_clips[0]) and len(t.segments) == 1
    assert t.segments[0].start == 0.0 and t.segments[0].end == pytest.approx(3.0, abs=0.05)
    loaded = lipread.load_model(str(tiny_model))
    assert loaded.frontend.preset == "lipnet" and loaded.tokenizer.name == "grid"
    from lipread.io.writer import write_video

    blank = tmp_path / "blank.mkv"
    write_video(blank, np.zeros((20, 100, 100, 3), np.uint8))
    with pytest.raises(NoFaceError):
        lipread.transcribe(blank, model=str(tiny_model))


@pytest.fixture(scope="module")
def long_video(grid_clips, tmp_path_factory):
    """9 s of three GRID clips one after the other, no audio track."""
    from lipread.io.video import read_video
    from lipread.io.writer import write_video

    frames = np.concatenate([read_video(p).frames for p in grid_clips[:3]])
    return Path(write_video(tmp_path_factory.mktemp("long") / "long.mkv", frames))


@pytest.fixture(scope="module")
def long_video_with_sound(grid_clips, tmp_path_factory):
    """The same 9 s with the clips' sound, and a copy whose pauses are cut to 0.2 s around the words."""
    from lipread.data.corpora.grid import parse_align
    from lipread.io.audio import read_audio
    from lipread.io.video import read_video
    from lipread.io.writer import write_video

    folder = tmp_path_factory.mktemp("long_av")
    clips = [(read_video(p).frames, read_audio(p)) for p in grid_clips[:3]]
    whole = write_video(folder / "long.mp4", np.concatenate([f for f, _ in clips]), options={"crf": "18"},
                        audio=np.concatenate([np.pad(a, (0, max(0, 48000 - len(a))))[:48000] for _, a in clips]))
    cut_frames, cut_sound = [], []
    for p, (frames, sound) in zip(grid_clips[:3], clips):
        words = parse_align(Path(p).parents[1] / "alignments" / "s1" / f"{Path(p).stem}.align")
        a, b = max(0, round(words[0].start * 25) - 5), min(len(frames), round(words[-1].end * 25) + 5)
        cut_frames.append(frames[a:b])
        cut_sound.append(np.pad(sound, (0, 48000))[a * 640 : b * 640])
    short = write_video(folder / "short.mp4", np.concatenate(cut_frames), options={"crf": "18"},
                        audio=np.concatenate(cut_sound))
    return Path(whole), Path(short)


@pytest.mark.skipif(not HAS_ZOO, reason=f"zoo model {DEFAULT_MODEL} is not in models/")
def test_long_recording_with_sound_reads_like_its_clips(long_video_with_sound, grid_clips, grid_dir):
    tr = Transcriber(load_model(DEFAULT_MODEL, "cpu"))
    try:
        clips = [tr.transcribe(clip).text for clip in grid_clips[:3]]
        whole, short = (tr.transcribe(p) for p in long_video_with_sound)
    finally:
        tr.close()
    # lips and sound: the pauses of the sound cut the sentences, read as the clips are, also with 0.4-s pauses
    assert whole.modality == short.modality == "av"
    assert [s.text for s in whole.segments] == clips
    assert [s.text for s in short.segments] == clips
    truth = sentence_times(grid_clips[:3], grid_dir)
    for seg, (start, end) in zip(whole.segments, truth):  # word times as on the clips: near the corpus's
        assert abs(seg.words[0].start - start) < 0.12 and abs(seg.words[-1].end - end) < 0.12, (seg, start, end)


def sentence_times(clips, grid_dir) -> list[tuple[float, float]]:
    """(first word start, last word end) of each clip when the clips are played one after the other."""
    from lipread.data.corpora.grid import parse_align

    out, t = [], 0.0
    for clip in clips:
        words = parse_align(grid_dir / "alignments" / "s1" / f"{clip.stem}.align")
        out.append((t + words[0].start, t + words[-1].end))
        t += 3.0
    return out


@pytest.mark.skipif("lipnet-grid-s1" not in list_zoo(), reason="zoo model lipnet-grid-s1 is not in models/")
def test_long_video_is_read_a_sentence_at_a_time(long_video, grid_clips, grid_dir, caplog):
    tr = Transcriber(load_model("lipnet-grid-s1", "cpu"))
    with caplog.at_level(logging.WARNING):
        t = tr.transcribe(long_video)
        clips = [tr.transcribe(clip).text.split() for clip in grid_clips[:3]]
    tr.close()
    assert t.duration == pytest.approx(9.0, abs=0.05)
    assert "truncated" not in caplog.text  # every block is read whole: no false alarm
    # no sound: the mouth's motion finds the three sentences, and each segment holds its sentence's speech
    truth = sentence_times(grid_clips[:3], grid_dir)
    assert len(t.segments) == 3
    for seg, (start, end) in zip(t.segments, truth):
        assert start - 0.8 <= seg.start <= start + 0.25 and end - 0.25 <= seg.end <= end + 0.8, (seg, start, end)
        assert all(seg.start <= w.start <= w.end <= seg.end for w in seg.words)
    assert all(a.end <= b.start for a, b in zip(t.segments, t.segments[1:]))
    # read like the clips: a sentence in its window reads (nearly) as the clip alone does
    same = sum(a == b for seg, clip in zip(t.segments, clips) for a, b in zip(seg.text.split(), clip))
    assert same >= 16, ([s.text for s in t.segments], clips)


def test_truncated_long_video_warns_and_keeps_what_was_read(tiny_model, long_video, tmp_path, caplog):
    data = long_video.read_bytes()
    cut = tmp_path / "cut.mkv"
    cut.write_bytes(data[: len(data) // 2])  # the container still claims 9 s
    tr = Transcriber(load_model(str(tiny_model)))
    with caplog.at_level(logging.WARNING):
        t = tr.transcribe(cut)
    tr.close()
    assert "truncated or damaged" in caplog.text
    assert 1 <= len(t.segments) < 3 and t.segments[0].end < 3.0


def test_loading_refuses_what_is_not_a_lipread_model(tmp_path):
    with pytest.raises(CheckpointError, match="not found|no such"):
        load_model(tmp_path / "nothing-here")
    folder = tmp_path / "pickled"
    folder.mkdir()
    import pickle

    (folder / "model.pt").write_bytes(pickle.dumps({"weights": [1, 2, 3]}))
    with pytest.raises(CheckpointError, match="config.json"):
        load_model(folder)
    (folder / "config.json").write_text('{"format": "something-else"}')
    with pytest.raises(CheckpointError, match="not a lipread model"):
        load_model(folder)


@pytest.mark.slow
@pytest.mark.parametrize("name", [DEFAULT_MODEL, "lipnet-grid-s1"])
def test_transcribe_text_equals_evaluate_with_the_zoo_models(name, request):
    """The default (WLAS: lips + sound for a file with sound) and the LipNet: one model, one number."""
    from lipread.data import PreparedDataset
    from lipread.pipelines.evaluate import evaluate

    if name not in list_zoo():
        pytest.skip(f"zoo model {name} is not in models/")
    loaded = load_model(name)
    cache = request.getfixturevalue("grid_av_cache" if name == DEFAULT_MODEL else "grid_cache")
    # no decoder given: evaluate uses the one stored with the model, as transcribe does (one model, one number)
    result = evaluate(name, str(cache), split="all")
    assert result.decode == loaded.decode_options()
    assert result.condition.get("modality", "video") == ("av" if name == DEFAULT_MODEL else "video")
    dataset = PreparedDataset(cache)
    tr = Transcriber(loaded)
    try:
        for info in dataset.clips:
            t = tr.transcribe(info.source)
            assert t.text == result.hypotheses[info.id], info.id
            assert t.modality == result.condition.get("modality", "video")
    finally:
        tr.close()


@pytest.fixture(scope="module")
def slides_with_sound(grid_clips, tmp_path_factory):
    """A grey slide (no face) with the sound of one GRID clip (3 s) and of three clips (9 s)."""
    from lipread.io.audio import read_audio
    from lipread.io.writer import write_video

    folder = tmp_path_factory.mktemp("slides")
    slide = np.full((120, 160, 3), 128, np.uint8)
    slide[50:70, 20:140] = 30  # a bar of "text"
    out = []
    for n in (1, 3):
        sound = np.concatenate([read_audio(p) for p in grid_clips[:n]])
        frames = np.repeat(slide[None], int(len(sound) / 640), axis=0)
        out.append(Path(write_video(folder / f"slide{n}.mp4", frames, audio=sound)))
    return out


@pytest.mark.skipif(not HAS_ZOO, reason=f"zoo model {DEFAULT_MODEL} is not in models/")
def test_no_face_but_sound_reads_the_sound_alone(slides_with_sound, grid_clips, caplog):
    tr = Transcriber(load_model(DEFAULT_MODEL, "cpu"))
    heard = Transcriber(tr.loaded, modality="audio")
    try:
        with caplog.at_level(logging.WARNING):
            short, long = (tr.transcribe(p) for p in slides_with_sound)
        clips = [heard.transcribe(clip).text for clip in grid_clips[:3]]
    finally:
        tr.close()
        heard.close()
    assert short.modality == long.modality == "audio"
    assert short.text == clips[0]  # the same reading as the clip's own sound
    assert [s.text for s in long.segments] == clips  # a sentence at a time, cut at the pauses of the sound
    assert any("no face" in w and "sound alone" in w for w in short.warnings + long.warnings)
    assert "reading the sound alone" in caplog.text
    # asked for the lips, it is the clear no-face error it always was; the CLI exits 1
    with pytest.raises(NoFaceError):
        lipread.transcribe(slides_with_sound[0], modality="av", device="cpu")
    assert main(["transcribe", str(slides_with_sound[0]), "--modality", "video", "-f", "txt", "-o",
                 str(slides_with_sound[0].parent / "out")]) == 1


def test_a_lips_only_model_still_needs_a_face(tiny_model, slides_with_sound):
    with pytest.raises(NoFaceError):
        lipread.transcribe(slides_with_sound[0], model=str(tiny_model))


@pytest.mark.skipif(not HAS_ZOO, reason=f"zoo model {DEFAULT_MODEL} is not in models/")
def test_a_face_too_small_to_read_with_sound_reads_the_sound(grid_clips):
    from lipread.errors import FaceTooSmallError

    loaded = load_model(DEFAULT_MODEL, "cpu")
    for modality in ("auto", "video"):
        tr = Transcriber(loaded, modality=modality)
        tr.frontend.config.min_face_width = 1000  # GRID's face (~140 px) counts as too small here
        try:
            if modality == "video":
                with pytest.raises(FaceTooSmallError, match="1000 px"):
                    tr.transcribe(grid_clips[0])
                continue
            t = tr.transcribe(grid_clips[0])
        finally:
            tr.close()
        assert t.modality == "audio" and t.text
        assert any("the face is too small" in w for w in t.warnings)


@pytest.mark.skipif(not HAS_ZOO, reason=f"zoo model {DEFAULT_MODEL} is not in models/")
def test_a_muted_sound_track_is_read_as_no_sound(long_video, grid_clips, tmp_path):
    """A muted phone video keeps a silent audio track: auto reads the lips (as without a track), and a long
    one is cut at the mouth's pauses. The recording with no sound track reads (nearly) as its clips do."""
    from lipread.io.video import read_video
    from lipread.io.writer import write_video

    frames = read_video(long_video).frames
    muted_long = write_video(tmp_path / "muted_long.mkv", frames, audio=np.zeros(len(frames) * 640, np.float32))
    muted = write_video(tmp_path / "muted.mkv", frames[:75], audio=np.zeros(75 * 640, np.float32))
    loaded = load_model(DEFAULT_MODEL, "cpu")
    tr, lips = Transcriber(loaded), Transcriber(loaded, modality="video")
    try:
        silent = [tr.transcribe(p) for p in (muted, muted_long)]
        plain = tr.transcribe(long_video)
        lips_only = lips.transcribe(muted).text
        clips = [lips.transcribe(clip).text.split() for clip in grid_clips[:3]]
    finally:
        tr.close()
        lips.close()
    assert silent[0].text == lips_only
    for t in silent:
        assert t.modality == "video"
        assert "the sound track is silent: read from the lips alone" in t.warnings
    assert [s.text for s in silent[1].segments] == [s.text for s in plain.segments]
    assert len(silent[1].segments) == 3
    same = sum(a == b for seg, clip in zip(plain.segments, clips) for a, b in zip(seg.text.split(), clip))
    assert plain.modality == "video" and same >= 16, ([s.text for s in plain.segments], clips)  # of 18 words


def test_a_clip_is_opened_once_to_probe_once_for_its_frames_once_for_its_sound(grid_clips, monkeypatch):
    """Issue 27: one probe, one video decode, one audio decode per short file (the front end is told what the
    probe found, so it does not open the file again to ask whether it has sound)."""
    import av

    from lipread.pipelines.transcribe import Transcriber

    opened: list[str] = []
    real = av.open

    def counting(path, *args, **kwargs):
        opened.append(str(path))
        return real(path, *args, **kwargs)

    transcriber = Transcriber("wlas-grid-s1")
    try:
        monkeypatch.setattr(av, "open", counting)
        result = transcriber.transcribe(grid_clips[0])
    finally:
        transcriber.close()
    assert result.modality == "av" and result.text
    assert opened == [str(grid_clips[0])] * 3, opened


def test_the_direction_check_samples_a_long_files_windows():
    """The first four windows, then every fifth: a long recording pays for about a fifth of its windows."""
    from lipread.pipelines.transcribe import direction_sampled

    picked = [i for i in range(40) if direction_sampled(i)]
    assert picked[:4] == [0, 1, 2, 3] and picked[4:] == [8, 13, 18, 23, 28, 33, 38]
