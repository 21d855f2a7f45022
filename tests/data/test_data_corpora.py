"""Corpus readers on tiny trees written in the corpora's formats."""

from __future__ import annotations

import json

import pytest
from trees import make_grid, make_lrs2, make_lrs3, write_align

from lipread.data.corpora import read_corpus
from lipread.data.corpora.grid import parse_align, transcript_from_name
from lipread.data.corpora.lrs import parse_lrs_transcript, segment_words
from lipread.errors import ConfigError, DataError, InputFileError
from lipread.types import WordSpan


@pytest.mark.parametrize(
    "code, text",
    [
        ("bbaf2n", "bin blue at f two now"),
        ("lgbzza", "lay green by z zero again"),
        ("prik9p", "place red in k nine please"),
        ("swwa1s", "set white with a one soon"),
    ],
)
def test_grid_transcript_from_name(code, text):
    assert transcript_from_name(code) == text


@pytest.mark.parametrize("bad", ["xbaf2n", "bbaf2", "bbaf2nn", "bxaf2n", "bbaf-n"])
def test_grid_bad_name_is_a_data_error(bad):
    with pytest.raises(DataError):
        transcript_from_name(bad)


def test_parse_align_drops_silence_and_converts_ticks(tmp_path):
    path = tmp_path / "x.align"
    write_align(path, "bin blue at f two now")
    words = parse_align(path)
    assert [w.word for w in words] == "bin blue at f two now".split()
    assert words[0] == WordSpan("bin", 0.4, 0.6)  # 10000 / 25000 s, 15000 / 25000 s
    assert words[1].start == pytest.approx(0.64)  # after the 1000-tick sp


def test_grid_reader_with_and_without_alignments(tmp_path):
    ids = make_grid(tmp_path, {"s1": 5, "s2": 4}, aligned={"s1"})
    entries = read_corpus("grid", tmp_path, val_fraction=0.0)
    assert [e.record.id for e in entries] == sorted(ids)
    by_id = {e.record.id: e.record for e in entries}
    for clip_id, rec in by_id.items():
        speaker, code = clip_id.split("/")
        assert rec.speaker == speaker and rec.video.endswith(f"{speaker}/{code}.mpg")
        assert rec.text == transcript_from_name(code)
        assert (rec.words is not None) == (speaker == "s1")
    assert all(e.split == "train" and not e.error for e in entries)


def test_grid_alignment_wins_over_name_and_bad_names_become_errors(tmp_path):
    make_grid(tmp_path, {"s1": 2}, aligned={"s1"})
    write_align(tmp_path / "alignments/s1/bbaf1a.align", "bin blue at f one again")  # no video: ignored
    (tmp_path / "s1" / "notgrid.mp4").write_bytes(b"")
    entries = {e.record.id: e for e in read_corpus("grid", tmp_path, val_fraction=0.0)}
    assert set(entries) == {"s1/bbafza", "s1/bbafzn", "s1/notgrid"}
    assert entries["s1/notgrid"].error and "not a GRID sentence" in entries["s1/notgrid"].error
    assert entries["s1/bbafza"].record.words[0].word == "bin"


def test_grid_flat_folder_and_mp4_preferred(tmp_path):
    flat = tmp_path / "videos"
    make_grid(flat, {"x": 3})  # folder "x" is not a speaker folder
    for p in (flat / "x").glob("*.mpg"):
        p.with_suffix(".mp4").write_bytes(b"")
    entries = read_corpus("grid", flat / "x", val_fraction=0.0)
    assert [e.record.id for e in entries] == ["bbafza", "bbafzn", "bbafzp"]
    assert all(e.record.video.endswith(".mp4") and e.record.speaker == "" for e in entries)


def test_grid_missing_or_empty_root(tmp_path):
    with pytest.raises(InputFileError):
        read_corpus("grid", tmp_path / "nope")
    with pytest.raises(DataError):
        read_corpus("grid", tmp_path)
    with pytest.raises(ConfigError, match="no option"):
        read_corpus("grid", tmp_path, subsets="main")


def test_lrs_transcript_headers_and_word_table(tmp_path):
    path = tmp_path / "00001.txt"
    path.write_text("Text:  HELLO   THERE\nConf:  4\nRef:   x\n\nWORD START END ASDSCORE\nHELLO 0.10 0.40 2.1\nTHERE 0.45 0.90 3.0\n")
    tr = parse_lrs_transcript(path)
    assert tr.text == "HELLO THERE" and tr.headers["conf"] == "4" and tr.headers["ref"] == "x"
    assert tr.words == [WordSpan("HELLO", 0.1, 0.4), WordSpan("THERE", 0.45, 0.9)]
    path.write_text("Conf: 3\n")
    with pytest.raises(DataError, match="Text"):
        parse_lrs_transcript(path)


def test_segment_words_respects_max_seconds():
    words = [WordSpan(str(k), k * 0.5, k * 0.5 + 0.4) for k in range(10)]
    segments = segment_words(words, 2.0)
    assert [w for seg in segments for w in seg] == words
    assert all(seg[-1].end - seg[0].start <= 2.0 for seg in segments)
    assert len(segments) == 3  # 4 + 4 + 2 words
    assert segment_words([WordSpan("long", 0, 5)], 2.0) == [[WordSpan("long", 0, 5)]]


def test_lrs2_lists_splits_and_flag_column(tmp_path):
    make_lrs2(tmp_path)
    entries = {e.record.id: e for e in read_corpus("lrs2", tmp_path)}
    assert {k: e.split for k, e in entries.items()} == {
        "main/100/00001": "train", "main/100/00002": "train", "main/200/00001": "val",
        "main/300/00001": "test", "pretrain/900/00001": "train",
    }
    assert entries["main/300/00001"].record.text == "LAST ONE"  # "NF" is not part of anything
    assert entries["main/100/00001"].record.speaker == "100"
    main_only = read_corpus("lrs2", tmp_path / "mvlrs_v1", subsets="main")  # also from inside mvlrs_v1
    assert len(main_only) == 4


def test_lrs2_pretrain_segments(tmp_path):
    make_lrs2(tmp_path)
    entries = [e for e in read_corpus("lrs2", tmp_path, subsets="pretrain", max_seconds=2.0)]
    assert len(entries) == 3 and all(e.record.id.startswith("pretrain/900/00001_") for e in entries)
    assert " ".join(e.record.text for e in entries) == "A LONG PRETRAIN CLIP WITH MANY WORDS IN IT"
    for e in entries:
        assert e.record.end - e.record.start <= 2.0 and e.record.start == e.record.words[0].start


def test_lrs3_tree_splits_segments_and_orphans(tmp_path):
    make_lrs3(tmp_path)
    entries = {e.record.id: e for e in read_corpus("lrs3", tmp_path, max_seconds=3.0)}
    pre = sorted(k for k in entries if k.startswith("pretrain/"))
    assert len(pre) == 2 and all(entries[k].split == "train" for k in pre)
    assert entries["trainval/vidB/00002"].record.text == "IT'S A GOOD DAY"
    assert entries["trainval/vidB/00002"].record.start is None  # trainval clips are not cut
    assert entries["test/vidD/00001"].split == "test"
    assert "missing file" in entries["trainval/vidC/00009"].error
    held = read_corpus("lrs3", tmp_path, subsets="trainval", val_fraction=0.34, seed=1)
    assert sorted(e.split for e in held) == ["train", "train", "train", "val"]


def test_manifest_csv_and_jsonl(tmp_path):
    (tmp_path / "a.mp4").write_bytes(b"")
    (tmp_path / "b.mp4").write_bytes(b"")
    (tmp_path / "m.csv").write_text("path,text,speaker,start,end\na.mp4,hello  world,alice,,\nb.mp4,good day,bob,1.5,4\nmissing.mp4,x,,,\n")
    entries = read_corpus("manifest", tmp_path / "m.csv")
    assert [e.record.id for e in entries] == ["a", "b@1.50", "missing"]
    assert entries[0].record.text == "hello world" and entries[0].record.video == str(tmp_path / "a.mp4")
    assert (entries[1].record.start, entries[1].record.end, entries[1].record.speaker) == (1.5, 4.0, "bob")
    assert entries[2].error.startswith("video not found")
    rows = [{"path": "a.mp4", "text": "hi", "id": "one", "split": "test"}, {"path": "b.mp4", "text": "yo"}]
    (tmp_path / "m.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    entries = read_corpus("manifest", tmp_path / "m.jsonl")
    assert [(e.record.id, e.split) for e in entries] == [("one", "test"), ("b", "train")]


@pytest.mark.parametrize(
    "content, match",
    [
        ("path,words\na.mp4,hi\n", "header"),
        ("path,text,end,start\na.mp4,hi,1,2\n", "not after start"),
        ("path,text,colour\na.mp4,hi,red\n", "unknown field"),
        ("path,text,split\na.mp4,hi,dev\n", "split"),
        ("path,text,id\na.mp4,hi,x\nb.mp4,yo,x\n", "repeats"),
    ],
)
def test_manifest_errors_name_the_line(tmp_path, content, match):
    (tmp_path / "m.csv").write_text(content)
    with pytest.raises(DataError, match=match):
        read_corpus("manifest", tmp_path / "m.csv")
