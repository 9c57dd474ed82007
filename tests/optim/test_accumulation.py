"""Gradient accumulation: n micro-batches then one step equals one step on the whole batch."""

from __future__ import annotations

import io

import pytest
import torch
from torch import nn

from danlu.optim import SGD, Adam, GradientAccumulation

from .helpers import flat_params, make_batches, make_net

BATCHES = make_batches(n=6, batch=32)


@pytest.mark.parametrize(
    "make_opt",
    [lambda ps: SGD(ps, lr=0.1, momentum=0.9), lambda ps: Adam(ps, lr=0.01)],
    ids=["sgd_momentum", "adam"],
)
@pytest.mark.parametrize("zero_first", [False, True], ids=["zero_after", "zero_before"])
def test_four_micro_batches_equal_one_full_batch(make_opt, zero_first: bool) -> None:
    full, micro = make_net(), make_net()
    full_opt = make_opt(full.parameters())
    acc = GradientAccumulation(make_opt(micro.parameters()), steps=4)
    stepped = []
    for x, y in BATCHES:
        full_opt.zero_grad()
        nn.functional.mse_loss(full(x), y).backward()
        full_opt.step()
        for xs, ys in zip(x.chunk(4), y.chunk(4), strict=True):  # 4 micro-batches of 8
            if zero_first:
                acc.zero_grad()
            nn.functional.mse_loss(micro(xs), ys).backward()
            acc.step()
            stepped.append(acc.stepped)
            if not zero_first:
                acc.zero_grad()
    assert stepped == [False, False, False, True] * len(BATCHES)
    torch.testing.assert_close(flat_params(micro), flat_params(full), rtol=1e-10, atol=1e-12)


def test_state_dict_keeps_the_micro_step() -> None:
    model = make_net()
    acc = GradientAccumulation(SGD(model.parameters(), lr=0.1), steps=3)
    x, y = BATCHES[0]
    for _ in range(2):
        nn.functional.mse_loss(model(x), y).backward()
        acc.step()
    state = acc.state_dict()
    assert state["accumulation"] == {"steps": 3, "average": True, "micro_step": 2}
    fresh = GradientAccumulation(SGD(make_net().parameters(), lr=0.1), steps=3)
    fresh.load_state_dict(torch.load(io.BytesIO(_save(state)), weights_only=True))
    assert fresh.micro_step == 2


def _save(obj: object) -> bytes:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


def test_invalid_steps() -> None:
    with pytest.raises(
        ValueError, match=r"Invalid accumulation steps: 0 \(must be an integer >= 1\)"
    ):
        GradientAccumulation(SGD(make_net().parameters(), lr=0.1), steps=0)
