"""Attention from the notes' four steps: score, normalize, weight, sum.

For a query ``q`` and keys/values ``(k_j, v_j)``:

1. scores      ``e_j = a(q, k_j)``                      (how well key j matches the query)
2. softmax     ``α_j = exp(e_j) / Σ_j' exp(e_j')``       (masked positions get α_j = 0)
3. weighting   ``α_j · v_j``
4. context     ``c = Σ_j α_j v_j``

The score function ``a`` is what distinguishes the variants:

==================  ====================================  ===========================
name                a(q, k)                               reference
==================  ====================================  ===========================
additive            ``vᵀ tanh(W_q q + W_k k)``             Bahdanau et al., 2015
dot                 ``qᵀ k``                               Luong et al., 2015
scaled dot          ``qᵀ k / √d_k``                        Vaswani et al., 2017
==================  ====================================  ===========================

**Mask convention (everywhere in danlu):** a boolean mask is ``True`` where attention is
*allowed* (keep) and ``False`` where it is blocked. This is the convention of
``torch.nn.functional.scaled_dot_product_attention``'s boolean ``attn_mask`` and the
*opposite* of ``torch.nn.MultiheadAttention``'s ``key_padding_mask`` (where ``True`` means
"ignore"); convert with ``~mask``. A query whose every key is blocked gets all-zero
weights and a zero context (the same as ``F.scaled_dot_product_attention``), never NaN.

These functions are the readable reference path; :class:`danlu.nn.attention.
MultiHeadAttention` uses ``F.scaled_dot_product_attention`` as its fast path and its tests
prove the two agree.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = [
    "additive_attention",
    "additive_scores",
    "band_mask",
    "causal_mask",
    "dot_product_attention",
    "dot_scores",
    "masked_softmax",
    "padding_mask",
    "scaled_dot_product_attention",
    "scaled_dot_scores",
    "weighted_sum",
]


# ----------------------------------------------------------------------------- masks
def padding_mask(lengths: Tensor, max_len: int | None = None) -> Tensor:
    """Boolean key-padding mask from sequence lengths: ``True`` at real tokens (keep).

    ``mask[b, t] = t < lengths[b]``.

    Args:
        lengths: ``(B,)`` integer lengths, each in ``[0, max_len]``.
        max_len: padded length ``T``; defaults to ``lengths.max()``.

    Returns:
        ``(B, T)`` bool tensor. Use it as a key mask by unsqueezing to ``(B, 1, T)``.

    Example:
        >>> padding_mask(torch.tensor([2, 3]), 4)
        tensor([[ True,  True, False, False],
                [ True,  True,  True, False]])
    """
    if lengths.dim() != 1:
        raise ValueError(f"lengths must be 1-D (B,), got shape {tuple(lengths.shape)}")
    if max_len is None:
        max_len = int(lengths.max().item()) if lengths.numel() else 0
    if lengths.numel() and int(lengths.max().item()) > max_len:
        raise ValueError(
            f"a length {int(lengths.max().item())} exceeds max_len={max_len}; "
            "lengths must be <= max_len (pass a larger max_len)"
        )
    positions = torch.arange(max_len, device=lengths.device)  # (T,)
    return positions[None, :] < lengths[:, None]  # (B, T)


def causal_mask(q_len: int, k_len: int | None = None, device: torch.device | None = None) -> Tensor:
    """Causal (look-ahead) mask: query ``i`` may attend to keys ``j <= i``.

    Aligned at the top-left corner like ``F.scaled_dot_product_attention(is_causal=True)``.

    Args:
        q_len: number of queries ``T_q``.
        k_len: number of keys ``T_k``; defaults to ``q_len``.
        device: where to build the mask.

    Returns:
        ``(T_q, T_k)`` bool tensor, ``True`` on and below the diagonal.

    Example:
        >>> causal_mask(3).int()
        tensor([[1, 0, 0],
                [1, 1, 0],
                [1, 1, 1]], dtype=torch.int32)
    """
    k_len = q_len if k_len is None else k_len
    return torch.ones(q_len, k_len, dtype=torch.bool, device=device).tril()


def band_mask(
    q_len: int,
    window: int,
    k_len: int | None = None,
    *,
    causal: bool = False,
    device: torch.device | None = None,
) -> Tensor:
    """Band mask of local attention: query ``i`` sees keys with ``|i - j| <= window``.

    With ``causal=True`` only the past half of the band is kept: ``0 <= i - j <= window``.

    Args:
        q_len: number of queries ``T_q``.
        window: half-width ``w >= 0`` of the band.
        k_len: number of keys; defaults to ``q_len``.
        causal: keep only keys at or before the query.
        device: where to build the mask.

    Returns:
        ``(T_q, T_k)`` bool tensor.

    Example:
        >>> band_mask(4, 1).int()
        tensor([[1, 1, 0, 0],
                [1, 1, 1, 0],
                [0, 1, 1, 1],
                [0, 0, 1, 1]], dtype=torch.int32)
    """
    if window < 0:
        raise ValueError(f"window must be >= 0, got {window}")
    k_len = q_len if k_len is None else k_len
    i = torch.arange(q_len, device=device)[:, None]  # (T_q, 1)
    j = torch.arange(k_len, device=device)[None, :]  # (1, T_k)
    offset = i - j
    keep = offset.abs() <= window
    return keep & (offset >= 0) if causal else keep


# ----------------------------------------------------------------------- step 1: scores
def additive_scores(query: Tensor, key: Tensor, w_q: Tensor, w_k: Tensor, v: Tensor) -> Tensor:
    """Additive (Bahdanau) scores ``e_ij = vᵀ tanh(W_q q_i + W_k k_j)``.

    Args:
        query: ``(..., T_q, d_q)``.
        key: ``(..., T_k, d_k)``.
        w_q: ``(h, d_q)`` query projection.
        w_k: ``(h, d_k)`` key projection.
        v: ``(h,)`` scoring vector.

    Returns:
        ``(..., T_q, T_k)`` scores.

    Paper: Bahdanau, Cho, Bengio, "Neural Machine Translation by Jointly Learning to Align
    and Translate", ICLR 2015.
    """
    q = query @ w_q.T  # (..., T_q, h)
    k = key @ w_k.T  # (..., T_k, h)
    hidden = torch.tanh(q.unsqueeze(-2) + k.unsqueeze(-3))  # (..., T_q, T_k, h)
    return hidden @ v  # (..., T_q, T_k)


def dot_scores(query: Tensor, key: Tensor) -> Tensor:
    """Dot-product scores ``e_ij = q_iᵀ k_j``; ``query (..., T_q, d)``, ``key (..., T_k, d)``."""
    return query @ key.transpose(-2, -1)  # (..., T_q, T_k)


def scaled_dot_scores(query: Tensor, key: Tensor, scale: float | None = None) -> Tensor:
    """Scaled dot-product scores ``e_ij = q_iᵀ k_j / √d``.

    Dividing by ``√d`` keeps the scores' variance near 1 when ``q`` and ``k`` have unit
    variance components, so the softmax does not saturate as ``d`` grows.

    Args:
        query: ``(..., T_q, d)``.
        key: ``(..., T_k, d)``.
        scale: multiplier; defaults to ``1 / √d``.

    Returns:
        ``(..., T_q, T_k)`` scores.
    """
    scale = 1.0 / math.sqrt(query.size(-1)) if scale is None else scale
    return dot_scores(query, key) * scale


# ---------------------------------------------------------------------- step 2: softmax
def masked_softmax(scores: Tensor, mask: Tensor | None = None) -> Tensor:
    """Softmax over keys (last dim) that gives blocked positions exactly zero weight.

    ``α_ij = exp(e_ij) / Σ_{j' kept} exp(e_ij')`` for kept ``j``, ``0`` otherwise; a row
    with no kept key is all zeros (no NaN, in the forward or the backward pass).

    Args:
        scores: ``(..., T_q, T_k)``.
        mask: bool, broadcastable to ``scores``; ``True`` = keep.

    Returns:
        ``(..., T_q, T_k)`` attention weights; every row sums to 1 (or 0 if fully masked).
    """
    if mask is None:
        return torch.softmax(scores, dim=-1)
    if mask.dtype != torch.bool:
        raise TypeError(
            f"mask must be a bool tensor with True = keep, got dtype {mask.dtype}; "
            "convert with mask.bool() (or ~mask if True meant 'ignore')"
        )
    # The most negative finite number (not -inf): a fully masked row then softmaxes to a
    # uniform row instead of NaN, and the masked_fill below turns it into zeros.
    blocked = torch.finfo(scores.dtype).min
    weights = torch.softmax(scores.masked_fill(~mask, blocked), dim=-1)
    return weights.masked_fill(~mask, 0.0)


# ----------------------------------------------------------- steps 3 and 4: weighted sum
def weighted_sum(weights: Tensor, value: Tensor) -> Tensor:
    """Context ``c_i = Σ_j α_ij v_j``; ``weights (..., T_q, T_k)``, ``value (..., T_k, d_v)``.

    Returns ``(..., T_q, d_v)``.
    """
    return weights @ value


# ---------------------------------------------------------------- the four steps joined
def _with_causal(
    mask: Tensor | None, causal: bool, q_len: int, k_len: int, device: torch.device
) -> Tensor | None:
    if not causal:
        return mask
    tri = causal_mask(q_len, k_len, device=device)  # (T_q, T_k)
    return tri if mask is None else mask & tri


def scaled_dot_product_attention(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    mask: Tensor | None = None,
    *,
    causal: bool = False,
    dropout_p: float = 0.0,
    scale: float | None = None,
) -> tuple[Tensor, Tensor]:
    """Scaled dot-product attention ``softmax(Q Kᵀ / √d_k) V``, written as the four steps.

    Args:
        query: ``(..., T_q, d_k)``.
        key: ``(..., T_k, d_k)``.
        value: ``(..., T_k, d_v)``.
        mask: bool, broadcastable to ``(..., T_q, T_k)``; ``True`` = keep. A key-padding
            mask ``(B, T_k)`` must be unsqueezed to ``(B, 1, T_k)`` (or ``(B, 1, 1, T_k)``
            with a head dimension).
        causal: also block keys after the query (``j > i``).
        dropout_p: dropout on the weights (pass 0 in evaluation).
        scale: score multiplier; defaults to ``1 / √d_k``.

    Returns:
        ``(context, weights)``: ``(..., T_q, d_v)`` and ``(..., T_q, T_k)``.

    Example:
        >>> q, k, v = torch.randn(2, 5, 8), torch.randn(2, 7, 8), torch.randn(2, 7, 4)
        >>> ctx, w = scaled_dot_product_attention(q, k, v, causal=True)
        >>> ctx.shape, w.shape
        (torch.Size([2, 5, 4]), torch.Size([2, 5, 7]))

    Paper: Vaswani et al., "Attention Is All You Need", NeurIPS 2017, eq. (1).
    """
    mask = _with_causal(mask, causal, query.size(-2), key.size(-2), query.device)
    scores = scaled_dot_scores(query, key, scale)  # (..., T_q, T_k)
    weights = masked_softmax(scores, mask)  # (..., T_q, T_k)
    if dropout_p > 0.0:
        weights = F.dropout(weights, dropout_p)
    return weighted_sum(weights, value), weights  # (..., T_q, d_v)


def dot_product_attention(
    query: Tensor, key: Tensor, value: Tensor, mask: Tensor | None = None, *, causal: bool = False
) -> tuple[Tensor, Tensor]:
    """Unscaled dot-product attention ``softmax(Q Kᵀ) V`` (Luong et al., 2015).

    Same shapes and mask convention as :func:`scaled_dot_product_attention`; returns
    ``(context, weights)``.
    """
    mask = _with_causal(mask, causal, query.size(-2), key.size(-2), query.device)
    weights = masked_softmax(dot_scores(query, key), mask)  # (..., T_q, T_k)
    return weighted_sum(weights, value), weights


def additive_attention(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    w_q: Tensor,
    w_k: Tensor,
    v: Tensor,
    mask: Tensor | None = None,
    *,
    causal: bool = False,
) -> tuple[Tensor, Tensor]:
    """Additive (Bahdanau) attention: scores ``vᵀ tanh(W_q q + W_k k)``, then softmax, sum.

    Args:
        query: ``(..., T_q, d_q)``.
        key: ``(..., T_k, d_k)``.
        value: ``(..., T_k, d_v)``.
        w_q: ``(h, d_q)``; ``w_k``: ``(h, d_k)``; ``v``: ``(h,)``.
        mask: bool, broadcastable to ``(..., T_q, T_k)``; ``True`` = keep.
        causal: also block keys after the query.

    Returns:
        ``(context, weights)``: ``(..., T_q, d_v)`` and ``(..., T_q, T_k)``.

    Paper: Bahdanau, Cho, Bengio, ICLR 2015.
    """
    mask = _with_causal(mask, causal, query.size(-2), key.size(-2), query.device)
    weights = masked_softmax(additive_scores(query, key, w_q, w_k, v), mask)
    return weighted_sum(weights, value), weights
