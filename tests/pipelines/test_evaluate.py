"""`lipread evaluate`: reports, agreement with `lipread score`, preprocessing checks, zoo names."""

from __future__ import annotations

import json

import pytest

from lipread.cli.main import main
from lipread.errors import CheckpointError, ConfigError
from lipread.models import create_model
from lipread.models.checkpoint import save_model
from lipread.pipelines.evaluate import check_preprocess
from lipread.text import Tokenizer

pytestmark = pytest.mark.grid


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("eval") / "model"
    model = create_model("lipnet_tiny", input_size=[50, 100], in_chans=3)
    save_model(path, model, {"tokenizer": Tokenizer.from_name("grid").to_dict(),
                             "preprocess": {"preset": "lipnet", "gray": False}})
    return path


@pytest.mark.parametrize("decoder", [["--decoder", "greedy"], ["--decoder", "beam", "--beam-size", "4"]])
def test_evaluate_numbers_equal_score_on_the_written_hypotheses(model_dir, grid_cache, tmp_path, decoder):
    out = tmp_path / "eval"
    assert main(["evaluate", str(model_dir), str(grid_cache), "--split", "all", "-o", str(out), *decoder]) == 0
    report = json.loads((out / "report.json").read_text())
    files = report["files"]
    rows = [json.loads(x) for x in open(files["utterances.jsonl"])]
    assert report["utterances_count"] == len(rows) == 16 and report["split"] == "all"
    assert set(report["per_speaker"]) == {"s1"}
    assert main(["score", files["ref.txt"], files["hyp.txt"], "-o", str(tmp_path / "scored")]) == 0
    again = json.loads((tmp_path / "scored" / "score.json").read_text())
    assert again["wer"] == pytest.approx(report["wer"], abs=1e-12)
    assert again["cer"] == pytest.approx(report["cer"], abs=1e-12)
    assert report["words"] == again["words"]


def test_split_and_limit(model_dir, grid_cache, tmp_path):
    from lipread.data import PreparedDataset
    from lipread.pipelines.evaluate import evaluate

    n_val = len(PreparedDataset(grid_cache, split="val"))
    assert len(evaluate(str(model_dir), str(grid_cache), split="val").hypotheses) == n_val
    assert len(evaluate(str(model_dir), str(grid_cache), limit=3).hypotheses) == 3


def test_a_model_trained_on_other_crops_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="preset"):
        check_preprocess({"preset": "aligned96"}, {"preset": "lipnet"}, "m", "c")
    check_preprocess({"preset": "lipnet", "gray": False}, {"preset": "lipnet", "gray": False}, "m", "c")


def test_unknown_model_name_is_a_clear_error(grid_cache, capsys):
    assert main(["evaluate", "no-such-model", str(grid_cache)]) == 1
    err = capsys.readouterr().err
    assert "no-such-model" in err and "zoo" in err
    with pytest.raises(CheckpointError):
        from lipread.models.zoo import resolve_model

        resolve_model("no-such-model")


def test_stored_lm_and_lexicon_are_found_from_any_working_directory(grid_cache, tmp_path, monkeypatch):
    """A model folder stores its LM and lexicon relative to itself; `--decoder beam` without --lm uses them."""
    import shutil

    from lipread.decoding.lm import grid_lm_files
    from lipread.pipelines.evaluate import DecodeOptions, evaluate

    folder = tmp_path / "with-lm"
    model = create_model("lipnet_tiny", input_size=[50, 100], in_chans=3)
    save_model(folder, model, {"tokenizer": Tokenizer.from_name("grid").to_dict(),
                               "preprocess": {"preset": "lipnet", "gray": False},
                               "decoder": {"name": "beam", "lm": "my.arpa", "lexicon": "my-words.txt"}})
    arpa, lexicon = grid_lm_files()
    shutil.copy(arpa, folder / "my.arpa")
    shutil.copy(lexicon, folder / "my-words.txt")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    result = evaluate(str(folder), str(grid_cache), options=DecodeOptions("beam", beam_size=4), limit=4)
    words = set(lexicon.read_text().split())
    assert len(result.hypotheses) == 4
    assert all(w in words for text in result.hypotheses.values() for w in text.split())
