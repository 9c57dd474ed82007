"""Classification metrics from predicted and true class indices."""

from __future__ import annotations

import torch

__all__ = [
    "accuracy",
    "classification_metrics",
    "confusion_matrix",
    "macro_f1",
    "precision_recall_f1",
]


def accuracy(pred: torch.Tensor, target: torch.Tensor) -> float:
    """Fraction of predictions equal to the target."""
    return float((pred == target).double().mean())


def confusion_matrix(pred: torch.Tensor, target: torch.Tensor, num_classes: int) -> torch.Tensor:
    """``C[i, j]`` = number of examples of true class ``i`` predicted as ``j``."""
    flat = target.long() * num_classes + pred.long()
    return torch.bincount(flat, minlength=num_classes**2).reshape(num_classes, num_classes)


def precision_recall_f1(confusion: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per-class scores from a confusion matrix ``C[true, predicted]`` ``(K, K)``.

    ``P_k = C_kk / sum_i C_ik`` (of the images predicted k, the share that are k),
    ``R_k = C_kk / sum_j C_kj`` (of the images of class k, the share found) and
    ``F1_k = 2 P_k R_k / (P_k + R_k)``; a score whose denominator is 0 is 0.

    Returns:
        ``(precision, recall, f1)``, each ``(K,)`` float64.

    Example:
        >>> p, r, f1 = precision_recall_f1(torch.tensor([[3, 1], [0, 2]]))
        >>> p.tolist(), r.tolist()
        ([1.0, 0.6666666666666666], [0.75, 1.0])
    """
    c = confusion.double()
    tp = c.diag()
    precision = tp / c.sum(0).clamp(min=1)
    recall = tp / c.sum(1).clamp(min=1)
    f1 = 2 * precision * recall / (precision + recall).clamp(min=1e-12)
    return precision, recall, f1


def macro_f1(pred: torch.Tensor, target: torch.Tensor, num_classes: int) -> float:
    """Unweighted mean over classes of F1 = 2PR / (P + R) (0 for a class never seen)."""
    _, _, f1 = precision_recall_f1(confusion_matrix(pred, target, num_classes))
    return float(f1.mean())


def classification_metrics(
    pred: torch.Tensor, target: torch.Tensor, num_classes: int
) -> dict[str, float]:
    """``accuracy`` and ``macro_f1``."""
    return {"accuracy": accuracy(pred, target), "macro_f1": macro_f1(pred, target, num_classes)}
