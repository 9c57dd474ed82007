"""Reducing the per-sequence losses of a sequence-labelling head (CRF, MEMM, softmax).

A head computes one loss per sequence, ``losses`` (B,), and reduces it with ``reduction``:

    mean        Σ_b losses_b / B                 (the default: mean over sequences)
    sum         Σ_b losses_b
    none        losses (B,)
    token_mean  Σ_b losses_b / Σ_{b,t} mask_bt   (mean over real tokens)

Example:
    >>> reduce_loss(torch.tensor([2.0, 4.0]), torch.ones(2, 3, dtype=torch.bool), "token_mean")
    tensor(1.)
"""

from __future__ import annotations

from torch import Tensor

from danlu.errors import UsageError

__all__ = ["REDUCTIONS", "check_reduction", "reduce_loss"]

REDUCTIONS: tuple[str, ...] = ("mean", "sum", "none", "token_mean")


def check_reduction(reduction: str) -> None:
    """Raise :class:`UsageError` listing the valid reductions for an unknown one."""
    if reduction not in REDUCTIONS:
        raise UsageError(f"unknown reduction {reduction!r}; valid: {', '.join(REDUCTIONS)}")


def reduce_loss(losses: Tensor, mask: Tensor, reduction: str) -> Tensor:
    """Reduce per-sequence losses (B,) with a (B, T) mask; see the module docstring."""
    check_reduction(reduction)
    if reduction == "mean":
        return losses.mean()
    if reduction == "sum":
        return losses.sum()
    if reduction == "none":
        return losses
    return losses.sum() / mask.sum()
