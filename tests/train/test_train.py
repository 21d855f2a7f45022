"""Training: a real run on real clips, exact resume after SIGKILL, torchrun with 2 ranks, checkpoints."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from lipread.errors import CheckpointError, ConfigError
from lipread.models.checkpoint import load_model
from lipread.train.config import load_train_config
from lipread.train.loop import lr_at

pytestmark = pytest.mark.grid

TINY = [
    "model.name=lipnet_tiny",
    "model.args={input_size: [50, 100], in_chans: 3, dropout: 0.2}",  # dropout on: resume must replay its RNG
    "data.batch_size=4",
    "data.num_workers=0",
    "optim.warmup_steps=2",
    "optim.lr=0.003",
    "log_every=1",
    "tensorboard=false",
    "threads=1",
]


def train_cmd(cache: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "lipread", "train", str(RECIPE), f"data.cache={cache}", f"out_dir={out}",
            *TINY, *extra]


RECIPE = Path(__file__).resolve().parents[2] / "pipelines" / "grid" / "lipnet_small.yaml"


def losses(run: Path) -> dict[int, float]:
    """step -> loss; a resumed run's later lines overwrite the killed run's lines for the same step."""
    out = {}
    for line in (run / "metrics.jsonl").read_text().splitlines():
        row = json.loads(line)
        if "loss" in row:
            out[row["step"]] = row["loss"]
    return out


def test_kill_and_resume_matches_an_uninterrupted_run(grid_cache, tmp_path):
    steps = ["max_steps=10", "ckpt_every=3", "val_every=1000", "keep_last=5"]
    full = tmp_path / "full"
    subprocess.run(train_cmd(grid_cache, full, *steps), check=True, capture_output=True, timeout=600)
    reference = losses(full)
    assert sorted(reference) == list(range(1, 11))

    run = tmp_path / "killed"
    proc = subprocess.Popen(train_cmd(grid_cache, run, *steps), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 300
    while not (run / "checkpoints" / "step_0000003" / "trainer_state.json").exists():
        assert proc.poll() is None, "training exited before its first checkpoint"
        assert time.time() < deadline
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done = sorted(int(p.name.split("_")[1]) for p in (run / "checkpoints").glob("step_*"))
    assert 10 not in done, "the run finished before it could be killed"

    res = subprocess.run(train_cmd(grid_cache, run, *steps) + ["--resume"], capture_output=True, text=True,
                         timeout=600)
    assert res.returncode == 0, res.stderr[-2000:]
    resumed = losses(run)
    assert sorted(resumed) == list(range(1, 11))
    for step in range(1, 11):
        assert resumed[step] == pytest.approx(reference[step], rel=1e-5, abs=1e-6), step
    # the training did something: loss moved
    assert reference[10] < reference[1]


def test_best_and_last_checkpoints(grid_cache, tmp_path):
    out = tmp_path / "run"
    res = subprocess.run(train_cmd(grid_cache, out, "max_steps=4", "ckpt_every=1", "val_every=2", "keep_last=2",
                                   "tensorboard=true"),
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-2000:]
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == ["step_0000003", "step_0000004"]
    model, config = load_model(out / "best")
    assert config["model"]["name"] == "lipnet_tiny" and config["tokenizer"]["name"] == "grid"
    assert config["preprocess"]["preset"] == "lipnet" and config["train"]["max_steps"] == 4
    vals = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines() if "val_wer" in x]
    assert [v["step"] for v in vals] == [2, 4]
    assert config["metrics"]["val_wer"] == min(v["val_wer"] for v in vals)
    assert (out / "config.yaml").is_file()
    assert list((out / "tb").glob("events.out.tfevents.*")), "no TensorBoard event file"


def test_resume_without_checkpoint_and_bad_key_are_clear_errors(grid_cache, tmp_path):
    from lipread.cli.main import main

    assert main(["train", str(RECIPE), f"data.cache={grid_cache}", f"out_dir={tmp_path / 'x'}", "--resume"]) == 1
    with pytest.raises(ConfigError, match="optim.lr"):
        load_train_config(str(RECIPE), ["optim.lrr=1"])
    with pytest.raises(ConfigError, match="data.cache"):
        from lipread.train.loop import Trainer

        Trainer(load_train_config(str(RECIPE), [f"out_dir={tmp_path / 'y'}"]))


def test_resume_of_a_run_stopped_before_its_first_checkpoint_starts_it_again(grid_cache, tmp_path):
    """A run killed before it saved anything can be neither started afresh (its folder holds a run) nor resumed
    (no checkpoint): --resume starts it again from step 0, setting its old metrics aside."""
    out = tmp_path / "run"
    out.mkdir()
    (out / "config.yaml").write_text("max_steps: 1\n")
    (out / "metrics.jsonl").write_text('{"step": 1, "loss": 9.0}\n')
    proc = subprocess.run(train_cmd(grid_cache, out, "max_steps=1", "ckpt_every=1") + ["--resume"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "nothing to resume; starting it again from step 0" in proc.stderr
    assert (out / "metrics.jsonl.before-restart").read_text() == '{"step": 1, "loss": 9.0}\n'
    steps = [json.loads(x)["step"] for x in (out / "metrics.jsonl").read_text().splitlines()]
    assert steps and steps[0] == 1 and 9.0 not in [json.loads(x).get("loss") for x in
                                                   (out / "metrics.jsonl").read_text().splitlines()]
    assert list((out / "checkpoints").glob("step_*"))


def test_corrupt_checkpoint_is_a_clear_error(grid_cache, tmp_path):
    out = tmp_path / "run"
    subprocess.run(train_cmd(grid_cache, out, "max_steps=1", "ckpt_every=1"), check=True, capture_output=True,
                   timeout=600)
    (out / "best" / "model.safetensors").write_bytes(b"not safetensors")
    with pytest.raises(CheckpointError, match="corrupt"):
        load_model(out / "best")


def test_learning_rate_schedule():
    cfg = load_train_config(None, ["optim.lr=1.0", "optim.warmup_steps=10", "optim.min_lr_ratio=0.1",
                                   "max_steps=110"])
    assert lr_at(0, cfg) == pytest.approx(0.1)
    assert lr_at(9, cfg) == pytest.approx(1.0)
    assert lr_at(60, cfg) == pytest.approx(0.55)
    assert lr_at(110, cfg) == pytest.approx(0.1)


DDP_SCRIPT = r"""
import sys
from safetensors.torch import save_file
from lipread.train.config import load_train_config
from lipread.train.loop import Trainer
recipe, out, *over = sys.argv[1:]
cfg = load_train_config(recipe, over + [f"out_dir={out}"])
trainer = Trainer(cfg)
rank = trainer.dist.rank
trainer.fit()
save_file({k: v.contiguous() for k, v in trainer.model.state_dict().items()}, f"{out}/rank{rank}.safetensors")
"""


def test_torchrun_two_ranks_keep_identical_weights(grid_cache, tmp_path):
    from safetensors.torch import load_file

    script = tmp_path / "ddp_train.py"
    script.write_text(DDP_SCRIPT)
    out = tmp_path / "ddp"
    out.mkdir()
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--master_port=29533",
           str(script), str(RECIPE), str(out), f"data.cache={grid_cache}", *TINY, "max_steps=3", "val_every=1000",
           "ckpt_every=1000"]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert res.returncode == 0, res.stderr[-3000:]
    a, b = load_file(str(out / "rank0.safetensors")), load_file(str(out / "rank1.safetensors"))
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k
    assert sorted(losses(out)) == [1, 2, 3]


def test_align_head_training_lowers_both_losses_and_needs_the_head(grid_cache, tmp_path):
    from lipread.train.loop import Trainer

    out = tmp_path / "align"
    cfg = load_train_config(str(RECIPE), [f"data.cache={grid_cache}", f"out_dir={out}", *TINY, "max_steps=12",
                                          "val_every=1000", "ckpt_every=1000", "align_weight=1.0",
                                          "model.args={input_size: [50, 100], in_chans: 3, align_head: true}"])
    trainer = Trainer(cfg)
    batch = next(iter(trainer.data.train_batches(0, 0, 1)))[0]
    assert batch.frame_labels is not None and (batch.frame_labels > 0).any()
    trainer.fit()
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    loss = [r["loss"] for r in rows if "loss" in r]
    assert loss[-1] < loss[0]
    with pytest.raises(ConfigError, match="align head"):
        Trainer(load_train_config(str(RECIPE), [f"data.cache={grid_cache}", f"out_dir={tmp_path / 'n'}", *TINY,
                                                "align_weight=0.5"]))


def test_channels_last_training_runs_and_saves_ordinary_weights(grid_cache, tmp_path):
    from lipread.train.loop import Trainer

    out = tmp_path / "cl"
    cfg = load_train_config(str(RECIPE), [f"data.cache={grid_cache}", f"out_dir={out}", *TINY, "max_steps=3",
                                          "val_every=1000", "ckpt_every=3", "channels_last=true"])
    trainer = Trainer(cfg)
    conv = next(p for p in trainer.model.parameters() if p.ndim == 5)
    assert conv.is_contiguous(memory_format=torch.channels_last_3d) and not conv.is_contiguous()
    trainer.fit()
    loss = losses(out)
    assert sorted(loss) == [1, 2, 3] and all(math.isfinite(v) for v in loss.values())
    model, _ = load_model(out / "checkpoints" / "step_0000003")
    saved = dict(model.named_parameters())
    for name, p in trainer.model.named_parameters():
        assert torch.equal(saved[name], p.detach()), name
