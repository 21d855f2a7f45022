"""The `lipread` command: help, version, error handling, and `lipread score`."""

from __future__ import annotations

import json
import random
import subprocess
import sys

import jiwer
import pytest

from lipread import __version__
from lipread.cli.main import SUBCOMMANDS, main

EXPECTED = {"transcribe", "live", "crop", "info", "prepare", "train", "evaluate", "score", "models"}


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lipread", *args], capture_output=True, text=True, timeout=120)


def test_help_lists_every_subcommand():
    res = run("--help")
    assert res.returncode == 0
    for name in EXPECTED:
        assert name in res.stdout
    assert {m.command.name for m in SUBCOMMANDS} == EXPECTED


def test_version():
    res = run("--version")
    assert res.returncode == 0 and __version__ in res.stdout


def test_error_is_one_line_without_traceback(tmp_path, capsys):
    code = main(["score", str(tmp_path / "missing.txt"), str(tmp_path / "also-missing.txt")])
    err = capsys.readouterr().err
    assert code == 1
    assert "missing.txt" in err and "not found" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def write(path, rows):
    path.write_text("".join(f"{k} {v}\n" for k, v in rows.items()))
    return path


def test_score_agrees_with_jiwer_on_random_files(tmp_path):
    rng = random.Random(7)
    vocab = ["bin", "lay", "set", "blue", "red", "at", "by", "a", "b", "one", "two", "now", "soon"]
    refs, hyps = {}, {}
    for i in range(300):
        r = [rng.choice(vocab) for _ in range(rng.randint(1, 7))]
        h = [w if rng.random() > 0.2 else rng.choice(vocab) for w in r if rng.random() > 0.05]
        refs[f"utt{i:03d}"] = " ".join(r)
        hyps[f"utt{i:03d}"] = " ".join(h)
    shuffled = dict(rng.sample(sorted(hyps.items()), len(hyps)))  # order must not matter
    ref_file, hyp_file = write(tmp_path / "ref.txt", refs), write(tmp_path / "hyp.txt", shuffled)
    code = main(["score", str(ref_file), str(hyp_file), "-o", str(tmp_path / "scored")])
    assert code == 0
    report = json.loads((tmp_path / "scored" / "score.json").read_text())
    ids = sorted(refs)
    assert report["wer"] == pytest.approx(jiwer.wer([refs[i] for i in ids], [hyps[i] for i in ids]), abs=1e-9)
    assert report["cer"] == pytest.approx(jiwer.cer([refs[i] for i in ids], [hyps[i] for i in ids]), abs=1e-9)
    assert len(report["utterances"]) == 300


def test_score_reads_jsonl_and_prints_table(tmp_path, capsys):
    ref = tmp_path / "ref.jsonl"
    ref.write_text('{"id": "a", "text": "Bin blue"}\n{"id": "b", "text": "set red"}\n')
    hyp = write(tmp_path / "hyp.txt", {"a": "bin blue", "b": "set"})
    assert main(["score", str(ref), str(hyp)]) == 0
    out = capsys.readouterr().out
    assert "WER" in out and "25.00%" in out


def test_score_mismatched_ids_lists_them(tmp_path, capsys):
    ref = write(tmp_path / "ref.txt", {"a": "x", "b": "y", "c": "z"})
    hyp = write(tmp_path / "hyp.txt", {"a": "x", "d": "y"})
    assert main(["score", str(ref), str(hyp)]) == 1
    err = capsys.readouterr().err
    assert "b, c" in err and "d" in err and "only in" in err


def test_score_duplicate_id_is_an_error(tmp_path, capsys):
    ref = tmp_path / "ref.txt"
    ref.write_text("a x\na y\n")
    assert main(["score", str(ref), str(ref)]) == 1
    assert "twice" in capsys.readouterr().err


def test_score_empty_hypothesis_line(tmp_path):
    ref = write(tmp_path / "ref.txt", {"a": "bin blue at"})
    hyp = tmp_path / "hyp.txt"
    hyp.write_text("a\n")
    assert main(["score", str(ref), str(hyp), "-o", str(tmp_path)]) == 0
    assert json.loads((tmp_path / "score.json").read_text())["wer"] == 1.0


def test_transcribe_defaults_to_the_zoo_default_model():
    from lipread.cli.transcribe import command
    from lipread.models.zoo import DEFAULT_MODEL

    option = next(p for p in command.params if p.name == "model")
    assert option.default == DEFAULT_MODEL == "wlas-grid-s1"
