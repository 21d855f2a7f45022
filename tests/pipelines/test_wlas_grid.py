"""WLAS on real GRID clips: a tiny model overfits 5 clips in each modality; evaluate and transcribe read
lips, sound or both; and every bad input gets one clear line and a non-zero exit."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest
import torch

from lipread.cli.main import main

pytestmark = pytest.mark.grid

FEATURES = {"kind": "mfcc", "n_mfcc": 13, "deltas": True, "cmvn": True}
# lipnet_tiny on the cache's 50x100 RGB crops, with a first stride of 4 to keep the test fast
WATCH = {"input_size": [50, 100], "in_chans": 3, "align_head": True, "strides": [[1, 4, 4], [1, 1, 1], [1, 1, 1]]}


@pytest.fixture(scope="module")
def overfit(grid_av_cache, tmp_path_factory):
    """A tiny WLAS trained on the 5 clips until it reads every one exactly in all three modalities.
    Returns (model folder, {modality: transcripts}, references)."""
    from lipread.data import PreparedDataset, collate
    from lipread.decoding.attention import greedy_search
    from lipread.models import create_model
    from lipread.models.checkpoint import save_model

    torch.manual_seed(0)
    ds = PreparedDataset(grid_av_cache, audio_features=FEATURES)
    batch = collate([ds[i] for i in range(len(ds))])
    model = create_model("wlas_tiny", watch_args=WATCH, p_video_only=0.3, p_audio_only=0.3)
    tok = model.tokenizer
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)

    def read_all():
        model.eval()
        out = {}
        with torch.no_grad():
            for m in ("av", "video", "audio"):
                enc, _ = model.encode(batch.video, batch.video_lengths, batch.audio, batch.audio_lengths, m)
                out[m] = [tok.decode(r.tokens) for r in greedy_search(model, enc, tok.sos_id, tok.eos_id)]
        model.train()
        return out

    reads = {}
    for step in range(1, 601):  # about 150 steps (30-50 s) reach it
        model.train()
        loss = model(batch.video, batch.video_lengths, batch.audio, batch.audio_lengths, batch.targets,
                     batch.target_lengths)["loss"]
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 25 == 0:
            reads = read_all()
            if all(r == batch.texts for r in reads.values()):
                break
    path = tmp_path_factory.mktemp("wlas") / "tiny"
    pre = {**ds.preprocess, "audio_features": FEATURES, "clip_seconds": 3.0}
    save_model(path, model.eval(), {"tokenizer": tok.to_dict(), "preprocess": pre, "decoder": {"name": "greedy"}})
    return path, reads, batch.texts


@pytest.mark.parametrize("modality", ["av", "video", "audio"])
def test_tiny_wlas_overfits_five_real_clips(overfit, modality):
    _, reads, refs = overfit
    assert reads[modality] == refs


@pytest.mark.parametrize("modality", ["av", "video", "audio"])
def test_evaluate_reads_each_modality(overfit, grid_av_cache, modality, tmp_path, capsys):
    path, _, _ = overfit
    out = tmp_path / "summary.json"
    args = ["evaluate", str(path), str(grid_av_cache), "--split", "all", "--modality", modality, "--decoder", "greedy",
            "--json", str(out)]
    assert main(args) == 0
    summary = json.loads(out.read_text())
    assert summary["wer"] == 0.0 and summary["modality"] == modality
    assert f"modality {modality}" in capsys.readouterr().out
    assert summary["word_times"]["words"] == 30  # every word read right has a time


def test_word_times_from_the_ctc_branch(overfit, grid_av_cache, capsys):
    path, _, _ = overfit
    args = ["evaluate", str(path), str(grid_av_cache), "--split", "all", "--modality", "av", "--decoder", "greedy", "--json"]
    assert main(args + ["--word-timing", "ctc"]) == 0
    ctc = json.loads(capsys.readouterr().out)
    assert main(args) == 0
    head = json.loads(capsys.readouterr().out)
    assert ctc["decoder"]["word_timing"] == "ctc" and head["decoder"]["word_timing"] == "auto"
    assert ctc["wer"] == head["wer"] and ctc["word_times"]["words"] == head["word_times"]["words"] == 30
    assert ctc["word_times"] != head["word_times"]  # two different alignments of the same words


def test_evaluate_with_noise_records_the_condition(overfit, grid_av_cache, capsys):
    path, _, _ = overfit
    args = ["evaluate", str(path), str(grid_av_cache), "--split", "all", "--modality", "audio", "--noise", "babble",
            "--snr", "-5", "--json"]
    assert main(args) == 0
    a = json.loads(capsys.readouterr().out)
    assert a["noise"] == "babble" and a["snr_db"] == -5.0
    assert main(args) == 0  # seeded per clip: the same number again
    assert json.loads(capsys.readouterr().out)["wer"] == a["wer"]


def test_bad_inputs_get_one_clear_line(overfit, grid_av_cache, grid_cache, tmp_path, capsys):
    path, _, _ = overfit
    cases = [
        (["evaluate", str(path), str(grid_av_cache), "--snr", "5"], 2, "--snr was given without --noise"),
        (["evaluate", "lipnet-grid-s1", str(grid_av_cache), "--modality", "av"], 2, "reads lips only"),
        (["evaluate", str(path), str(grid_av_cache), "--modality", "video", "--noise", "white", "--snr", "0"], 2,
         "reads no sound"),
        # a cache prepared without --audio, given to a model that reads sound
        (["evaluate", str(path), str(grid_cache), "--modality", "audio"], 1, "has no audio features"),
    ]
    for args, code, message in cases:
        if args[1] == "lipnet-grid-s1" and not Path("models/lipnet-grid-s1").exists():
            continue
        assert main(args) == code, args
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err, err
        assert len([ln for ln in err.splitlines() if ln.startswith("lipread: error")]) == 1


def test_trainer_refuses_a_cache_without_audio_for_wlas(grid_cache, tmp_path, capsys):
    recipe = tmp_path / "wlas.yaml"
    recipe.write_text("model: {name: wlas_tiny}\nmax_steps: 1\n")
    args = ["train", str(recipe), "-o", str(tmp_path / "run"), f"data.cache={grid_cache}", "data.augment.crop=[24,48]"]
    assert main(args) == 1
    assert "no audio features" in capsys.readouterr().err


def test_trainer_trains_and_resumes_wlas(grid_av_cache, tmp_path):
    recipe = tmp_path / "wlas.yaml"
    recipe.write_text(
        f"model: {{name: wlas_tiny, args: {{watch_args: {json.dumps(WATCH)}}}}}\n"
        f"data: {{cache: {grid_av_cache}, val_split: '', batch_size: 2, audio_features: {json.dumps(FEATURES)},\n"
        "       noise: {prob: 0.5}, augment: {word_spans: 0.5, word_spans_decay_epochs: 2, audio_time_masks: 1,\n"
        "       audio_time_mask_rows: 10}}\n"
        "align_weight: 0.3\nmax_steps: 4\nckpt_every: 2\nlog_every: 1\nthreads: 1\n")
    out = tmp_path / "run"
    assert main(["train", str(recipe), "-o", str(out), "max_steps=2"]) == 0
    assert main(["train", str(recipe), "-o", str(out), "--resume"]) == 0
    rows = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    assert rows[-1]["step"] == 4 and np.isfinite(rows[-1]["loss"])
    cfg = json.loads(next((out / "checkpoints").glob("step_0000004")).joinpath("config.json").read_text())
    assert cfg["preprocess"]["audio_features"]["deltas"] is True


def test_transcribe_modality_auto(overfit, grid_clips, tmp_path, caplog, capsys):
    from lipread.io.video import read_video
    from lipread.io.writer import write_video

    path, _, refs = overfit
    silent = tmp_path / "silent.mp4"
    write_video(silent, read_video(grid_clips[0]).frames)  # the same clip without its sound
    out = tmp_path / "out"
    with caplog.at_level(logging.INFO, logger="lipread"):
        assert main(["transcribe", str(grid_clips[0]), str(silent), "-m", str(path), "-o", str(out), "-f", "json"]) == 0
    sound = json.loads((out / f"{grid_clips[0].stem}.json").read_text())
    quiet = json.loads((out / "silent.json").read_text())
    assert sound["modality"] == "av" and quiet["modality"] == "video"
    assert "no audio track: reading the lips only" in caplog.text
    assert sound["text"] == refs[0]
    words = sound["segments"][0]["words"]
    assert [w["word"] for w in words] == refs[0].split()
    assert all(0 <= w["start"] < w["end"] <= 3.0 for w in words)
    capsys.readouterr()
    # sound asked for, but the file has none: that file fails with one line, the batch goes on
    assert main(["transcribe", str(silent), str(grid_clips[0]), "-m", str(path), "-o", str(out), "--modality",
                 "audio"]) == 1
    err = capsys.readouterr().err
    assert "no audio track" in err and "silent.mp4" in err and "Traceback" not in err


def test_a_lip_reader_learns_from_the_wlas_sound_as_teacher(overfit, grid_av_cache, tmp_path, capsys):
    """Cross-modal distillation: a LipNet trains with the WLAS's audio CTC posteriors as soft targets."""
    path, _, _ = overfit
    recipe = tmp_path / "distill.yaml"
    recipe.write_text(
        "model: {name: lipnet_tiny, args: {input_size: [50, 100], in_chans: 3, align_head: true}}\n"
        f"data: {{cache: {grid_av_cache}, val_split: '', batch_size: 2, audio_features: {json.dumps(FEATURES)}}}\n"
        f"distill: {{teacher: {path}, weight: 1.0, temperature: 2.0, head: ctc}}\n"
        "max_steps: 2\nlog_every: 1\nthreads: 1\n")
    assert main(["train", str(recipe), "-o", str(tmp_path / "run")]) == 0
    rows = [r for r in map(json.loads, (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()) if "loss" in r]
    assert rows[-1]["step"] == 2 and np.isfinite(rows[-1]["loss"])
    # features unlike the teacher's: one clear error before any step
    assert main(["train", str(recipe), "-o", str(tmp_path / "run2"), "data.audio_features={}"]) == 1
    assert "the teacher reads audio features" in capsys.readouterr().err


def test_an_attention_model_calibrates_and_gives_out_of_domain_warnings(overfit, grid_av_cache, grid_clips, tmp_path):
    import shutil

    from lipread.data.perturb import still
    from lipread.pipelines.domain import attention_confidences, calibrate_domain
    from lipread.pipelines.transcribe import load_model
    from lipread.readers import reader_for

    path, _, _ = overfit
    loaded = load_model(str(path), "cpu")
    options = loaded.decode_options()
    reader = reader_for(loaded.model, loaded.tokenizer, options)
    assert reader.lip_model() is loaded.model.watch
    confidences = attention_confidences(str(path), str(grid_av_cache), options, split="all")
    assert set(confidences) == {"video", "av", "audio"}
    assert all(len(c) == 5 and all(0.0 < x <= 1.0 for x in c) for c in confidences.values())
    # without them, the clips are read from the lips here: one floor, the lips-only one
    lips_only = calibrate_domain(reader, str(grid_av_cache), splits=(None, None), speaker=False)
    assert "confidence_floors" not in lips_only
    assert lips_only["confidence_floor"] == round(max(0.0, min(confidences["video"]) - 0.05), 4)
    domain = calibrate_domain(reader, str(grid_av_cache), confidences=confidences, splits=(None, None))
    floors = domain["confidence_floors"]
    assert floors == {m: round(max(0.0, min(c) - 0.05), 4) for m, c in confidences.items()}
    assert domain["confidence_floor"] == min(floors.values())
    # the direction check read each clip forwards and backwards with the Watch's CTC head
    assert domain["calibration"]["val_clips"] == 5
    assert domain["direction_margin"] == round(domain["calibration"]["val_direction_gap_max"] + 0.05, 4)
    # stored with the model, it makes transcribe warn on a still frame and stay quiet on a real clip
    model = tmp_path / "model"
    shutil.copytree(path, model)
    config = json.loads((model / "config.json").read_text())
    (model / "config.json").write_text(json.dumps({**config, "domain": domain}))
    frozen = still(grid_clips[0], tmp_path / "frozen.mp4")
    out = tmp_path / "out"
    assert main(["transcribe", str(grid_clips[0]), frozen, "-m", str(model), "-o", str(out), "-f", "json"]) == 0
    real = json.loads((out / f"{grid_clips[0].stem}.json").read_text())
    assert real["modality"] == "av" and real["warnings"] == []
    warned = json.loads((out / "frozen.json").read_text())["warnings"]
    assert any("barely moves" in w for w in warned), warned
