"""Joining and leaving torchrun's process group: a barrier on success, none on failure."""

from __future__ import annotations

import pytest
import torch
import torch.distributed as dist

from danlu.train.distributed import leave_process_group, process_group

pytestmark = pytest.mark.skipif(not dist.is_available(), reason="torch.distributed missing")


@pytest.fixture
def torchrun_env(tmp_path, monkeypatch):
    """The environment torchrun gives rank 0 of a 2-process job; records the barriers."""
    for key, value in {"RANK": "0", "WORLD_SIZE": "2", "LOCAL_RANK": "0"}.items():
        monkeypatch.setenv(key, value)
    joined: list[int] = []
    barriers: list[int] = []

    def init(*args, **kwargs):  # a one-process gloo group stands in for the 2-process one
        joined.append(1)
        dist.init_process_group.__wrapped__("gloo", init_method=f"file://{tmp_path / 's'}",
                                            rank=0, world_size=1)  # fmt: skip

    real_init, real_barrier = dist.init_process_group, dist.barrier
    init.__wrapped__ = real_init  # type: ignore[attr-defined]
    monkeypatch.setattr(dist, "init_process_group", init)
    monkeypatch.setattr(dist, "barrier", lambda *a, **k: (barriers.append(1), real_barrier()))
    yield joined, barriers
    if dist.is_initialized():
        dist.destroy_process_group()


def test_success_waits_for_every_rank_then_leaves(torchrun_env) -> None:
    joined, barriers = torchrun_env
    with process_group("cpu") as info:
        assert info.rank == 0 and info.world_size == 2 and info.is_main
        assert dist.is_initialized()
        dist.all_reduce(torch.ones(1))
    assert joined == [1] and barriers == [1]
    assert not dist.is_initialized()


def test_failure_leaves_at_once_and_reraises(torchrun_env) -> None:
    _, barriers = torchrun_env
    with pytest.raises(ValueError, match="bad"), process_group("cpu"):
        raise ValueError("bad")
    assert barriers == []  # the other ranks may be inside another collective: no barrier
    assert not dist.is_initialized()


def test_only_the_outer_block_leaves(torchrun_env) -> None:
    """A task's entry point inside a caller's block: the group lives until the outer end."""
    joined, barriers = torchrun_env
    with process_group("cpu"):
        with process_group("cpu"):
            pass
        assert dist.is_initialized() and barriers == []
    assert joined == [1] and barriers == [1]
    assert not dist.is_initialized()


def test_no_torchrun_is_a_no_op() -> None:
    assert not dist.is_initialized()
    leave_process_group(wait=True)
    with process_group("cpu") as info:
        assert not info.enabled and info.is_main
    assert not dist.is_initialized()
