"""Options of ``danlu tabular train`` and ``danlu tabular predict`` (no torch import)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from danlu.config import option
from danlu.errors import UsageError
from danlu.names import ACTIVATIONS, describe
from danlu.train.config import THREADS_HELP, Device, TrainConfig

__all__ = ["LOSSES", "TabularPredictConfig", "TabularTrainConfig"]

# --loss: name -> what it is (train.py maps each to its function)
LOSSES: dict[str, str] = {
    "mse": "mean squared error, regression",
    "mae": "mean absolute error, regression",
    "ce": "softmax cross-entropy, classification",
}
Loss = Literal[("auto", *LOSSES)]  # type: ignore[valid-type]

# Training defaults that suit small tables: a longer run, with the best validation
# checkpoint kept (val_loss is tracked; --patience turns on early stopping).
_TABULAR_TRAIN = TrainConfig(epochs=100, batch_size=64, lr=1e-3, early_stop_metric="val_loss")


@dataclass(frozen=True)
class TabularTrainConfig:
    """``danlu tabular train``: an MLP (or linear/logistic model) on a CSV table."""

    data: str = option(help="CSV file with a header row")
    target: str = option(help="column to predict (a repeated header name means its last copy)")
    out: str = option("runs/tabular", help="run folder to write")
    task: Literal["auto", "regression", "classification"] = option(
        "auto", help="auto: classification if the target is not numeric or --loss ce"
    )
    hidden: tuple[int, ...] = option(
        (64, 32), help="hidden layer widths, comma separated; '' for a linear/logistic model"
    )
    activation: str = option("relu", help=f"hidden-layer activation: {', '.join(ACTIVATIONS)}")
    loss: Loss = option("auto", help=f"auto: ce to classify, mse to regress; {describe(LOSSES)}")
    dropout: float = option(0.0, help="dropout after each hidden layer")
    l1: float = option(0.0, help="L1 penalty l1 * sum|w| on the weight matrices")
    drop: tuple[str, ...] = option((), help="columns to ignore, comma separated (e.g. id)")
    features: tuple[str, ...] = option((), help="use only these columns (empty: all others)")
    select: int = option(
        0, help="keep the K features most related to the target, scored on training rows (0: all)"
    )
    val_fraction: float = option(0.2, help="share of rows held out for validation (0: none)")
    folds: int = option(0, help="K-fold cross-validation with K folds (0: a single split)")
    split_seed: int = option(0, help="seed of the validation split / fold assignment")
    train: TrainConfig = option(default_factory=lambda: _TABULAR_TRAIN, embed=True)

    def __post_init__(self) -> None:
        if self.activation not in ACTIVATIONS:
            raise UsageError(f"unknown activation {self.activation!r}; valid: "
                             f"{', '.join(ACTIVATIONS)}")  # fmt: skip
        if not 0.0 <= self.val_fraction < 1.0:
            raise UsageError(f"--val-fraction must be in [0, 1), got {self.val_fraction}")
        if self.folds == 1 or self.folds < 0:
            raise UsageError(f"--folds must be 0 (off) or >= 2, got {self.folds}")
        if not 0.0 <= self.dropout < 1.0:
            raise UsageError(f"--dropout must be in [0, 1), got {self.dropout}")
        if self.select < 0:
            raise UsageError(f"--select must be >= 0, got {self.select}")
        if self.l1 < 0:
            raise UsageError(f"--l1 must be >= 0, got {self.l1}")
        if any(h < 1 for h in self.hidden):
            raise UsageError(f"--hidden widths must be >= 1, got {','.join(map(str, self.hidden))}")
        if self.task == "regression" and self.loss == "ce":
            raise UsageError("--loss ce is for classification; use mse or mae for regression")
        if self.task == "classification" and self.loss in ("mse", "mae"):
            raise UsageError(f"--loss {self.loss} is for regression; use ce for classification")


@dataclass(frozen=True)
class TabularPredictConfig:
    """``danlu tabular predict``: apply a trained run folder to a CSV file."""

    model: str = option(help="run folder written by danlu tabular train")
    data: str = option(help="CSV file with the same feature columns")
    out: str = option("", help="CSV file to write (empty: standard output)")
    batch_size: int = option(1024, help="rows per forward pass")
    device: Device = option("auto", help="where to run")
    threads: int = option(0, help=THREADS_HELP)
