"""The zoo's GRID model: small, self-contained, and it reproduces the WER in its card and RESULTS.md.

The 90 held-out clips (seeded 10% of the shared GRID speaker-1 clips, as in the recipe) are
prepared here with the current front end, then scored with the decoder stored in the model.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lipread.models.zoo import resolve_model, zoo_dirs

REPO = Path(__file__).resolve().parents[2]
DEFAULT_MODEL = "lipnet-grid-s1"  # the LipNet zoo model (the default until issue 16 made it wlas-grid-s1)
ZOO = REPO / "models" / DEFAULT_MODEL
pytestmark = pytest.mark.skipif(not (ZOO / "config.json").is_file(), reason=f"{ZOO} is not in this checkout")


def test_zoo_folder_is_complete_and_small():
    assert resolve_model(DEFAULT_MODEL) == ZOO and ZOO.parent in zoo_dirs()
    config = json.loads((ZOO / "config.json").read_text())
    assert config["format"] == "lipread-model" and config["tokenizer"]["name"] == "grid"
    assert (ZOO / "model.safetensors").stat().st_size <= 10 * 2**20
    for name in ("README.md", "vocabulary.json"):
        assert (ZOO / name).is_file(), name
    dec = config["decoder"]
    for key in ("lm", "lexicon"):
        if dec.get(key):
            assert (ZOO / dec[key]).is_file(), dec[key]
    from safetensors import safe_open

    with safe_open(str(ZOO / "model.safetensors"), "pt") as f:
        dtypes = {str(f.get_tensor(k).dtype) for k in f.keys()}
    assert "torch.float16" in dtypes and "torch.float32" not in dtypes


@pytest.mark.grid
@pytest.mark.slow
def test_evaluate_reproduces_the_recorded_wer(grid_dir, tmp_path):
    from lipread.data import read_corpus
    from lipread.data.prepare import prepare
    from lipread.frontend import FrontEndConfig
    from lipread.pipelines.evaluate import evaluate
    from lipread.pipelines.transcribe import load_model

    loaded = load_model(DEFAULT_MODEL)
    recorded = loaded.config["evaluation"]
    entries = [e for e in read_corpus("grid", grid_dir, val_fraction=0.1, seed=0) if e.split == "val"]
    assert len(entries) == recorded["clips"] == 90
    cache = tmp_path / "val"
    summary = prepare(entries, cache, FrontEndConfig(preset=loaded.frontend.preset, gray=loaded.frontend.gray),
                      corpus={"name": "grid"}, progress=False)
    assert summary.done == 90 and not summary.failures
    result = evaluate(DEFAULT_MODEL, str(cache), split="val", options=loaded.decode_options())
    assert result.report.wer == pytest.approx(recorded["wer"], abs=1e-9)
    assert result.report.cer == pytest.approx(recorded["cer"], abs=1e-9)
    # word times follow the speech: median start and end error within 80 ms of the .align times
    times = result.word_times
    assert times == recorded["word_times"]
    assert times["words"] > 300 and times["start_median_ms"] <= 80 and times["end_median_ms"] <= 80, times
    # confidence separates right from wrong words
    from lipread.metrics.confidence import auroc, labelled_words

    labelled = [x for uid, hyp in result.best.items()
                for x in labelled_words(result.references[uid], [(w.word, w.confidence) for w in hyp.words])]
    right = [c for r, c in labelled if r]
    wrong = [c for r, c in labelled if not r]
    assert wrong and sum(right) / len(right) > sum(wrong) / len(wrong) + 0.2
    assert auroc([r for r, _ in labelled], [c for _, c in labelled]) >= 0.8
    # the card and RESULTS.md quote the same figure
    shown = f"{100 * recorded['wer']:.2f}%"
    for doc in (ZOO / "README.md", REPO / "pipelines" / "grid" / "RESULTS.md"):
        assert shown in doc.read_text(), f"{doc} does not quote WER {shown}"


@pytest.mark.grid
@pytest.mark.slow
def test_out_of_domain_clips_warn_and_held_out_clips_do_not(grid_dir, tmp_path):
    from lipread.data import read_corpus
    from lipread.data.perturb import cover_mouth, reverse, still
    from lipread.pipelines.transcribe import Transcriber

    val = [e for e in read_corpus("grid", grid_dir, val_fraction=0.1, seed=0) if e.split == "val"][:4]
    transcriber = Transcriber(DEFAULT_MODEL)
    try:
        stranger = 0
        for e in val:
            normal = transcriber.transcribe(e.record.video)
            assert [w for w in normal.warnings if "never saw" not in w] == [], (e.record.video, normal.warnings)
            stranger += any("never saw" in w for w in normal.warnings)
            assert 0.0 <= normal.confidence <= 1.0
        # the speaker check's face warns on 1 of the 90 held-out clips (pipelines/grid/results/speaker.json):
        # s1/bbaf3s, one of these four
        assert stranger <= 1
        warned = [bool(transcriber.transcribe(reverse(e.record.video, tmp_path / f"r{i}.mp4")).warnings)
                  for i, e in enumerate(val)]
        assert sum(warned) >= 3, warned
        t = transcriber.transcribe(still(val[0].record.video, tmp_path / "still.mp4", index=40))
        assert any("barely moves" in w for w in t.warnings), t.warnings
        t = transcriber.transcribe(cover_mouth(val[1].record.video, tmp_path / "cover.mp4"))
        assert t.warnings, "a covered mouth must warn"
    finally:
        transcriber.close()
    # the command line: one warning line for the file, the text still written, exit 0
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-m", "lipread", "transcribe", str(tmp_path / "still.mp4"), "-f", "json",
                        "-m", DEFAULT_MODEL, "-o", str(tmp_path / "out")], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    lines = [ln for ln in r.stderr.splitlines() if "unlike the model's training data" in ln]
    assert len(lines) == 1 and "barely moves" in lines[0] and "still.mp4" in lines[0], r.stderr
    data = json.loads((tmp_path / "out" / "still.json").read_text())
    assert data["text"] and data["warnings"] and 0.0 <= data["confidence"] <= 1.0
