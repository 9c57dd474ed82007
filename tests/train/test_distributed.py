"""Leaving torchrun's process group: a barrier on success, none on failure."""

from __future__ import annotations

import pytest
import torch
import torch.distributed as dist

from danlu.cli import _leave_process_group
from danlu.train.distributed import leave_process_group, leaving_process_group

pytestmark = pytest.mark.skipif(not dist.is_available(), reason="torch.distributed missing")


@pytest.fixture
def group(tmp_path, monkeypatch):
    """A one-process gloo group; records the barriers taken."""
    dist.init_process_group("gloo", init_method=f"file://{tmp_path / 'store'}", rank=0,
                            world_size=1)  # fmt: skip
    barriers: list[int] = []
    real = dist.barrier
    monkeypatch.setattr(dist, "barrier", lambda *a, **k: (barriers.append(1), real(*a, **k)))
    yield barriers
    if dist.is_initialized():
        dist.destroy_process_group()


def test_success_waits_for_every_rank_then_leaves(group) -> None:
    with leaving_process_group():
        dist.all_reduce(torch.ones(1))
    assert group == [1]
    assert not dist.is_initialized()


def test_failure_leaves_at_once_and_reraises(group) -> None:
    with pytest.raises(ValueError, match="bad"), leaving_process_group():
        raise ValueError("bad")
    assert group == []  # the other ranks may be inside another collective: no barrier
    assert not dist.is_initialized()


def test_cli_leaves_the_group_the_command_joined(group) -> None:
    _leave_process_group(wait=True)
    assert group == [1]
    assert not dist.is_initialized()


def test_no_group_is_a_no_op() -> None:
    assert not dist.is_initialized()
    leave_process_group(wait=True)
    with leaving_process_group():
        pass
