"""The trainer under ``torchrun --nproc_per_node 2`` on the CPU (gloo), and launch-argument checks.

One uninterrupted two-process run is the reference for everything: the ranks see disjoint batches,
the DDP gradient equals a single process's gradient on the two ranks' batches together (tolerance
below), only rank 0 writes checkpoints, both ranks end with the same weights; a second two-process
run killed after its first checkpoint and restarted with ``auto_resume=true`` (what torchrun's
``--max-restarts`` does after a lost node) ends with the reference's losses and weights.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from test_train import RECIPE, losses  # the single-process tests' recipe and metrics reader

from lipread.data.sampler import FrameBudgetBatchSampler
from lipread.errors import ConfigError
from lipread.train.distributed import check_launch

TINY = [
    "model.name=lipnet_tiny",
    "model.args={input_size: [50, 100], in_chans: 3, dropout: 0.2}",
    "data.batch_size=2",
    "data.num_workers=0",
    "optim.warmup_steps=2",
    "optim.lr=0.003",
    "log_every=1",
    "tensorboard=false",
    "threads=1",
    "max_steps=6",
    "ckpt_every=2",
    "val_every=1000",
    "keep_last=5",
]
GRAD_RTOL = 1e-4
"""DDP's averaged gradient vs one process on both batches: relative to the gradient's largest entry.
Float32 sums in a different order differ by ~1e-7 relative; 1e-4 leaves room and still catches a
wrong average (a factor 2) or a rank's batch left out (differences of order 1)."""

SCRIPT = r"""
import json, sys
import torch
import torch.distributed as dist
from safetensors.torch import save_file
import lipread.train.loop as loop
from lipread.models.ctc import ctc_loss
from lipread.train.config import load_train_config
from lipread.train.loop import Trainer

recipe, out, check, *over = sys.argv[1:]
cfg = load_train_config(recipe, over + [f"out_dir={out}"])
writes = []
for name in ("save_training_checkpoint", "save_model"):
    real = getattr(loop, name)
    def wrapped(path, *a, _real=real, **k):
        writes.append(str(path))
        return _real(path, *a, **k)
    setattr(loop, name, wrapped)
trainer = Trainer(cfg)
rank, world = trainer.dist.rank, trainer.dist.world_size

if check == "check":
    # gradient of one step through DDP vs one process on both ranks' batches (eval mode: BatchNorm
    # uses its running statistics, so per-rank and global batches normalize alike; no dropout)
    batch = next(iter(trainer.data.train_batches(0, 0, 1)))[0]
    trainer.ddp.eval()
    log_probs, lengths = trainer.ddp(batch.video, batch.video_lengths)
    ctc_loss(log_probs, lengths, batch.targets, batch.target_lengths).backward()
    ddp_grads = {n: p.grad.clone() for n, p in trainer.model.named_parameters()}
    trainer.optimizer.zero_grad(set_to_none=True)
    batches = [None] * world
    dist.all_gather_object(batches, (batch.video, batch.video_lengths, batch.targets, batch.target_lengths))
    if rank == 0:
        frames = max(b[0].shape[2] for b in batches)  # (B, C, T, H, W): pad T as collate does
        video = torch.cat([torch.nn.functional.pad(b[0], (0, 0, 0, 0, 0, frames - b[0].shape[2])) for b in batches])
        vlen = torch.cat([b[1] for b in batches])
        width = max(b[2].shape[1] for b in batches)
        targets = torch.cat([torch.nn.functional.pad(b[2], (0, width - b[2].shape[1])) for b in batches])
        tlen = torch.cat([b[3] for b in batches])
        model = trainer.model
        lp, ol = model(video, vlen)
        ctc_loss(lp, ol, targets, tlen).backward()
        worst = 0.0
        for n, p in model.named_parameters():
            scale = max(float(p.grad.abs().max()), 1e-12)
            worst = max(worst, float((p.grad - ddp_grads[n]).abs().max()) / scale)
        json.dump({"worst_relative_diff": worst, "global_batch": int(video.shape[0])}, open(f"{out}/grad_check.json", "w"))
        trainer.optimizer.zero_grad(set_to_none=True)
    dist.barrier()

seen = []
real_batches = trainer.data.train_batches
def recording(epoch, start, accumulate):
    for group in real_batches(epoch, start, accumulate):
        seen.append([list(b.ids) for b in group])
        yield group
trainer.data.train_batches = recording
trainer.fit()
json.dump({"batches": seen, "writes": writes}, open(f"{out}/rank{rank}.json", "w"))
save_file({k: v.contiguous() for k, v in trainer.model.state_dict().items()}, f"{out}/rank{rank}.safetensors")
"""


def torchrun(script: Path, out: Path, cache: Path, check: str, port: int, *extra: str) -> list[str]:
    return [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", f"--master_port={port}",
            str(script), str(RECIPE), str(out), check, f"data.cache={cache}", *TINY, *extra]


def env() -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": "1"}


@pytest.fixture(scope="module")
def reference(grid_cache, tmp_path_factory):
    """One uninterrupted two-process run (with the gradient check before it)."""
    tmp = tmp_path_factory.mktemp("ddp")
    script = tmp / "ddp_train.py"
    script.write_text(SCRIPT)
    out = tmp / "reference"
    out.mkdir()
    res = subprocess.run(torchrun(script, out, grid_cache, "check", 29541), capture_output=True, text=True,
                         timeout=600, cwd=tmp, env=env())
    assert res.returncode == 0, res.stderr[-3000:]
    return script, out


@pytest.mark.grid
def test_two_ranks_see_disjoint_batches_and_keep_identical_weights(reference):
    from safetensors.torch import load_file

    _, out = reference
    r0, r1 = (json.loads((out / f"rank{r}.json").read_text()) for r in (0, 1))
    assert len(r0["batches"]) == len(r1["batches"]) == 6
    for g0, g1 in zip(r0["batches"], r1["batches"]):
        ids0, ids1 = {i for b in g0 for i in b}, {i for b in g1 for i in b}
        assert ids0 and ids1 and not ids0 & ids1, (ids0, ids1)
    a, b = load_file(str(out / "rank0.safetensors")), load_file(str(out / "rank1.safetensors"))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert sorted(losses(out)) == list(range(1, 7))


@pytest.mark.grid
def test_ddp_gradient_equals_one_process_on_the_global_batch(reference):
    _, out = reference
    check = json.loads((out / "grad_check.json").read_text())
    assert check["global_batch"] == 4
    print(f"DDP vs one process: largest gradient difference {check['worst_relative_diff']:.2e} of the largest entry")
    assert check["worst_relative_diff"] < GRAD_RTOL, check


@pytest.mark.grid
def test_checkpoints_are_written_once_by_rank_zero(reference):
    _, out = reference
    r0, r1 = (json.loads((out / f"rank{r}.json").read_text()) for r in (0, 1))
    assert r1["writes"] == []
    ckpts = [w for w in r0["writes"] if "checkpoints" in w]
    assert [Path(w).name for w in ckpts] == ["step_0000002", "step_0000004", "step_0000006"]
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == ["step_0000002", "step_0000004", "step_0000006"]
    assert not list(out.rglob("*.tmp*")), "temporary files left behind"


@pytest.mark.grid
def test_killed_two_process_run_resumes_to_the_same_result(reference, grid_cache):
    from safetensors.torch import load_file

    script, ref = reference
    run = ref.parent / "killed"
    run.mkdir()
    cmd = torchrun(script, run, grid_cache, "nocheck", 29542, "auto_resume=true")
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                            cwd=run.parent, env=env())
    deadline = time.time() + 300
    while not (run / "checkpoints" / "step_0000002" / "trainer_state.json").exists():
        assert proc.poll() is None, "training exited before its first checkpoint"
        assert time.time() < deadline
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)  # the whole "node": the agent and both workers
    proc.wait()
    done = sorted(p.name for p in (run / "checkpoints").glob("step_*"))
    assert "step_0000006" not in done, "the run finished before it could be killed"
    # the same command line again, as torchrun --max-restarts or a resubmitted job would run it
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=run.parent, env=env())
    assert res.returncode == 0, res.stderr[-3000:]
    resumed, reference_losses = losses(run), losses(ref)
    assert sorted(resumed) == list(range(1, 7))
    for step in range(1, 7):
        assert resumed[step] == pytest.approx(reference_losses[step], rel=1e-5, abs=1e-6), step
    a, b = load_file(str(ref / "rank0.safetensors")), load_file(str(run / "rank0.safetensors"))
    for k in a:
        assert torch.allclose(a[k], b[k], rtol=1e-5, atol=1e-6), k


def test_batch_sampler_ranks_are_disjoint_and_cover_the_epoch():
    lengths = [75 - (i % 7) for i in range(40)]
    ranks = [FrameBudgetBatchSampler(lengths, max_frames=300, max_batch_size=8, seed=3, num_replicas=2, rank=r)
             for r in (0, 1)]
    b0, b1 = ranks[0].batches(0), ranks[1].batches(0)
    assert len(b0) == len(b1)
    ids0, ids1 = {i for b in b0 for i in b}, {i for b in b1 for i in b}
    assert not ids0 & ids1
    assert all(len(b) * max(lengths[i] for i in b) <= 300 for b in b0 + b1)
    single = FrameBudgetBatchSampler(lengths, max_frames=300, max_batch_size=8, seed=3).batches(0)
    assert sorted(map(sorted, b0 + b1)) == sorted(map(sorted, single[: 2 * len(b0)]))


@pytest.mark.parametrize("argv, problem", [
    ("--nnodes 2 --nproc_per_node 2 -m lipread train r.yaml", "no rendezvous endpoint"),
    ("--nnodes=4 --nproc-per-node=8 --rdzv-backend=c10d --rdzv-id=7 -m lipread train r.yaml", "no rendezvous endpoint"),
    ("--nnodes 1:4 --rdzv_backend c10d -m lipread train r.yaml", "no rendezvous endpoint"),
    ("--nnodes 2 --master-addr node0 --master-port 29500 -m lipread train r.yaml", "no rendezvous endpoint"),
])
def test_multi_node_launch_without_rendezvous_is_a_clear_error(argv, problem):
    with pytest.raises(ConfigError, match=problem) as err:
        check_launch(argv.split())
    assert "--rdzv-endpoint HOST:PORT" in err.value.fix


@pytest.mark.parametrize("argv", [
    "--nproc_per_node 2 -m lipread train r.yaml",
    "--nnodes 1 --nproc_per_node 2 -m lipread train r.yaml",
    "--nnodes 4 --nproc_per_node 8 --rdzv-backend c10d --rdzv-endpoint node0:29400 --rdzv-id job -m lipread train r",
    "--nnodes 2 --node-rank 1 --master-addr node0 --master-port 29500 -m lipread train r.yaml",
])
def test_valid_launches_pass_the_check(argv):
    check_launch(argv.split())


def test_launch_module_prints_the_error_and_exits_non_zero(capsys):
    from lipread.train.launch import main

    assert main(["--nnodes", "2", "-m", "lipread", "train", "r.yaml"]) == 1
    assert "no rendezvous endpoint" in capsys.readouterr().err
