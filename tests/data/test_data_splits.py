"""Seeded splits: sizes, disjointness, reproducibility, machine shards."""

from __future__ import annotations

from collections import Counter

import pytest
from trees import make_grid

from lipread.data.corpora import read_corpus
from lipread.data.splits import in_shard, parse_shard, stable_hash, val_fraction_split
from lipread.errors import ConfigError


def splits_of(entries):
    return {e.record.id: e.split for e in entries}


def test_val_fraction_size_seed_and_order_independence():
    ids = [f"c{k:03d}" for k in range(900)]
    a = val_fraction_split(ids, 0.1, seed=0)
    assert Counter(a.values()) == {"train": 810, "val": 90}
    assert val_fraction_split(list(reversed(ids)), 0.1, seed=0) == a
    assert val_fraction_split(ids, 0.1, seed=1) != a
    with pytest.raises(ConfigError):
        val_fraction_split(ids, 1.0)


def test_grid_random_split_on_single_speaker(tmp_path):
    make_grid(tmp_path, {"s1": 50})
    split = splits_of(read_corpus("grid", tmp_path, val_fraction=0.1, seed=0))
    assert Counter(split.values()) == {"train": 45, "val": 5}
    assert split == splits_of(read_corpus("grid", tmp_path, val_fraction=0.1, seed=0))


def test_grid_overlapped_holds_out_255_per_speaker(tmp_path):
    make_grid(tmp_path, {"s1": 300, "s3": 280})
    entries = read_corpus("grid", tmp_path, split="overlapped", val_fraction=0.0, seed=3)
    per = Counter((e.record.speaker, e.split) for e in entries)
    assert per == {("s1", "test"): 255, ("s1", "train"): 45, ("s3", "test"): 255, ("s3", "train"): 25}
    # each clip (a speaker's sentence) is in exactly one split, and the texts of a speaker's test
    # and train clips never coincide (GRID sentences are unique per speaker)
    for speaker in ("s1", "s3"):
        train = {e.record.text for e in entries if e.record.speaker == speaker and e.split == "train"}
        test = {e.record.text for e in entries if e.record.speaker == speaker and e.split == "test"}
        assert not train & test
    other = read_corpus("grid", tmp_path, split="overlapped", val_fraction=0.0, seed=4)
    assert splits_of(other) != splits_of(entries)


def test_grid_overlapped_with_val_and_too_few_clips(tmp_path):
    make_grid(tmp_path, {"s1": 300})
    entries = read_corpus("grid", tmp_path, split="overlapped", val_fraction=0.2)
    assert Counter(e.split for e in entries) == {"test": 255, "train": 36, "val": 9}
    make_grid(tmp_path, {"s2": 100})
    with pytest.raises(ConfigError, match="cannot hold out 255"):
        read_corpus("grid", tmp_path, split="overlapped")


def test_grid_unseen_speakers(tmp_path):
    make_grid(tmp_path, {"s1": 3, "s2": 3, "s3": 4, "s20": 2, "s22": 2, "s5": 4})
    entries = read_corpus("grid", tmp_path, split="unseen", val_fraction=0.0)
    test_speakers = {e.record.speaker for e in entries if e.split == "test"}
    train_speakers = {e.record.speaker for e in entries if e.split == "train"}
    assert test_speakers == {"s1", "s2", "s20", "s22"} and train_speakers == {"s3", "s5"}
    with pytest.raises(ConfigError, match="protocol"):
        read_corpus("grid", tmp_path, split="speakerwise")


def test_stable_hash_and_shards_partition_ids():
    assert stable_hash("s1/bbaf2n") == stable_hash("s1/bbaf2n") != stable_hash("s1/bbaf3s")
    ids = [f"clip{k}" for k in range(400)]
    parts = [{i for i in ids if in_shard(i, (k, 4))} for k in range(4)]
    assert set().union(*parts) == set(ids) and sum(map(len, parts)) == len(ids)
    assert all(60 < len(p) < 140 for p in parts)  # roughly balanced
    assert all(in_shard(i, None) for i in ids)


@pytest.mark.parametrize("spec", ["3", "a/b", "4/4", "-1/3", "0/0"])
def test_parse_shard_rejects_bad_specs(spec):
    with pytest.raises(ConfigError):
        parse_shard(spec)


def test_parse_shard_accepts_good_specs():
    assert parse_shard("0/1") == (0, 1) and parse_shard("7/16") == (7, 16) and parse_shard(None) is None
