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


def test_json_and_subtitles_share_one_segmentation(tmp_path):
    """Overlapping windows, float noise and a segment past the end: JSON segments (with ids) are the
    SRT/VTT cues, one each, same times, rounded to ms, ordered, not overlapping, inside the duration."""
    w1 = [WordSpan("bin", 0.1, 0.4400000000000004), WordSpan("blue", 0.44, 2.6)]
    w2 = [WordSpan("at", 2.4400000000000004, 2.7), WordSpan("f", 2.7, 3.1)]
    long = [WordSpan(f"w{i}", 3.0 + i * 0.1, 3.05 + i * 0.1) for i in range(9)]
    t = Transcript("/v/clip.mp4", duration=3.9812, model="m", segments=[
        Segment(0.0, 3.0, "bin blue", w1), Segment(2.5, 3.0000000001, "at f", w2), Segment(2.9, 4.2, "", []),
        Segment(3.0, 4.2, " ".join(w.word for w in long), long), Segment(3.9, 5.0, "no word times", [])])
    data = json.loads(get_writers("json", tmp_path)[0].write(t).read_text())
    segs = data["segments"]
    assert [s["id"] for s in segs] == list(range(len(segs)))
    assert data["duration"] == 3.981
    for s in segs:
        assert all(len(f"{x}".split(".")[-1]) <= 3 for x in (s["start"], s["end"])), s
        assert 0 <= s["start"] < s["end"] <= data["duration"]
        assert all(s["start"] <= w["start"] <= w["end"] <= s["end"] for w in s["words"])
    assert all(a["end"] <= b["start"] for a, b in zip(segs, segs[1:]))
    assert [len(s["text"].split()) for s in segs if s["words"]] == [2, 2, 7, 2]  # 9 words: a line of 7, then 2
    assert segs[-1]["text"] == "no word times"
    for ext in ("srt", "vtt"):
        times = cue_times(get_writers(ext, tmp_path)[0].write(t).read_text())
        assert len(times) == len(segs)
        assert all(abs(a - b) < 1e-9 for c, s in zip(times, segs) for a, b in zip(c, (s["start"], s["end"])))


def test_extra_fields_of_words_are_kept(tmp_path):
    """Word and segment dataclasses may grow fields (e.g. confidence): the JSON writer passes them on."""
    from dataclasses import dataclass

    @dataclass
    class ScoredWord(WordSpan):
        confidence: float = 0.0

    t = Transcript("c.mp4", 2.0, [Segment(0.0, 2.0, "bin", [ScoredWord("bin", 0.5, 1.0, 0.9)])])
    data = json.loads(get_writers("json", tmp_path)[0].write(t).read_text())
    assert data["segments"][0]["words"] == [{"word": "bin", "start": 0.5, "end": 1.0, "confidence": 0.9}]


def test_json_carries_confidences_and_warnings(tmp_path):
    words = [WordSpan("bin", 0.2, 0.5, 0.9), WordSpan("blue", 0.5, 0.8, 0.5), WordSpan("at", 0.8, 0.9, None)]
    t = Transcript("c.mp4", 3.0, [Segment(0.0, 3.0, "bin blue at", words)], model="m",
                   warnings=["the mouth barely moves: motion 0.01, training clips 0.97-3.88"])
    data = json.loads(get_writers("json", tmp_path)[0].write(t).read_text())
    assert data["confidence"] == 0.7 and data["segments"][0]["confidence"] == 0.7  # mean of the known ones
    assert [w["confidence"] for w in data["segments"][0]["words"]] == [0.9, 0.5, None]
    assert data["warnings"] == t.warnings
    plain = Transcript("d.mp4", 1.0, [Segment(0.0, 1.0, "bin", [WordSpan("bin", 0.1, 0.4)])])
    data = json.loads(get_writers("json", tmp_path)[0].write(plain).read_text())
    assert data["confidence"] is None and data["warnings"] == []
