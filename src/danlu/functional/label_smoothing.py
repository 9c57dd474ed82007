"""Label-smoothed cross-entropy, the training loss of the Transformer translator.

With ``V`` classes, smoothing ``ε`` and the model's ``log p = log_softmax(z)``, the target
distribution puts ``1 - ε`` on the gold class ``y`` and spreads ``ε`` uniformly over all
``V`` classes (the gold one included)::

    q_k = (1 - ε)·[k = y] + ε / V
    loss = -Σ_k q_k log p_k = (1 - ε)·(-log p_y) + ε·mean_k(-log p_k)

This is ``torch.nn.functional.cross_entropy(label_smoothing=ε)``, and Szegedy et al.'s
definition. fairseq's ``label_smoothed_cross_entropy`` differs slightly: it spreads ``ε``
over the ``V - 1`` wrong classes. Either way the loss stays above the entropy of ``q``, so
it never reaches zero; report the plain NLL (``ε = 0``) or its perplexity alongside.

Paper: Szegedy et al., "Rethinking the Inception Architecture for Computer Vision", CVPR
2016, section 7; used for translation by Vaswani et al., 2017 (``ε = 0.1``).
"""

from __future__ import annotations

from typing import Literal

from torch import Tensor

__all__ = ["label_smoothed_nll"]


def label_smoothed_nll(
    logits: Tensor,
    target: Tensor,
    epsilon: float = 0.1,
    ignore_index: int = -100,
    reduction: Literal["mean", "sum", "none"] = "mean",
) -> Tensor:
    """Label-smoothed negative log-likelihood of ``target`` under ``softmax(logits)``.

    Args:
        logits: ``(..., V)`` unnormalised scores (e.g. ``(B, T, V)`` from a decoder).
        target: ``(...)`` int64 class ids; positions equal to ``ignore_index`` (padding)
            add nothing and are not counted.
        epsilon: smoothing ``ε`` in ``[0, 1]``; ``0`` gives the plain NLL.
        ignore_index: the id to skip (pass the padding id).
        reduction: ``"mean"`` over the counted positions, ``"sum"``, or ``"none"`` (the
            loss per position, ``(...)``, zero where ignored).

    Returns:
        The loss to minimise: a scalar, or ``(...)`` with ``reduction="none"``.

    Example:
        >>> import torch
        >>> logits, target = torch.randn(2, 5, 11), torch.tensor([[3, 1, 4, 0, 0], [5, 9, 2, 6, 0]])
        >>> loss = label_smoothed_nll(logits, target, epsilon=0.1, ignore_index=0)
        >>> ref = torch.nn.functional.cross_entropy(
        ...     logits.transpose(1, 2), target, ignore_index=0, label_smoothing=0.1)
        >>> torch.allclose(loss, ref)
        True
    """
    if not 0.0 <= epsilon <= 1.0:
        raise ValueError(f"epsilon must be in [0, 1], got {epsilon}")
    if logits.shape[:-1] != target.shape:
        raise ValueError(
            f"logits (..., V) and target (...) must agree on the leading dimensions, got "
            f"logits {tuple(logits.shape)} and target {tuple(target.shape)}"
        )
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    log_p = logits.log_softmax(-1)  # (..., V)
    keep = target != ignore_index  # (...)
    gold = log_p.gather(-1, target.masked_fill(~keep, 0).unsqueeze(-1)).squeeze(-1)  # (...)
    loss = -(1.0 - epsilon) * gold - epsilon * log_p.mean(-1)  # (...)
    loss = loss.masked_fill(~keep, 0.0)
    if reduction == "none":
        return loss
    total = loss.sum()
    return total if reduction == "sum" else total / keep.sum()
