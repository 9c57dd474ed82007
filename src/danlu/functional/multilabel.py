"""Multi-label losses: ZLPR (multi-label categorical cross-entropy) and one-vs-all.

With scores ``s (…, C)`` and a set of positive labels ``Ω_pos`` (the rest are ``Ω_neg``),
softmax + cross-entropy for one target ``t`` is ``log(1 + Σ_{i≠t} e^{s_i - s_t})``: it asks
every other score to sit below the target score. Su Jianlin's generalisation to several
targets (ZLPR, "zero-bounded log-sum-exp & pairwise rank-based") asks every negative score
to be below every positive one, *and* uses a fixed threshold 0 between them:

    L = log(1 + Σ_{i∈Ω_neg} e^{s_i}) + log(1 + Σ_{j∈Ω_pos} e^{-s_j})

Each term is a ``logsumexp`` over the scores of one side with an extra zero logit appended,
which is how it is computed here (stable for any magnitude of the scores). Expanding the
product ``(1 + Σ_neg e^{s_i})(1 + Σ_pos e^{-s_j})`` shows what it ranks: with ``s_0 = 0`` a
threshold "class",

    L = log(1 + Σ_{i∈neg, j∈pos} e^{s_i - s_j} + Σ_{i∈neg} e^{s_i - s_0} + Σ_{j∈pos} e^{s_0 - s_j})

i.e. every positive above every negative, and the threshold in between. So prediction is
"every label with score > 0": the number of labels is learned, no threshold to tune. With
one positive label ``t`` the loss is a sum of two softmax cross-entropies, each with the
extra zero logit: ``CE([s_t, 0] → s_t) + CE([0, s_neg] → 0)``; with ``C = 1`` it is the
binary logistic loss ``log(1 + e^{-s})``. The tests check both.

One-vs-all (fastText's ``-loss ova``) instead trains ``C`` independent binary classifiers,
``L = Σ_c BCE(σ(s_c), y_c)``, and predicts ``σ(s_c) > threshold`` (0.5 by default).

Example:
    >>> scores = torch.tensor([[3.0, -2.0, 0.5], [-1.0, -4.0, -3.0]])
    >>> targets = torch.tensor([[1, 0, 1], [0, 0, 0]], dtype=torch.bool)
    >>> zlpr_loss(scores, targets, reduction="none").shape
    torch.Size([2])
    >>> zlpr_predict(scores)
    tensor([[ True, False,  True],
            [False, False, False]])

Reference: Su Jianlin, "将'Softmax+交叉熵'推广到多标签分类问题" (Generalising softmax +
cross-entropy to multi-label classification), kexue.fm/archives/7359, 2020; Su et al.,
"ZLPR: A Novel Loss for Multi-label Classification", arXiv:2208.02955, 2022.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = [
    "REDUCTIONS",
    "one_vs_all_loss",
    "one_vs_all_predict",
    "zlpr_loss",
    "zlpr_predict",
]

Reduction = Literal["mean", "sum", "none"]
REDUCTIONS: tuple[str, ...] = ("mean", "sum", "none")


def _check(scores: Tensor, targets: Tensor, reduction: str) -> Tensor:
    """Validate the arguments; return ``targets`` as a bool tensor (True = positive)."""
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {', '.join(REDUCTIONS)}; got {reduction!r}")
    if scores.dim() < 1 or not scores.is_floating_point():
        raise ValueError(
            f"scores must be a floating-point tensor of shape (..., C), got "
            f"{scores.dtype} of shape {tuple(scores.shape)}"
        )
    if targets.shape != scores.shape:
        raise ValueError(
            f"targets must have the shape of scores {tuple(scores.shape)} (one 0/1 per label), "
            f"got {tuple(targets.shape)}; turn label indices into a multi-hot matrix first"
        )
    if targets.dtype == torch.bool:
        return targets
    if not bool(((targets == 0) | (targets == 1)).all()):
        raise ValueError("targets must hold only 0 and 1 (or be a bool tensor)")
    return targets != 0


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _logsumexp_with_zero(x: Tensor) -> Tensor:
    """``log(1 + Σ_c e^{x_c})`` over the last dim: logsumexp with a zero logit appended."""
    zero = x.new_zeros(*x.shape[:-1], 1)
    return torch.logsumexp(torch.cat([x, zero], dim=-1), dim=-1)


def zlpr_loss(scores: Tensor, targets: Tensor, reduction: Reduction = "mean") -> Tensor:
    """Multi-label categorical cross-entropy (ZLPR) of scores against multi-hot targets.

    ``L = log(1 + Σ_{i∈neg} e^{s_i}) + log(1 + Σ_{j∈pos} e^{-s_j})`` per row, each term a
    logsumexp with an appended zero logit, so any finite scores give a finite loss and
    finite gradients. A row without positives (or without negatives) has only one term.

    Args:
        scores: raw scores (logits) ``(..., C)``; float.
        targets: multi-hot labels ``(..., C)``, bool or 0/1 numbers; True/1 = positive.
        reduction: ``"mean"`` over rows (default), ``"sum"``, or ``"none"`` (shape ``(...)``).

    Returns:
        The loss: a scalar, or ``(...)`` for ``reduction="none"``.

    Example:
        >>> zlpr_loss(torch.tensor([[10.0, -10.0]]), torch.tensor([[1, 0]])) < 1e-3
        tensor(True)
    """
    positive = _check(scores, targets, reduction)
    neg_inf = torch.tensor(float("-inf"), dtype=scores.dtype, device=scores.device)
    # Masked entries become -inf: e^{-inf} = 0 drops them from the sum, gradient 0.
    neg_term = _logsumexp_with_zero(torch.where(positive, neg_inf, scores))  # (...)
    pos_term = _logsumexp_with_zero(torch.where(positive, -scores, neg_inf))  # (...)
    return _reduce(neg_term + pos_term, reduction)


def zlpr_predict(scores: Tensor) -> Tensor:
    """Labels predicted by a ZLPR-trained model: every label with a positive score.

    Args:
        scores: ``(..., C)``.

    Returns:
        Bool tensor ``(..., C)``, True where ``s_c > 0``. A row may have no label.
    """
    return scores > 0


def one_vs_all_loss(scores: Tensor, targets: Tensor, reduction: Reduction = "mean") -> Tensor:
    """One-vs-all (fastText ``-loss ova``): summed binary cross-entropy over the labels.

    ``L = Σ_c [-y_c log σ(s_c) - (1 - y_c) log(1 - σ(s_c))]`` per row, computed stably from
    the logits (``binary_cross_entropy_with_logits``).

    Args:
        scores: raw scores ``(..., C)``.
        targets: multi-hot labels ``(..., C)``, bool or 0/1 numbers.
        reduction: ``"mean"`` over rows, ``"sum"``, or ``"none"`` (shape ``(...)``).

    Returns:
        The loss: a scalar, or ``(...)`` for ``reduction="none"``.
    """
    positive = _check(scores, targets, reduction)
    per_label = F.binary_cross_entropy_with_logits(
        scores, positive.to(scores.dtype), reduction="none"
    )
    return _reduce(per_label.sum(-1), reduction)


def one_vs_all_predict(scores: Tensor, threshold: float = 0.5) -> Tensor:
    """Labels predicted by a one-vs-all model: ``σ(s_c) > threshold``.

    Args:
        scores: ``(..., C)``.
        threshold: probability threshold in (0, 1).

    Returns:
        Bool tensor ``(..., C)``.
    """
    if not 0.0 < threshold < 1.0:
        raise ValueError(f"threshold must be in (0, 1), got {threshold}; 0.5 is usual")
    return torch.sigmoid(scores) > threshold
