"""``danlu tabular train|predict`` (handlers import torch, and the configs their module,
only when they run)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from danlu.tasks.command import Command, TrainEntry, training_command

if TYPE_CHECKING:
    from danlu.tasks.tabular.config import TabularPredictConfig

__all__ = ["COMMANDS"]

_CONFIG = "danlu.tasks.tabular.config"  # imported when one of these commands is chosen


def _trainer() -> TrainEntry:
    from danlu.tasks.tabular.train import describe, train_tabular

    return train_tabular, describe


def _predict(cfg: TabularPredictConfig) -> int:
    from danlu.tasks.tabular.predict import predict_tabular

    result = predict_tabular(cfg)
    if len(result) > 1:  # the file had the target column: show how well we did
        shown = " ".join(f"{k} {v:.5g}" for k, v in result.items() if k != "rows")
        print(f"{result['rows']} rows: {shown}", file=sys.stderr)
    return 0


COMMANDS: tuple[Command, ...] = (
    Command(("tabular", "train"), f"{_CONFIG}:TabularTrainConfig",
            training_command(_trainer, lambda cfg: cfg.train.quiet),
            "train a regression/classification MLP on a CSV table"),
    Command(("tabular", "predict"), f"{_CONFIG}:TabularPredictConfig", _predict,
            "predict a CSV table with a trained run folder"),
)  # fmt: skip
