"""Evaluation metrics."""

from danlu.metrics.classification import (
    accuracy,
    classification_metrics,
    confusion_matrix,
    macro_f1,
)
from danlu.metrics.regression import mae, mse, r2, regression_metrics, rmse

__all__ = [
    "accuracy",
    "classification_metrics",
    "confusion_matrix",
    "macro_f1",
    "mae",
    "mse",
    "r2",
    "regression_metrics",
    "rmse",
]
