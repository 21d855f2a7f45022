"""Output writers: names, formats, cue ordering and clipping."""

from __future__ import annotations

import json
import re

from subtitle_times import cue_times

from lipread.pipelines.writers import WRITERS, cues, get_writers
from lipread.types import Segment, Transcript, WordSpan


def make_transcript() -> Transcript:
    words = [WordSpan("bin", 0.2, 0.5), WordSpan("blue", 0.5, 0.8), WordSpan("at", 0.8, 0.9),
             WordSpan("f", 0.9, 1.2), WordSpan("two", 1.2, 1.6), WordSpan("now", 1.6, 3.4)]
    return Transcript("/videos/clip.mp4", duration=3.0, model="m",
                      segments=[Segment(0.0, 3.0, "bin blue at f two now", words)])


def test_all_formats_are_registered_and_named_after_the_input(tmp_path):
    assert WRITERS.list() == ["json", "srt", "txt", "vtt"]
    t = make_transcript()
    paths = [w.write(t) for w in get_writers("all", tmp_path)]
    assert sorted(p.name for p in paths) == ["clip.json", "clip.srt", "clip.txt", "clip.vtt"]
    assert (tmp_path / "clip.txt").read_text() == "bin blue at f two now\n"


def test_json_has_version_and_words(tmp_path):
    data = json.loads(get_writers("json", tmp_path)[0].write(make_transcript()).read_text())
    assert data["version"] == 1 and data["text"] == "bin blue at f two now"
    assert [w["word"] for w in data["segments"][0]["words"]][:2] == ["bin", "blue"]


def test_srt_and_vtt_cues_are_ordered_and_inside_the_duration(tmp_path):
    t = make_transcript()
    srt = get_writers("srt", tmp_path)[0].write(t).read_text()
    vtt = get_writers("vtt", tmp_path)[0].write(t).read_text()
    assert vtt.startswith("WEBVTT")
    assert re.search(r"\d\d\.\d{3} --> ", vtt) and not re.search(r"\d,\d{3} --> ", vtt)
    assert not re.search(r"\d\.\d{3} --> ", srt)
    assert srt.startswith("1\n00:00:00,200 --> ")
    for times in (cue_times(srt), cue_times(vtt)):
        assert times, "no cues parsed"
        for (s, e), nxt in zip(times, times[1:] + [(t.duration, t.duration)]):
            assert 0 <= s < e <= t.duration and e <= nxt[0]
    # the last word ran past the end of the video: clipped to 3.0
    assert cue_times(srt)[-1][1] == 3.0


def test_cues_split_long_lines():
    words = [WordSpan(f"w{i}", i * 0.3, i * 0.3 + 0.2) for i in range(20)]
    t = Transcript("x.mp4", 10.0, [Segment(0, 10, " ".join(w.word for w in words), words)])
    out = cues(t, max_words=7)
    assert [len(text.split()) for _, _, text in out] == [7, 7, 6]
