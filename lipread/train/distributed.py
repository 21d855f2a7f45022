"""Process-group setup for ``torchrun`` (DistributedDataParallel): gloo on CPU, nccl on GPU.

Launch: ``torchrun --nproc_per_node=N -m lipread train RECIPE.yaml`` (add ``--nnodes`` and a
rendezvous endpoint for several machines). Without torchrun's environment, training runs in one process.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass
class DistInfo:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def resolve_device(name: str, info: DistInfo) -> torch.device:
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and info.enabled:
        name = f"cuda:{info.local_rank}"
    return torch.device(name)


def init_distributed(device: str) -> DistInfo:
    """Join the process group torchrun describes in the environment (no-op when not under torchrun)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistInfo()
    info = DistInfo(int(os.environ["RANK"]), world, int(os.environ.get("LOCAL_RANK", "0")))
    use_cuda = device.startswith("cuda") or (device == "auto" and torch.cuda.is_available())
    if use_cuda:
        torch.cuda.set_device(info.local_rank)
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if use_cuda else "gloo")
    return info


def all_reduce_mean(value: float, info: DistInfo, device: torch.device) -> float:
    if not info.enabled:
        return value
    t = torch.tensor([value], dtype=torch.float64, device=device)
    dist.all_reduce(t)
    return float(t.item()) / info.world_size


def broadcast_buffers(module: torch.nn.Module, info: DistInfo) -> None:
    """Copy rank 0's buffers (BatchNorm running statistics) to every rank.

    DDP broadcasts buffers at the start of each forward, so after the last step each rank's running
    statistics reflect its own last batch; this makes the final models identical on every rank.
    """
    if info.enabled:
        for buf in module.buffers():
            dist.broadcast(buf, src=0)


def cleanup(info: DistInfo) -> None:
    if info.enabled and dist.is_initialized():
        dist.destroy_process_group()


# ---- launching: torchrun's arguments, checked before any process waits on a rendezvous -------------
def _given(argv: list[str], name: str) -> bool:
    """Whether torchrun option ``--name`` appears in ``argv`` (either spelling, ``--x v`` or ``--x=v``)."""
    spellings = {name, name.replace("-", "_").replace("__", "--", 1)}
    return any(arg.split("=", 1)[0] in spellings for arg in argv)


def check_launch(argv: list[str]) -> None:
    """Refuse torchrun arguments that would hang instead of training (ConfigError with the fix).

    ``--nnodes`` above 1 (or ``MIN:MAX`` with MAX above 1) needs a way for the nodes to meet: a c10d
    rendezvous (``--rdzv-backend c10d --rdzv-endpoint HOST:PORT --rdzv-id JOB``, the way torchrun documents
    elastic jobs) or a static one (``--master-addr HOST --master-port PORT --node-rank K`` on every node).
    Without it each node waits for the others on its own localhost until torchrun's timeout.
    """
    from torch.distributed.run import get_args_parser

    from lipread.errors import ConfigError

    try:
        args = get_args_parser().parse_args(argv)
    except SystemExit:
        raise ConfigError(f"torchrun does not accept the arguments {' '.join(argv)!r}",
                          fix="See torchrun --help.") from None
    nnodes = str(args.nnodes)
    try:
        most = int(nnodes.split(":")[-1])
    except ValueError:
        raise ConfigError(f"--nnodes {nnodes!r} is not N or MIN:MAX", fix="E.g. --nnodes 4 or --nnodes 2:4.") from None
    if most <= 1:
        return
    backend, endpoint = args.rdzv_backend, args.rdzv_endpoint
    master = _given(argv, "--master-addr")
    if backend != "static":
        if not endpoint:
            raise ConfigError(
                f"--nnodes {nnodes} with --rdzv-backend {backend} but no rendezvous endpoint: every node would wait "
                "for the others on its own localhost",
                fix="Add --rdzv-endpoint HOST:PORT (a host all nodes reach, e.g. the first node) and --rdzv-id JOB.",
            )
        return
    if not (endpoint or master) or not _given(argv, "--node-rank"):
        raise ConfigError(
            f"--nnodes {nnodes} with no rendezvous endpoint: every node would wait for the others on its own "
            "localhost",
            fix="Use --rdzv-backend c10d --rdzv-endpoint HOST:PORT --rdzv-id JOB (elastic; survives a restarted "
                "node), or --master-addr HOST --master-port PORT --node-rank K on each node.",
        )


def launch(argv: list[str]) -> int:
    """``python -m lipread.train.launch TORCHRUN-ARGS``: check them, then run torchrun in this process."""
    check_launch(argv)
    from torch.distributed.run import main as torchrun_main

    torchrun_main(argv)
    return 0
