"""Optimizer and learning-rate schedule for a run, from the ``TrainConfig`` options."""

from __future__ import annotations

import math

import torch
from torch import nn

from danlu.errors import UsageError
from danlu.train.config import TrainConfig

__all__ = ["build_optimizer", "build_scheduler"]

_OPTIMIZERS = ("sgd", "adam", "adamw")
_SCHEDULES = ("constant", "cosine", "linear")


def build_optimizer(model: nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    """The optimizer named by ``--optimizer`` with ``--lr`` and ``--weight-decay``."""
    params = [p for p in model.parameters() if p.requires_grad]
    name, lr, wd = config.optimizer, config.lr, config.weight_decay
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=config.momentum, weight_decay=wd)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=wd)
    if name == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=wd)
    raise UsageError(f"unknown optimizer {name!r}; valid: {', '.join(_OPTIMIZERS)}")


def build_scheduler(
    optimizer: torch.optim.Optimizer, config: TrainConfig, total_steps: int
) -> torch.optim.lr_scheduler.LambdaLR:
    """``--schedule`` after ``--warmup`` linear warm-up steps, as a LambdaLR."""
    name, warmup = config.schedule, config.warmup
    if name not in _SCHEDULES:
        raise UsageError(f"unknown schedule {name!r}; valid: {', '.join(_SCHEDULES)}")

    def multiplier(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        if name == "constant":
            return 1.0
        t = min(1.0, (step - warmup) / max(1, total_steps - warmup))
        return 0.5 * (1 + math.cos(math.pi * t)) if name == "cosine" else 1.0 - t

    return torch.optim.lr_scheduler.LambdaLR(optimizer, multiplier)
