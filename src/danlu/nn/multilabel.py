"""Multi-label loss modules: ZLPR (multi-label categorical cross-entropy) and one-vs-all.

Thin ``nn.Module`` wrappers around :mod:`danlu.functional.multilabel` (the equations live
there), so a loss can be chosen, stored and called like ``nn.CrossEntropyLoss``. Each also
has ``predict(scores)`` giving the matching decision rule.

Example:
    >>> import torch
    >>> loss_fn = MultiLabelCategoricalCrossEntropy()
    >>> scores = torch.randn(4, 10, requires_grad=True)
    >>> targets = torch.rand(4, 10) < 0.2
    >>> loss_fn(scores, targets).backward()
    >>> loss_fn.predict(scores).shape
    torch.Size([4, 10])

Reference: Su Jianlin, kexue.fm/archives/7359, 2020 (ZLPR: arXiv:2208.02955).
"""

from __future__ import annotations

from torch import Tensor, nn

from danlu.functional.multilabel import (
    REDUCTIONS,
    Reduction,
    one_vs_all_loss,
    one_vs_all_predict,
    zlpr_loss,
    zlpr_predict,
)

__all__ = ["MultiLabelCategoricalCrossEntropy", "OneVsAllLoss"]


def _check_reduction(reduction: str) -> None:
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {', '.join(REDUCTIONS)}; got {reduction!r}")


class MultiLabelCategoricalCrossEntropy(nn.Module):
    """ZLPR loss ``log(1 + Σ_neg e^{s_i}) + log(1 + Σ_pos e^{-s_j})``; predicts ``s > 0``.

    Args:
        reduction: ``"mean"`` over rows (default), ``"sum"`` or ``"none"``.

    Shapes: ``scores (..., C)`` float, ``targets (..., C)`` bool or 0/1; returns a scalar
    (or ``(...)`` with ``reduction="none"``). See :func:`danlu.functional.multilabel.zlpr_loss`.
    """

    def __init__(self, reduction: Reduction = "mean") -> None:
        super().__init__()
        _check_reduction(reduction)
        self.reduction: Reduction = reduction

    def forward(self, scores: Tensor, targets: Tensor) -> Tensor:
        """The loss of ``scores (..., C)`` against multi-hot ``targets (..., C)``."""
        return zlpr_loss(scores, targets, self.reduction)

    def predict(self, scores: Tensor) -> Tensor:
        """Bool ``(..., C)``: every label with a positive score."""
        return zlpr_predict(scores)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


class OneVsAllLoss(nn.Module):
    """One-vs-all: ``Σ_c BCE(σ(s_c), y_c)`` per row (fastText ``-loss ova``).

    Args:
        reduction: ``"mean"`` over rows (default), ``"sum"`` or ``"none"``.
        threshold: probability above which :meth:`predict` outputs a label.

    Shapes as for :class:`MultiLabelCategoricalCrossEntropy`.
    """

    def __init__(self, reduction: Reduction = "mean", threshold: float = 0.5) -> None:
        super().__init__()
        _check_reduction(reduction)
        if not 0.0 < threshold < 1.0:
            raise ValueError(f"threshold must be in (0, 1), got {threshold}; 0.5 is usual")
        self.reduction: Reduction = reduction
        self.threshold = threshold

    def forward(self, scores: Tensor, targets: Tensor) -> Tensor:
        """The loss of ``scores (..., C)`` against multi-hot ``targets (..., C)``."""
        return one_vs_all_loss(scores, targets, self.reduction)

    def predict(self, scores: Tensor) -> Tensor:
        """Bool ``(..., C)``: every label with ``σ(s_c) > threshold``."""
        return one_vs_all_predict(scores, self.threshold)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}, threshold={self.threshold}"
