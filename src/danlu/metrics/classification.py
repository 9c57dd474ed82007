"""Classification metrics from predicted and true class indices."""

from __future__ import annotations

import torch

__all__ = ["accuracy", "classification_metrics", "confusion_matrix", "macro_f1"]


def accuracy(pred: torch.Tensor, target: torch.Tensor) -> float:
    """Fraction of predictions equal to the target."""
    return float((pred == target).double().mean())


def confusion_matrix(pred: torch.Tensor, target: torch.Tensor, num_classes: int) -> torch.Tensor:
    """``C[i, j]`` = number of examples of true class ``i`` predicted as ``j``."""
    flat = target.long() * num_classes + pred.long()
    return torch.bincount(flat, minlength=num_classes**2).reshape(num_classes, num_classes)


def macro_f1(pred: torch.Tensor, target: torch.Tensor, num_classes: int) -> float:
    """Unweighted mean over classes of F1 = 2PR / (P + R) (0 for a class never seen)."""
    c = confusion_matrix(pred, target, num_classes).double()
    tp = c.diag()
    precision = tp / c.sum(0).clamp(min=1)
    recall = tp / c.sum(1).clamp(min=1)
    f1 = 2 * precision * recall / (precision + recall).clamp(min=1e-12)
    return float(f1.mean())


def classification_metrics(
    pred: torch.Tensor, target: torch.Tensor, num_classes: int
) -> dict[str, float]:
    """``accuracy`` and ``macro_f1``."""
    return {"accuracy": accuracy(pred, target), "macro_f1": macro_f1(pred, target, num_classes)}
