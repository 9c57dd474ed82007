"""Evaluation metrics."""

from danlu.metrics.bleu import (
    BleuScore,
    corpus_bleu,
    sacrebleu_scores,
    sacrebleu_tokenizer,
    sentence_bleu,
)
from danlu.metrics.classification import (
    accuracy,
    classification_metrics,
    confusion_matrix,
    macro_f1,
    precision_recall_f1,
)
from danlu.metrics.entities import entity_scores, entity_spans, format_entity_table
from danlu.metrics.regression import mae, mse, r2, regression_metrics, rmse
from danlu.metrics.segmentation import segmentation_scores, word_spans

__all__ = [
    "BleuScore",
    "accuracy",
    "classification_metrics",
    "confusion_matrix",
    "corpus_bleu",
    "entity_scores",
    "entity_spans",
    "format_entity_table",
    "macro_f1",
    "mae",
    "mse",
    "precision_recall_f1",
    "r2",
    "regression_metrics",
    "rmse",
    "sacrebleu_scores",
    "sacrebleu_tokenizer",
    "segmentation_scores",
    "sentence_bleu",
    "word_spans",
]
