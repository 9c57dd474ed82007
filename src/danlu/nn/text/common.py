"""Pieces shared by the text classifiers: the embedding table, masks and masked pooling.

Every classifier takes ``tokens (B, T)`` (int64 ids, 0 = padding, right-padded) and
``mask (B, T)`` (bool, True at real tokens). Padding must never change the output, so
every reduction over time (max, mean, attention) ignores the masked steps. A row with no
token at all is treated as one padding token (so the output is defined, not NaN).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from danlu.errors import UsageError

__all__ = ["PAD_ID", "check_inputs", "make_embedding", "masked_max", "masked_mean"]

PAD_ID = 0  # the id of the padding token; its embedding row is zero and never trained


def make_embedding(
    vocab_size: int, embed_dim: int, pretrained: Tensor | None = None, freeze: bool = False
) -> nn.Embedding:
    """An ``nn.Embedding(vocab_size, embed_dim, padding_idx=0)``, optionally pretrained.

    Args:
        vocab_size: ``V``, ids ``0..V-1`` including the padding id 0.
        embed_dim: ``D``.
        pretrained: optional ``(V, D)`` float table copied into the weights (row 0, the
            padding row, is set to zero).
        freeze: keep the embeddings fixed during training.

    Raises:
        UsageError: bad sizes, or ``pretrained`` not of shape ``(vocab_size, embed_dim)``.
    """
    if vocab_size < 2:
        raise UsageError(
            f"vocab_size must be >= 2 (id 0 is padding), got {vocab_size}; "
            "is the training file empty?"
        )
    if embed_dim < 1:
        raise UsageError(f"embed_dim must be >= 1, got {embed_dim}")
    emb = nn.Embedding(vocab_size, embed_dim, padding_idx=PAD_ID)
    if pretrained is not None:
        if pretrained.shape != (vocab_size, embed_dim):
            raise UsageError(
                f"pretrained embeddings have shape {tuple(pretrained.shape)} but the model "
                f"needs (vocab_size, embed_dim) = ({vocab_size}, {embed_dim}); pass "
                f"embed_dim={pretrained.shape[-1]} or a table with one row per vocabulary id"
            )
        with torch.no_grad():
            emb.weight.copy_(pretrained)
            emb.weight[PAD_ID].zero_()
    emb.weight.requires_grad_(not freeze)
    return emb


def check_inputs(tokens: Tensor, mask: Tensor | None) -> Tensor:
    """Validate ``tokens (B, T)``/``mask (B, T)``; return the mask (``tokens != 0`` if None).

    A row with no real token gets its first step marked valid, so that every pooling has
    something to pool (that step holds the padding token, whose embedding is zero).
    """
    if tokens.dim() != 2 or tokens.dtype != torch.long:
        raise ValueError(
            f"tokens must be an int64 tensor of shape (B, T), got {tokens.dtype} of shape "
            f"{tuple(tokens.shape)}"
        )
    if mask is None:
        mask = tokens != PAD_ID
    elif mask.shape != tokens.shape or mask.dtype != torch.bool:
        raise ValueError(
            f"mask must be a bool tensor of the tokens' shape {tuple(tokens.shape)} "
            f"(True at real tokens), got {mask.dtype} of shape {tuple(mask.shape)}"
        )
    if tokens.size(1) == 0:
        raise ValueError("tokens has no time steps (T = 0); pad every batch to T >= 1")
    empty = ~mask.any(dim=1, keepdim=True)  # (B, 1)
    first = torch.zeros_like(mask)
    first[:, 0] = True
    return mask | (empty & first)


def masked_max(x: Tensor, mask: Tensor) -> Tensor:
    """Max over time of ``x (B, T, F)`` at the steps where ``mask (B, T)`` holds: ``(B, F)``."""
    return x.masked_fill(~mask[..., None], float("-inf")).amax(dim=1)


def masked_mean(x: Tensor, mask: Tensor) -> Tensor:
    """Mean over time of ``x (B, T, F)`` at the steps where ``mask (B, T)`` holds: ``(B, F)``."""
    weights = mask.to(x.dtype)[..., None]  # (B, T, 1)
    return (x * weights).sum(1) / weights.sum(1).clamp_min(1.0)
