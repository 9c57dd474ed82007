"""Shared helpers for danlu.optim tests: a small float64 network, fixed batches, a loop."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

Batches = list[tuple[torch.Tensor, torch.Tensor]]


def make_net(seed: int = 0) -> nn.Module:
    """6 -> 12 -> 3 MLP with a LayerNorm, float64, fixed initialisation."""
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(6, 12), nn.LayerNorm(12), nn.Tanh(), nn.Linear(12, 3)).double()


def make_batches(n: int = 100, batch: int = 16, seed: int = 1) -> Batches:
    gen = torch.Generator().manual_seed(seed)
    return [
        (
            torch.randn(batch, 6, generator=gen, dtype=torch.float64),
            torch.randn(batch, 3, generator=gen, dtype=torch.float64),
        )
        for _ in range(n)
    ]


def train(
    model: nn.Module,
    opt: torch.optim.Optimizer,
    batches: Batches,
    before_step: Callable[[torch.optim.Optimizer, int], None] | None = None,
) -> list[float]:
    """Plain loop: zero_grad, MSE loss, backward, optional hook, step. Returns the losses."""
    losses = []
    for t, (x, y) in enumerate(batches):
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(x), y)
        loss.backward()
        if before_step is not None:
            before_step(opt, t)
        opt.step()
        losses.append(loss.item())
    return losses


def flat_params(model: nn.Module) -> torch.Tensor:
    return torch.cat([p.detach().flatten() for p in model.parameters()])
