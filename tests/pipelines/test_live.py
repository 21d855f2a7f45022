"""`lipread live` (issue 28): real GRID clips as files, paced and not, with and without sound, interrupted."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from lipread.metrics import score


@pytest.fixture(scope="module")
def three(grid_clips, tmp_path_factory):
    """A 9-s recording of three GRID sentences back to back (with sound), its silent copy, and the texts."""
    from lipread.io.audio import read_audio
    from lipread.io.video import read_video
    from lipread.io.writer import write_video

    folder = tmp_path_factory.mktemp("live")
    clips = grid_clips[:3]
    frames = np.concatenate([read_video(c).frames for c in clips])
    sound = np.concatenate([read_audio(c)[: 75 * 640] for c in clips])
    with_sound = write_video(folder / "three.mp4", frames, 25.0, audio=sound)
    silent = write_video(folder / "three_silent.mp4", frames, 25.0)
    texts = [grid_text(c) for c in clips]
    return {"sound": with_sound, "silent": silent, "texts": texts, "folder": folder}


def grid_text(clip) -> str:
    from lipread.data import read_corpus

    entries = read_corpus("grid", clip.parent.parent, val_fraction=0.0, seed=0)
    return next(e.record.text for e in entries if os.path.samefile(e.record.video, clip))


def run_cli(args, **kw):
    return subprocess.run([sys.executable, "-m", "lipread", *args], capture_output=True, text=True, timeout=600, **kw)


def test_a_file_is_read_an_utterance_at_a_time(three):
    import lipread

    model = lipread.load_model("wlas-grid-s1")
    said = list(lipread.stream(three["sound"], model))
    assert len(said) == 3, [u.text for u in said]
    assert score([" ".join(three["texts"])], [" ".join(u.text for u in said)]).wer <= 0.06
    for u, (lo, hi) in zip(said, [(0, 3), (3, 6), (6, 9)]):
        assert u.modality == "av" and lo - 0.1 <= u.start < u.end <= hi + 0.1
        assert u.words and all(lo - 0.1 <= w.start <= w.end <= hi + 0.1 for w in u.words)
        assert 0.0 < u.confidence <= 1.0 and u.latency is None  # not paced: no latency
    offline = model.transcribe(three["sound"])
    assert score([offline.text], [" ".join(u.text for u in said)]).wer <= 0.06


@pytest.fixture(scope="module")
def late_last_word(grid_dir, grid_clips, tmp_path_factory):
    """A GRID sentence with 0.6 s of stillness and room tone (its own lead-in) before its last word (as when a speaker pauses
    before "please"): the pause ends an utterance, and the last word, short, joins it again."""
    from lipread.data.corpora.grid import parse_align
    from lipread.io.audio import read_audio
    from lipread.io.video import read_video
    from lipread.io.writer import write_video

    clip = grid_clips[0]
    words = parse_align(next(grid_dir.rglob(f"{clip.stem}.align")))
    frames, sound = read_video(clip).frames, read_audio(clip)[: 75 * 640]
    cut = int(round((words[-2].end + words[-1].start) / 2 * 25))  # between the last two words
    gap = 15
    frames = np.concatenate([frames[:cut], np.repeat(frames[cut - 1 : cut], gap, 0), frames[cut:]])
    sound = np.concatenate([sound[: cut * 640], sound[: gap * 640], sound[cut * 640 :]])
    path = write_video(tmp_path_factory.mktemp("late") / "late.mp4", frames, 25.0, audio=sound)
    return path, grid_text(clip)


def test_an_utterance_is_read_at_its_pause_and_revised_when_its_last_word_joins(late_last_word):
    from lipread.pipelines.live import LiveReader

    path, text = late_last_word
    reader = LiveReader("wlas-grid-s1")
    try:
        said = list(reader.stream(path))
        waited = list(LiveReader(reader.loaded, wait=True).stream(path))
    finally:
        reader.close()
    # read at the pause without its last word, then once more, whole, with the same id, marked revised
    assert len(said) == 2 and [u.id for u in said] == [0, 0], [(u.id, u.text) for u in said]
    first, whole = said
    assert not first.revised and whole.revised
    # (the first reading's window may show the last word too, as context; the model then times it too early,
    # as the file reader does across such a pause)
    assert len(whole.text.split()) == 6 and score([text], [whole.text]).wer <= 1 / 6
    # --wait: one line, the whole sentence, never revised
    assert len(waited) == 1 and not waited[0].revised and waited[0].text == whole.text


def test_a_source_with_no_sound_reads_the_lips(three):
    from lipread.face.backends import SplitBackend
    from lipread.pipelines.live import LiveReader

    reader = LiveReader("wlas-grid-s1")
    try:
        said = list(reader.stream(three["silent"]))
        assert not isinstance(reader.transcriber.frontend.backend, SplitBackend)  # one tracker live
    finally:
        reader.close()
    assert said and all(u.modality == "video" for u in said)
    final = list({u.id: u for u in said}.values())  # a revision replaces the utterance with its id
    assert [u.id for u in final] == list(range(len(final)))
    # without sound the pauses come from the mouth: three sentences, read about as well as offline
    assert 2 <= len(final) <= 4, [u.text for u in said]
    assert score([" ".join(three["texts"])], [" ".join(u.text for u in final)]).wer <= 0.35


def test_cli_json_paced_with_subtitles(three, tmp_path):
    """--realtime: a 9-s file takes about 9 s; the lines are ready, the utterances (with their latency), and
    the end; -o writes subtitles."""
    t0 = time.monotonic()
    r = run_cli(["live", str(three["sound"]), "--realtime", "--json", "-o", str(tmp_path / "subs")])
    wall = time.monotonic() - t0
    assert r.returncode == 0, r.stderr
    lines = [json.loads(x) for x in r.stdout.splitlines()]
    assert lines[0] == {"event": "ready"} and lines[-1]["event"] == "end"
    assert lines[-1]["reason"] == "end of source" and lines[-1]["frames"] == 225
    utts = [x for x in lines if x["event"] == "utterance"]
    assert [u["id"] for u in utts if not u.get("revised")] == [0, 1, 2] and lines[-1]["utterances"] == 3
    for u in utts:
        assert set(u) >= {"id", "text", "start", "end", "words", "confidence", "warnings", "modality", "latency"}
        assert u["latency"] is not None and u["latency"] < 5.0
    assert wall >= 9.0
    srt = (tmp_path / "subs" / "live.srt").read_text()
    assert utts[0]["words"][0]["word"] in srt and (tmp_path / "subs" / "live.vtt").exists()


def test_cli_plain_lines(three):
    r = run_cli(["-q", "live", str(three["silent"])])
    assert r.returncode == 0, r.stderr
    lines = [line for line in r.stdout.splitlines() if "(revised)" not in line]
    assert 2 <= len(lines) <= 4 and all(line.startswith("[") and "]" in line for line in lines)


def test_a_source_that_cannot_be_opened(tmp_path):
    r = run_cli(["live", str(tmp_path / "missing.mp4"), "--json"])
    assert r.returncode == 1 and r.stdout == ""
    errors = [x for x in r.stderr.splitlines() if x.startswith("lipread: error")]
    assert len(errors) == 1 and "missing.mp4" in errors[0] and "file not found" in errors[0]
    text = tmp_path / "notes.mp4"
    text.write_text("not a video\n" * 100)
    r = run_cli(["live", str(text)])
    assert r.returncode == 1 and "notes.mp4" in r.stderr and "cannot open" in r.stderr
    r = run_cli(["live", "rtsp://127.0.0.1:9/none"])
    assert r.returncode == 1 and "cannot open rtsp://127.0.0.1:9/none" in r.stderr


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process is POSIX")
def test_ctrl_c_ends_cleanly_after_printing_what_it_has(three):
    proc = subprocess.Popen([sys.executable, "-m", "lipread", "live", str(three["sound"]), "--realtime", "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = json.loads(proc.stdout.readline())
    assert first == {"event": "ready"}
    time.sleep(4.5)  # the first sentence (0-3 s) has ended; the second is being spoken
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    lines = [json.loads(x) for x in out.splitlines()]
    assert lines[-1]["event"] == "end" and lines[-1]["reason"] == "interrupted"
    utts = [x for x in lines if x["event"] == "utterance"]
    assert 1 <= len(utts) <= 2 and utts[0]["text"]
    assert lines[-1]["frames"] < 225 and "Traceback" not in err


def test_a_stream_on_stdin(three, tmp_path):
    """MPEG-TS through a pipe reads; a plain MP4 through a pipe (it needs seeking) fails with one line."""
    import av

    ts = tmp_path / "three.ts"
    src, dst = av.open(str(three["sound"])), av.open(str(ts), "w", format="mpegts")
    streams = {s.index: dst.add_stream_from_template(s) for s in src.streams}
    for packet in src.demux():
        if packet.dts is not None:
            packet.stream = streams[packet.stream.index]
            dst.mux(packet)
    dst.close()
    src.close()
    def piped(data: bytes, *args):  # through a pipe, which cannot seek
        return subprocess.run([sys.executable, "-m", "lipread", *args, "live", "-"], input=data, capture_output=True,
                              timeout=600)

    r = piped(ts.read_bytes(), "-q")
    assert r.returncode == 0, r.stderr
    assert len(r.stdout.decode().splitlines()) == 3
    r = piped(Path(three["sound"]).read_bytes())
    err = r.stderr.decode()
    assert r.returncode == 1 and "standard input" in err and "MPEG-TS" in err, err


def test_a_paced_source_skips_frames_the_reader_does_not_take(three):
    """A reader that stalls does not make the source queue without bound: frames are dropped and counted."""
    from lipread.pipelines.live import Source

    src = Source(three["silent"], realtime=True, queue_seconds=0.4).start()
    time.sleep(3.0)  # nobody reads: the queue (10 frames) fills in 0.4 s, the rest is dropped
    assert src.queue.qsize() <= src.queue.maxsize == 10
    items = []
    while True:
        item = src.queue.get(timeout=10)
        if item[0] == "end":
            break
        items.append(item)
    src.stop()
    slots = [i[1] for i in items if i[0] == "video"]
    assert src.dropped > 30 and src.frames == 225 and len(slots) == 225 - src.dropped
    assert slots == sorted(slots) and slots[-1] == 224
