"""Data parallelism across processes and machines with ``torchrun``.

Launch any danlu training command under torchrun and it runs data-parallel::

    torchrun --nproc-per-node 2 -m danlu tabular train --data d.csv --target y --out run
    # two machines, 4 processes each (run on both, with node-rank 0 and 1):
    torchrun --nnodes 2 --nproc-per-node 4 --node-rank 0 \
        --rdzv-backend c10d --rdzv-endpoint host0:29500 -m danlu tabular train ...

Backend: gloo on CPU, nccl on CUDA. Each process takes an equal slice of the *global*
batch (``--batch-size``); DDP averages the gradients, so the update equals a single
process stepping on the whole batch. Only rank 0 writes files. A task's training entry point
joins the group and leaves it when it ends, all ranks together (:func:`process_group`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch
import torch.distributed as dist

__all__ = [
    "DistInfo",
    "all_reduce_mean",
    "barrier",
    "leave_process_group",
    "process_group",
    "setup_distributed",
]


@dataclass(frozen=True)
class DistInfo:
    """Where this process sits in the job. A plain run is rank 0 of 1."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def launched_by_torchrun() -> bool:
    return "WORLD_SIZE" in os.environ and "RANK" in os.environ


def setup_distributed(device_type: str) -> DistInfo:
    """Join the torchrun process group (gloo on CPU, nccl on CUDA); no-op otherwise."""
    if not launched_by_torchrun() or int(os.environ["WORLD_SIZE"]) == 1:
        return DistInfo()
    info = DistInfo(
        rank=int(os.environ["RANK"]),
        world_size=int(os.environ["WORLD_SIZE"]),
        local_rank=int(os.environ.get("LOCAL_RANK", "0")),
    )
    if not dist.is_initialized():
        backend = "nccl" if device_type == "cuda" else "gloo"
        if backend == "nccl":
            torch.cuda.set_device(info.local_rank)
        dist.init_process_group(backend=backend)
    return info


def all_reduce_mean(value: torch.Tensor, info: DistInfo) -> torch.Tensor:
    """Average a tensor over all processes (identity for a single process)."""
    if not info.enabled:
        return value
    value = value.clone()
    dist.all_reduce(value, op=dist.ReduceOp.SUM)
    return value / info.world_size


def barrier(info: DistInfo) -> None:
    if info.enabled:
        dist.barrier()


def leave_process_group(*, wait: bool) -> None:
    """Leave torchrun's process group if this process is in one (no-op otherwise).

    ``wait=True`` (the run succeeded): every rank first waits at a barrier, so no rank exits
    while rank 0 still writes the run folder. A rank that left early and exited aborted now
    and then inside torch's teardown ("terminate called without an active exception",
    about 1 run in 5 with gloo). ``wait=False`` (an exception is on its way): leave at
    once; the other ranks may be inside another collective, and torchrun stops them.
    """
    if dist.is_available() and dist.is_initialized():
        if wait:
            dist.barrier()
        dist.destroy_process_group()


@contextmanager
def process_group(device: str = "auto") -> Iterator[DistInfo]:
    """Join torchrun's process group for a block, then leave it; a plain run is rank 0 of 1.

    The group is joined with the backend for ``device`` (gloo on the CPU, nccl on CUDA) and
    left when the block ends: after a barrier if it succeeded, at once if it raised (see
    :func:`leave_process_group`). Only the ``with`` that joined the group leaves it, so a
    task's entry point and a caller around it can both use one. Every task entry point that
    trains with torch runs inside one; a library user under torchrun should too.

    Example::

        with process_group(cfg.device) as dist:
            metrics = Trainer(model, loss_fn, data, cfg, "run").fit()
            if dist.is_main:
                ...  # only rank 0 writes extra files
    """
    from danlu.train.device import resolve_device

    joined = not (dist.is_available() and dist.is_initialized())
    info = setup_distributed(resolve_device(device).type)
    joined = joined and info.enabled
    try:
        yield info
    except BaseException:
        if joined:
            leave_process_group(wait=False)
        raise
    if joined:
        leave_process_group(wait=True)
