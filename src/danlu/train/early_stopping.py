"""Early stopping on a watched metric (``--early-stop-metric``, ``--patience``)."""

from __future__ import annotations

import math
from typing import Any

from danlu.errors import UsageError

__all__ = ["EarlyStopping", "infer_mode"]

_MAX_WORDS = ("acc", "accuracy", "f1", "precision", "recall", "auc", "bleu", "r2", "p@", "r@")


def infer_mode(metric: str) -> str:
    """``max`` for scores (accuracy, F1, BLEU, R²), ``min`` for losses and errors."""
    name = metric.lower()
    return "max" if any(w in name for w in _MAX_WORDS) else "min"


class EarlyStopping:
    """Track the best value of a metric; say when ``patience`` evaluations bring no gain.

    Args:
        metric: key in the evaluation dict, e.g. ``val_loss``.
        mode: ``min``, ``max`` or ``auto`` (see :func:`infer_mode`).
        patience: evaluations without improvement before stopping; 0 never stops.
        min_delta: improvement smaller than this does not count.

    Example:
        >>> es = EarlyStopping("val_loss", patience=2)
        >>> [es.update({"val_loss": v}, step=i) for i, v in enumerate([3.0, 2.0, 2.5, 2.4])]
        [True, True, False, False]
        >>> es.should_stop, es.best, es.best_step
        (True, 2.0, 1)
    """

    def __init__(self, metric: str, mode: str = "auto", patience: int = 0, min_delta: float = 0.0):
        if mode not in ("auto", "min", "max"):
            raise UsageError(f"invalid early-stopping mode {mode!r}; valid: auto, min, max")
        self.metric = metric
        self.mode = infer_mode(metric) if mode == "auto" else mode
        self.patience = patience
        self.min_delta = min_delta
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_step = -1
        self.bad_evals = 0

    def update(self, metrics: dict[str, float], step: int) -> bool:
        """Feed one evaluation; return True when it is a new best."""
        if self.metric not in metrics:
            raise UsageError(
                f"early-stopping metric {self.metric!r} is not computed by this task; "
                f"valid: {', '.join(sorted(metrics))}"
            )
        value = float(metrics[self.metric])
        if self.mode == "min":
            improved = value < self.best - self.min_delta
        else:
            improved = value > self.best + self.min_delta
        if improved:
            self.best, self.best_step, self.bad_evals = value, step, 0
        else:
            self.bad_evals += 1
        return improved

    @property
    def should_stop(self) -> bool:
        return self.patience > 0 and self.bad_evals >= self.patience

    def state_dict(self) -> dict[str, Any]:
        return {"best": self.best, "best_step": self.best_step, "bad_evals": self.bad_evals}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best = float(state["best"])
        self.best_step = int(state["best_step"])
        self.bad_evals = int(state["bad_evals"])
