"""The tabular task's entries in ``danlu demo`` (UCI Wine, shipped in the package)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from danlu.tasks.demo_config import Demo, sample_path
from danlu.train.config import TrainConfig

__all__ = ["DEMOS"]


def _tabular(
    target: str, task: str, hidden: tuple[int, ...], **train: Any
) -> Callable[[Path, str], dict]:
    def run(out: Path, device: str) -> dict[str, Any]:
        from danlu.tasks.tabular.config import TabularTrainConfig
        from danlu.tasks.tabular.train import train_tabular

        cfg = TabularTrainConfig(
            data=str(sample_path("wine.csv")),
            target=target,
            task=task,
            out=str(out),
            hidden=hidden,
            val_fraction=0.25,
            train=TrainConfig(
                device=device, quiet=True, early_stop_metric="val_loss", overwrite=True, **train
            ),  # a demo replaces its earlier run
        )
        return train_tabular(cfg)

    return run


DEMOS: tuple[Demo, ...] = (
    Demo("tabular-classification", "tabular classification (MLP, softmax CE)",
         "UCI Wine, 178 rows: cultivar", "val_accuracy",
         _tabular("cultivar", "classification", (32,), epochs=60, batch_size=16, lr=3e-3)),
    Demo("tabular-regression", "tabular regression (MLP, MSE)",
         "UCI Wine, 178 rows: alcohol %", "val_r2",
         _tabular("alcohol", "regression", (32,), epochs=80, batch_size=16, lr=3e-3,
                  weight_decay=1e-2)),
)  # fmt: skip
