"""Evaluation metrics."""

from danlu.metrics.classification import (
    accuracy,
    classification_metrics,
    confusion_matrix,
    macro_f1,
)
from danlu.metrics.entities import entity_scores, entity_spans, format_entity_table
from danlu.metrics.regression import mae, mse, r2, regression_metrics, rmse
from danlu.metrics.segmentation import segmentation_scores, word_spans

__all__ = [
    "accuracy",
    "classification_metrics",
    "confusion_matrix",
    "entity_scores",
    "entity_spans",
    "format_entity_table",
    "macro_f1",
    "mae",
    "mse",
    "r2",
    "regression_metrics",
    "rmse",
    "segmentation_scores",
    "word_spans",
]
