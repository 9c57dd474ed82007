"""Local (truncated, sliding-window) self-attention whose cost grows linearly with length.

Query ``i`` attends only to keys ``j`` with ``|i - j| <= w`` (``0 <= i - j <= w`` when
causal). Full attention with :func:`danlu.functional.attention.band_mask` computes the same
thing in ``O(T²)``; here the sequence is cut into blocks of ``w`` positions, and each block
of queries attends to its own block and its neighbours only (``3w`` keys, ``2w`` causal),
so time and memory are ``O(T·w)``:

    blocks of w:   | b0 | b1 | b2 | b3 |
    queries of b2 attend to keys in [b1 b2 b3], masked to the band |i - j| <= w.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from danlu.functional.attention import band_mask
from danlu.nn.attention import Impl, MultiHeadAttention

__all__ = ["LocalSelfAttention", "sliding_window_attention"]


def _windows(x: Tensor, b: int, causal: bool) -> Tensor:
    """Key windows along dim 2: ``(B, h, nb·b, ...)`` -> ``(B, h, nb, ..., c·b)``, window ``n``
    covering positions ``(n-1)·b .. (n+1)·b + b - 1`` (``c = 3``; ``c = 2`` causal stops at the
    block's end). Positions outside the sequence are zeros (masked later). A strided view."""
    after = 0 if causal else b
    pad = [0, 0] * (x.dim() - 3) + [b, after]  # pad dim 2: one block before [and after]
    return F.pad(x, pad).unfold(2, (2 if causal else 3) * b, b)


def sliding_window_attention(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    window: int,
    *,
    causal: bool = False,
    key_padding_mask: Tensor | None = None,
    dropout_p: float = 0.0,
) -> Tensor:
    """Scaled dot-product attention restricted to the band ``|i - j| <= window``, in ``O(T·w)``.

    Equals ``scaled_dot_product_attention(q, k, v, band_mask(T, window, causal=causal))``.

    Args:
        query: ``(B, h, T, d_k)``.
        key: ``(B, h, T, d_k)``.
        value: ``(B, h, T, d_v)``.
        window: half-width ``w >= 0`` of the band.
        causal: keep only ``0 <= i - j <= w``.
        key_padding_mask: ``(B, T)`` bool, ``True`` = real token (keep).
        dropout_p: dropout on the weights.

    Returns:
        ``(B, h, T, d_v)`` context.

    Example:
        >>> q = k = v = torch.randn(1, 2, 100, 8)
        >>> sliding_window_attention(q, k, v, window=16).shape
        torch.Size([1, 2, 100, 8])

    Paper: Beltagy, Peters, Cohan, "Longformer: The Long-Document Transformer", 2020
    (sliding-window attention); Luong et al., 2015 (local attention).
    """
    if window < 0:
        raise ValueError(f"window must be >= 0, got {window}")
    if query.dim() != 4 or key.shape != query.shape or key.shape[:3] != value.shape[:3]:
        raise ValueError(
            "expected query and key (B, h, T, d_k) and value (B, h, T, d_v) of one length; got "
            f"{tuple(query.shape)}, {tuple(key.shape)}, {tuple(value.shape)}"
        )
    bsz, t = query.size(0), query.size(2)
    b = max(window, 1)  # block size
    nb = math.ceil(t / b)  # number of blocks
    pad = nb * b - t

    c = 2 if causal else 3  # blocks per key window

    def blocks(x: Tensor) -> Tensor:  # (B, h, T, s) -> (B·nb, h, b, s)
        x = F.pad(x, (0, 0, 0, pad)).unflatten(2, (nb, b))  # (B, h, nb, b, s)
        return x.transpose(1, 2).flatten(0, 1)

    def windows(x: Tensor) -> Tensor:  # (B, h, T, s) -> (B·nb, h, c·b, s)
        x = _windows(F.pad(x, (0, 0, 0, pad)), b, causal)  # (B, h, nb, s, c·b)
        return x.permute(0, 2, 1, 4, 3).flatten(0, 1)

    # Blocks become batch entries, so the fused kernel sees ordinary 4-D attention.
    q = blocks(query)  # (B·nb, h, b, d_k)
    k = windows(key)  # (B·nb, h, c·b, d_k)
    v = windows(value)  # (B·nb, h, c·b, d_v)

    # Within a block, query r and window column col are at distance i - j = r + b - col.
    r = torch.arange(b, device=query.device)[:, None]
    col = torch.arange(c * b, device=query.device)[None, :]
    offset = r + b - col  # (b, c·b)
    band = (offset.abs() <= window) & (offset >= 0) if causal else offset.abs() <= window
    # Which window columns are real keys (inside the sequence and not padding).
    if key_padding_mask is None:
        real = torch.ones(bsz, t, dtype=torch.bool, device=query.device)
    elif key_padding_mask.dtype != torch.bool or key_padding_mask.shape != (bsz, t):
        raise ValueError(
            f"key_padding_mask must be bool of shape (B, T) = {(bsz, t)}, got "
            f"{key_padding_mask.dtype} {tuple(key_padding_mask.shape)}"
        )
    else:
        real = key_padding_mask
    real = _windows(F.pad(real, (0, pad))[:, None], b, causal)[:, 0]  # (B, nb, c·b)
    mask = (band & real[:, :, None, :]).flatten(0, 1)[:, None]  # (B·nb, 1, b, c·b)
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=dropout_p)
    out = out.unflatten(0, (bsz, nb)).transpose(1, 2)  # (B, h, nb, b, d_v)
    return out.flatten(2, 3)[:, :, :t]  # (B, h, T, d_v)


class LocalSelfAttention(MultiHeadAttention):
    """Multi-head self-attention within a sliding window of half-width ``window``.

    Same parameters (and ``state_dict``) as :class:`MultiHeadAttention`; query ``i`` sees
    positions ``i - w .. i + w`` (``i - w .. i`` with ``causal=True``). ``impl="torch"``
    runs the blocked ``O(T·w)`` :func:`sliding_window_attention`; ``impl="reference"`` is
    full ``O(T²)`` attention with a band mask, and the tests prove they agree.

    Args:
        d_model: model width ``d``.
        heads: number of heads.
        window: half-width ``w`` of the window.
        causal: attend only to the past ``w`` positions and the current one.
        key_size, head_size, dropout, bias: as in :class:`MultiHeadAttention`.
        impl: ``"torch"`` (blocked) or ``"reference"`` (band-masked full attention).

    Example:
        >>> attn = LocalSelfAttention(d_model=32, heads=4, window=8, causal=True)
        >>> attn(torch.randn(2, 100, 32)).shape
        torch.Size([2, 100, 32])
    """

    def __init__(
        self,
        d_model: int,
        heads: int,
        window: int,
        *,
        causal: bool = False,
        key_size: int | None = None,
        head_size: int | None = None,
        dropout: float = 0.0,
        bias: bool = True,
        impl: Impl = "torch",
    ) -> None:
        if window < 0:
            raise ValueError(f"window must be >= 0, got {window}; use window >= 1 in practice")
        super().__init__(d_model, heads, key_size, head_size, dropout=dropout, bias=bias, impl=impl)
        self.window, self.causal = window, causal

    def forward(  # type: ignore[override]
        self, x: Tensor, *, key_padding_mask: Tensor | None = None
    ) -> Tensor:
        """``x (B, T, d)``, ``key_padding_mask (B, T)`` bool (True = keep) -> ``(B, T, d)``."""
        if self.impl == "reference":
            band = band_mask(x.size(1), self.window, causal=self.causal, device=x.device)
            return super().forward(x, key_padding_mask=key_padding_mask, attn_mask=band)
        q, k, v = self._project(x, None, None)  # (B, h, T, d_k), ..., (B, h, T, d_v)
        p = self.dropout if self.training else 0.0
        context = sliding_window_attention(
            q, k, v, self.window, causal=self.causal, key_padding_mask=key_padding_mask, dropout_p=p
        )  # (B, h, T, d_v)
        return self._merge_heads(context)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, window={self.window}, causal={self.causal}"
