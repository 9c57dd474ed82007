"""The training engine: loop, checkpoints, logging, early stopping and torchrun DDP.

Names are imported on first use, so ``danlu.train.config`` (no torch) stays cheap.

Example:
    >>> from danlu.train import Trainer, TrainConfig
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "EarlyStopping",
    "RunLog",
    "TrainConfig",
    "TrainState",
    "Trainer",
    "autocast",
    "check_finite_weights",
    "latest_checkpoint",
    "load_checkpoint",
    "load_safetensors",
    "resolve_device",
    "save_checkpoint",
    "save_safetensors",
    "seed_everything",
]

_WHERE = {
    "EarlyStopping": "early_stopping",
    "RunLog": "run_log",
    "TrainConfig": "config",
    "TrainState": "trainer",
    "Trainer": "trainer",
    "autocast": "device",
    "check_finite_weights": "trainer",
    "latest_checkpoint": "checkpoint",
    "load_checkpoint": "checkpoint",
    "load_safetensors": "checkpoint",
    "resolve_device": "device",
    "save_checkpoint": "checkpoint",
    "save_safetensors": "checkpoint",
    "seed_everything": "seed",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(f"danlu.train.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'danlu.train' has no attribute {name!r}")
