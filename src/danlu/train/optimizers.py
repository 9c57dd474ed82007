"""Optimizer and learning-rate schedule of a run, built from ``TrainConfig`` options.

Both go through :mod:`danlu.optim`'s factories: ``--optimizer`` accepts every name of
:func:`danlu.optim.optimizer_names` (``adamw``, ``momentum``, ``lookahead_adam``, ...) and
``--schedule`` every name of :func:`danlu.optim.schedule_names`, with its parameters in
``--schedule-args "T_0=100;T_mult=2"``. Weight decay skips biases and norm weights.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from danlu.errors import UsageError
from danlu.optim import EMA, as_lr_scheduler, create_optimizer, create_schedule
from danlu.train.config import TrainConfig

__all__ = ["build_optimizer", "build_scheduler", "parse_schedule_args"]

_MOMENTUM_BASES = ("sgd", "momentum", "nesterov", "rmsprop")


def build_optimizer(model: nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    """The optimizer named by ``--optimizer`` with ``--lr``, ``--weight-decay``, ``--momentum``,
    wrapped in :class:`danlu.optim.EMA` when ``--ema`` is set."""
    kwargs: dict[str, Any] = {}
    if config.momentum is not None:
        if not config.optimizer.endswith(_MOMENTUM_BASES):
            raise UsageError(
                f"--momentum applies to {', '.join(_MOMENTUM_BASES)}, not {config.optimizer!r}"
            )
        kwargs["momentum"] = config.momentum
    optimizer = create_optimizer(
        config.optimizer, model, lr=config.lr, weight_decay=config.weight_decay, **kwargs
    )
    return EMA(optimizer, decay=config.ema) if config.ema > 0 else optimizer


def parse_schedule_args(text: str) -> dict[str, Any]:
    """``"T_0=100;T_mult=2"`` -> ``{"T_0": 100, "T_mult": 2}`` (numbers parsed, rest kept)."""
    params: dict[str, Any] = {}
    for item in filter(None, (part.strip() for part in text.split(";"))):
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(
                f"invalid --schedule-args item {item!r}; expected key=value pairs separated "
                "by ';', e.g. 'T_0=100;T_mult=2'"
            )
        value: Any = raw.strip()
        for convert in (int, float):
            try:
                value = convert(value)
                break
            except ValueError:
                continue
        params[key.strip()] = value
    return params


def build_scheduler(
    optimizer: torch.optim.Optimizer, config: TrainConfig, total_steps: int
) -> torch.optim.lr_scheduler.LambdaLR:
    """``--schedule`` (after ``--warmup`` linear warm-up steps) as a LambdaLR multiplier."""
    params = parse_schedule_args(config.schedule_args)
    try:
        schedule = create_schedule(
            config.schedule, total_steps=max(total_steps, config.warmup + 1),
            warmup=config.warmup, **params,
        )  # fmt: skip
    except ValueError as exc:
        raise UsageError(f"--schedule {config.schedule}: {exc}") from None
    return as_lr_scheduler(optimizer, schedule)
