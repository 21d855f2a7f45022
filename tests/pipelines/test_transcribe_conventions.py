"""Issue 19 on real GRID clips: formats, the transcribe | score round trip, one segmentation on a
long video, progress, failures reported once, evaluate's default split and decoder, the Python API."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from subtitle_times import cue_times

import lipread
from lipread.cli.main import main
from lipread.errors import UsageError
from lipread.models import create_model
from lipread.models.checkpoint import save_model
from lipread.models.zoo import DEFAULT_MODEL, list_zoo
from lipread.text import Tokenizer

pytestmark = pytest.mark.grid
HAS_ZOO = DEFAULT_MODEL in list_zoo()
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    """An untrained model whose stored decoder is beam search with the GRID LM and lexicon."""
    path = tmp_path_factory.mktemp("model") / "tiny"
    model = create_model("lipnet_tiny", input_size=[50, 100], in_chans=3)
    save_model(path, model, {"tokenizer": Tokenizer.from_name("grid").to_dict(),
                             "preprocess": {"preset": "lipnet", "gray": False, "clip_seconds": 3.0},
                             "decoder": {"name": "beam", "beam_size": 4, "lm": "grid", "lexicon": "grid"}})
    return path


def test_repeated_and_comma_formats_write_each(tiny_model, grid_clips, tmp_path, capsys):
    clip = str(grid_clips[0])
    assert main(["transcribe", clip, "-m", str(tiny_model), "-f", "srt", "-f", "vtt", "-o", str(tmp_path / "a")]) == 0
    assert sorted(p.suffix for p in (tmp_path / "a").iterdir()) == [".srt", ".vtt"]
    assert main(["transcribe", clip, "-m", str(tiny_model), "-f", "txt,json", "-o", str(tmp_path / "b")]) == 0
    assert sorted(p.suffix for p in (tmp_path / "b").iterdir()) == [".json", ".txt"]


def test_a_failed_file_is_reported_once_plus_one_summary_line(tiny_model, grid_clips, tmp_path, capsys):
    code = main(["transcribe", str(tmp_path / "missing.mp4"), str(grid_clips[0]), "-m", str(tiny_model),
                 "-o", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 2, err
    assert lines[0].startswith("lipread: error: ") and "missing.mp4: file not found" in lines[0]
    assert lines[1] == "lipread: error: 1 of 2 videos failed (each is reported above)"


def test_transcribe_output_pipes_into_score(tiny_model, grid_clips, tmp_path):
    """`lipread transcribe ... | lipread score REF -` round-trips (ids: paths against file stems); with
    stderr not a terminal no progress bar is drawn into it."""
    clips = [str(p) for p in grid_clips[:2]]
    ref = tmp_path / "ref.txt"
    ref.write_text("".join(f"{Path(c).stem} bin blue at f two now\n" for c in clips))
    lipread_cmd = f"{sys.executable} -m lipread"
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    res = subprocess.run(
        f"{lipread_cmd} transcribe {' '.join(clips)} -m {tiny_model} -o {tmp_path / 'out'} 2>{tmp_path / 'err'}"
        f" | {lipread_cmd} score {ref} - --json",
        shell=True, capture_output=True, text=True, env=env, timeout=300)
    assert res.returncode == 0, res.stderr
    report = json.loads(res.stdout)
    assert [u["id"] for u in report["utterances"]] == [Path(c).stem for c in clips]
    err = (tmp_path / "err").read_text()
    assert "\r" not in err and "\x1b[" not in err and "Traceback" not in err


@pytest.fixture(scope="module")
def long_video(grid_clips, tmp_path_factory):
    from lipread.io.video import read_video
    from lipread.io.writer import write_video

    frames = np.concatenate([read_video(p).frames for p in grid_clips[:3]])[:-2]  # 8.92 s, no audio track
    return Path(write_video(tmp_path_factory.mktemp("long") / "long.mkv", frames))


@pytest.mark.skipif(not HAS_ZOO, reason=f"zoo model {DEFAULT_MODEL} is not in models/")
def test_long_video_one_segmentation_and_progress(long_video, tmp_path):
    from lipread.pipelines.transcribe import Transcriber, load_model
    from lipread.pipelines.writers import get_writers

    calls = []
    tr = Transcriber(load_model(DEFAULT_MODEL, "cpu"))
    try:
        t = tr.transcribe(long_video, progress=lambda done, total: calls.append((done, total)))
    finally:
        tr.close()
    # a single long video shows progress, in seconds of the video, up to its end
    assert len(calls) > 1 and calls[-1] == (9, 9) and [c[0] for c in calls] == sorted(c[0] for c in calls)
    assert all(a.end <= b.start for a, b in zip(t.segments, t.segments[1:]))  # windows overlap, segments do not
    paths = {w.extension: w.write(t) for w in get_writers("all", tmp_path)}
    data = json.loads(paths["json"].read_text())
    segs = data["segments"]
    assert segs and [s["id"] for s in segs] == list(range(len(segs)))
    assert data["duration"] == pytest.approx(8.92, abs=0.01)
    assert all(0 <= s["start"] < s["end"] <= data["duration"] for s in segs)
    assert all(a["end"] <= b["start"] for a, b in zip(segs, segs[1:]))
    for ext in ("srt", "vtt"):
        cues = cue_times(paths[ext].read_text())
        assert np.allclose(cues, [(s["start"], s["end"]) for s in segs], atol=1e-9), ext


def test_python_api_takes_what_the_cli_takes(tiny_model, grid_clips):
    clip = grid_clips[0]
    t = lipread.transcribe(clip, model=str(tiny_model), decoder="greedy", device="cpu")
    assert t.path == str(clip)
    t = lipread.transcribe(clip, model=str(tiny_model), decoder="beam", beam_size=5, lm="grid", lexicon="grid",
                           lm_weight=0.5, word_score=0.0, device="auto", batch_size=2)
    words = set((REPO / "models" / "lipnet-grid-s1" / "lexicon.txt").read_text().split()) if HAS_ZOO else None
    if words:
        assert all(w in words for w in t.text.split())
    loaded = lipread.load_model(str(tiny_model), device="cpu")
    assert loaded.transcribe(clip, decoder="greedy").path == str(clip)
    with pytest.raises(UsageError, match="beam decoder"):
        loaded.transcribe(clip, decoder="greedy", beam_size=5)
    with pytest.raises(UsageError, match="batch size"):
        lipread.transcribe(clip, model=loaded, batch_size=0)


def test_evaluate_scores_the_held_out_split_and_says_so(tiny_model, grid_cache, capsys):
    from lipread.data import PreparedDataset

    n_val = len(PreparedDataset(grid_cache, split="val"))
    assert 0 < n_val < 16
    assert main(["evaluate", str(tiny_model), str(grid_cache), "--limit", "2", "--decoder", "greedy"]) == 0
    out = capsys.readouterr().out
    assert "(2 utterances of split val, greedy decoder)" in out.splitlines()[0]
    assert main(["evaluate", str(tiny_model), str(grid_cache), "--json", "--decoder", "greedy"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["split"] == "val" and report["utterances_count"] == n_val


def test_evaluate_without_decoder_uses_the_stored_one(tiny_model, grid_cache, capsys):
    assert main(["evaluate", str(tiny_model), str(grid_cache), "--limit", "2", "--json"]) == 0
    decoder = json.loads(capsys.readouterr().out)["decoder"]
    assert decoder["decoder"] == "beam" and decoder["beam_size"] == 4 and decoder["lm"] == "grid"


def test_evaluate_falls_back_to_every_clip_with_a_warning(tiny_model, grid_cache, tmp_path, caplog):
    from lipread.pipelines.evaluate import choose_split

    assert choose_split({"train": 5, "val": 2, "test": 1}, "auto") == "test"
    assert choose_split({"train": 5, "val": 2}, "auto") == "val"
    assert choose_split({"train": 5}, "auto") == "all"
    assert "training clips included" in caplog.text
    assert choose_split({"train": 5, "val": 2}, None) == "all"
