"""`lipread models [PATTERN]`: table and JSON listing with parameter counts and inputs."""

from __future__ import annotations

import json

import pytest

from lipread.cli.main import main


def test_lists_matching_models_with_counts_and_inputs(capsys):
    assert main(["models", "resnet*"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("architectures") and out[1].split()[:3] == ["model", "params", "input"]
    rows = {line.split()[0]: line for line in out[2:]}
    assert "resnet18" in rows and "densenet121" not in rows
    assert "11,689,512" in rows["resnet18"] and "(B, 3, 224, 224)" in rows["resnet18"]
    assert "25,557,032" in rows["resnet50"]


def test_every_registered_model_is_listed(capsys):
    from lipread.models import list_models

    assert main(["models", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["architectures"]
    assert [r["name"] for r in rows] == list_models()
    by_name = {r["name"]: r for r in rows}
    assert by_name["vgg16_bn"]["params"] == 138_365_992  # counted on the meta device
    assert by_name["video_resnet18"]["input"] == "(B, 1, 29, 88, 88)"
    assert all(r["params"] > 0 for r in rows)


def test_no_match_is_an_error(capsys):
    assert main(["models", "no-such-model*"]) == 1
    assert "no trained model or registered architecture matches" in capsys.readouterr().err


def test_trained_zoo_models_are_listed_with_wer_size_and_folder(capsys):
    from lipread.models.zoo import list_zoo

    assert main(["models", "--json"]) == 0
    trained = {t["name"]: t for t in json.loads(capsys.readouterr().out)["trained"]}
    assert sorted(trained) == list_zoo()
    if "lipnet-grid-s1" in trained:
        t = trained["lipnet-grid-s1"]
        assert 0 < t["wer"] < 1 and t["size_bytes"] > 1_000_000 and t["path"].endswith("lipnet-grid-s1")
        assert t["architecture"] == "lipnet_small"
        assert main(["models", "lipnet*"]) == 0
        out = capsys.readouterr().out
        assert out.startswith("trained models") and "lipnet-grid-s1" in out and f"{100 * t['wer']:.2f}%" in out


def test_the_default_model_is_marked_and_each_modality_has_its_wer(capsys):
    from lipread.models.zoo import DEFAULT_MODEL, list_zoo

    if DEFAULT_MODEL not in list_zoo():
        pytest.skip(f"zoo model {DEFAULT_MODEL} is not in models/")
    assert main(["models", "--json"]) == 0
    trained = {t["name"]: t for t in json.loads(capsys.readouterr().out)["trained"]}
    assert [n for n, t in trained.items() if t["default"]] == [DEFAULT_MODEL]
    wlas = trained[DEFAULT_MODEL]
    assert wlas["modality"] == "av" and set(wlas["wer_by_modality"]) == {"av", "video", "audio"}
    assert wlas["wer_by_modality"]["av"] == wlas["wer"]
    assert main(["models", DEFAULT_MODEL]) == 0
    line = next(ln for ln in capsys.readouterr().out.splitlines() if DEFAULT_MODEL in ln)
    lips = f"{100 * wlas['wer_by_modality']['video']:.2f}% lips"
    assert "(default)" in line and lips in line and "lips+sound" in line
