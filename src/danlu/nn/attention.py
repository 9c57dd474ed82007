"""Attention modules: additive (Bahdanau), dot-product and multi-head attention.

Masks are boolean with ``True`` = keep (attention allowed), the convention of
:mod:`danlu.functional.attention`. This is the *opposite* of ``nn.MultiheadAttention``'s
``key_padding_mask``; pass ``~mask`` when porting code.

:class:`MultiHeadAttention` keeps PyTorch's parameter names and layout
(``in_proj_weight = [W_q; W_k; W_v]``, ``in_proj_bias``, ``out_proj``), so
``load_state_dict`` copies weights to and from ``nn.MultiheadAttention`` (when
``key_size = head_size = d_model / heads``).
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from danlu.functional.attention import (
    additive_attention,
    causal_mask,
    masked_softmax,
    scaled_dot_product_attention,
    scaled_dot_scores,
    weighted_sum,
)
from danlu.nn.impl import check_impl

__all__ = ["AdditiveAttention", "DotProductAttention", "MultiHeadAttention"]

Impl = Literal["torch", "reference"]


class AdditiveAttention(nn.Module):
    """Additive (Bahdanau) attention with learned ``W_q``, ``W_k`` and ``v``.

    ``e_ij = vᵀ tanh(W_q q_i + W_k k_j)``, ``α = masked_softmax(e)``, ``c_i = Σ_j α_ij v_j``.

    Args:
        query_size: ``d_q``.
        key_size: ``d_k``.
        hidden_size: ``h``, the size of the tanh layer.

    Example:
        >>> attn = AdditiveAttention(query_size=8, key_size=6, hidden_size=16)
        >>> ctx, w = attn(torch.randn(2, 1, 8), torch.randn(2, 5, 6), torch.randn(2, 5, 3))
        >>> ctx.shape, w.shape
        (torch.Size([2, 1, 3]), torch.Size([2, 1, 5]))

    Paper: Bahdanau, Cho, Bengio, "Neural Machine Translation by Jointly Learning to Align
    and Translate", ICLR 2015.
    """

    def __init__(self, query_size: int, key_size: int, hidden_size: int) -> None:
        super().__init__()
        for name, value in (("query_size", query_size), ("key_size", key_size)):
            if value < 1:
                raise ValueError(f"{name} must be >= 1, got {value}")
        if hidden_size < 1:
            raise ValueError(f"hidden_size must be >= 1, got {hidden_size}")
        self.w_q = nn.Linear(query_size, hidden_size, bias=False)
        self.w_k = nn.Linear(key_size, hidden_size, bias=False)
        self.v = nn.Linear(hidden_size, 1, bias=False)

    def forward(
        self, query: Tensor, key: Tensor, value: Tensor, mask: Tensor | None = None
    ) -> tuple[Tensor, Tensor]:
        """``query (B, T_q, d_q)``, ``key (B, T_k, d_k)``, ``value (B, T_k, d_v)``, ``mask``
        bool broadcastable to ``(B, T_q, T_k)``; returns ``(context (B, T_q, d_v), weights
        (B, T_q, T_k))``."""
        v = self.v.weight.squeeze(0)  # (h,)
        return additive_attention(query, key, value, self.w_q.weight, self.w_k.weight, v, mask)


class DotProductAttention(nn.Module):
    """Dot-product attention ``softmax(Q Kᵀ / √d) V``; ``scaled=False`` drops the ``1/√d``.

    Parameter-free; ``dropout`` applies to the weights in training.
    """

    def __init__(self, scaled: bool = True, dropout: float = 0.0) -> None:
        super().__init__()
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        self.scaled = scaled
        self.dropout = dropout

    def forward(
        self,
        query: Tensor,
        key: Tensor,
        value: Tensor,
        mask: Tensor | None = None,
        *,
        causal: bool = False,
    ) -> tuple[Tensor, Tensor]:
        """Shapes as in :func:`danlu.functional.attention.scaled_dot_product_attention`."""
        p = self.dropout if self.training else 0.0
        scale = None if self.scaled else 1.0  # None: 1/√d
        return scaled_dot_product_attention(
            query, key, value, mask, causal=causal, dropout_p=p, scale=scale
        )


class MultiHeadAttention(nn.Module):
    """Multi-head attention with optional low-rank-bottleneck fix and talking heads.

    For each head ``i = 1..h``:

        Q_i = X_q W_q^i,  K_i = X_k W_k^i,  V_i = X_v W_v^i      (W_q^i, W_k^i: d × d_k;
                                                                  W_v^i: d × d_v)
        A_i = softmax(Q_i K_iᵀ / √d_k + mask)                    (T_q × T_k)
        head_i = A_i V_i,   output = [head_1, ..., head_h] W_o    (W_o: h·d_v × d)

    ``key_size`` (``d_k``) defaults to ``d / h``. The logits ``Q_i K_iᵀ`` (``T_q × T_k``)
    have rank at most ``d_k``, so small heads cannot express every attention pattern when
    ``d_k < T`` (the *low-rank bottleneck*);
    ``key_size > d / h`` lifts the bound without changing ``d`` or ``h``. ``head_size``
    (``d_v``) also defaults to ``d / h``.

    With ``talking_heads=True`` the heads exchange information through two learned
    ``h × h`` matrices, before and after the softmax (both start as the identity, i.e. as
    plain multi-head attention):

        L'_g = Σ_i L_i P_l[i, g],   A_g = softmax(L'_g),   A'_g = Σ_i A_i P_w[i, g]

    Args:
        d_model: model width ``d``.
        heads: number of heads ``h``.
        key_size: per-head query/key size ``d_k``; default ``d / h``.
        head_size: per-head value size ``d_v``; default ``d / h``.
        talking_heads: mix heads before and after the softmax (always the reference path).
        dropout: dropout on the attention weights, in training.
        bias: add biases to the input and output projections.
        impl: ``"torch"`` (fast: ``F.scaled_dot_product_attention``) or ``"reference"``
            (the four steps of :mod:`danlu.functional.attention`); the two agree.

    Shapes (``forward``):
        query ``(B, T_q, d)``; key ``(B, T_k, d)`` and value ``(B, T_k, d)`` default to
        ``query`` (self-attention); ``key_padding_mask (B, T_k)``; ``attn_mask (T_q, T_k)``
        or ``(B, T_q, T_k)``; both bool with ``True`` = keep. Output ``(B, T_q, d)``.

    Example:
        >>> mha = MultiHeadAttention(d_model=64, heads=8, key_size=16)
        >>> mha(torch.randn(2, 10, 64), causal=True).shape
        torch.Size([2, 10, 64])

    Papers: Vaswani et al., "Attention Is All You Need", 2017; Bhojanapalli et al.,
    "Low-Rank Bottleneck in Multi-head Attention Models", ICML 2020; Shazeer et al.,
    "Talking-Heads Attention", 2020.
    """

    def __init__(
        self,
        d_model: int,
        heads: int,
        key_size: int | None = None,
        head_size: int | None = None,
        talking_heads: bool = False,
        *,
        dropout: float = 0.0,
        bias: bool = True,
        impl: Impl = "torch",
    ) -> None:
        super().__init__()
        if d_model < 1 or heads < 1:
            raise ValueError(
                f"d_model and heads must be >= 1, got d_model={d_model}, heads={heads}"
            )
        if (key_size is None or head_size is None) and d_model % heads != 0:
            raise ValueError(
                f"d_model={d_model} is not divisible by heads={heads}; choose d_model a "
                "multiple of heads, or pass key_size and head_size explicitly"
            )
        for name, size in (("key_size", key_size), ("head_size", head_size)):
            if size is not None and size < 1:
                raise ValueError(f"{name} must be >= 1, got {size}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        check_impl(impl)
        self.d_model, self.heads = d_model, heads
        self.key_size = key_size if key_size is not None else d_model // heads
        self.head_size = head_size if head_size is not None else d_model // heads
        self.talking_heads, self.dropout, self.impl = talking_heads, dropout, impl
        qk, v = heads * self.key_size, heads * self.head_size
        # Packed like nn.MultiheadAttention: rows [W_q (qk); W_k (qk); W_v (v)], each (·, d).
        self.in_proj_weight = nn.Parameter(torch.empty(2 * qk + v, d_model))
        self.in_proj_bias: nn.Parameter | None
        if bias:
            self.in_proj_bias = nn.Parameter(torch.empty(2 * qk + v))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = nn.Linear(v, d_model, bias=bias)
        if talking_heads:
            self.pre_softmax_mix = nn.Parameter(torch.eye(heads))  # P_l (h, h)
            self.post_softmax_mix = nn.Parameter(torch.eye(heads))  # P_w (h, h)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Xavier-uniform projections and zero biases, as ``nn.MultiheadAttention``."""
        nn.init.xavier_uniform_(self.in_proj_weight)
        if self.in_proj_bias is not None:
            nn.init.zeros_(self.in_proj_bias)
            nn.init.zeros_(self.out_proj.bias)
        if self.talking_heads:
            with torch.no_grad():
                self.pre_softmax_mix.copy_(torch.eye(self.heads))
                self.post_softmax_mix.copy_(torch.eye(self.heads))

    # ------------------------------------------------------------------ shared pieces
    def _project(
        self, query: Tensor, key: Tensor | None, value: Tensor | None
    ) -> tuple[Tensor, Tensor, Tensor]:
        """Input projections split into heads: ``(B, h, T_q, d_k), (B, h, T_k, d_k),
        (B, h, T_k, d_v)``."""
        key = query if key is None else key
        value = key if value is None else value
        self._check_inputs(query, key, value)
        qk = self.heads * self.key_size
        sizes = [qk, qk, self.heads * self.head_size]
        w, b = self.in_proj_weight, self.in_proj_bias
        if key is query and value is query:  # self-attention: one matmul for q, k and v
            q, k, v = F.linear(query, w, b).split(sizes, dim=-1)  # (B, T, ·) each
        elif value is key:  # attention to one memory: one matmul for k and v
            q = F.linear(query, w[:qk], None if b is None else b[:qk])
            k, v = F.linear(key, w[qk:], None if b is None else b[qk:]).split(sizes[1:], -1)
        else:
            ws = w.split(sizes)
            bs = b.split(sizes) if b is not None else (None, None, None)
            q, k, v = (
                F.linear(x, wi, bi) for x, wi, bi in zip((query, key, value), ws, bs, strict=True)
            )
        # (B, T, h·s) -> (B, h, T, s)
        q = q.unflatten(-1, (self.heads, self.key_size)).transpose(1, 2)  # (B, h, T_q, d_k)
        k = k.unflatten(-1, (self.heads, self.key_size)).transpose(1, 2)  # (B, h, T_k, d_k)
        v = v.unflatten(-1, (self.heads, self.head_size)).transpose(1, 2)  # (B, h, T_k, d_v)
        return q, k, v

    def _check_inputs(self, query: Tensor, key: Tensor, value: Tensor) -> None:
        d = self.d_model
        ok = all(x.dim() == 3 and x.size(-1) == d for x in (query, key, value))
        if not ok or key.shape[:2] != value.shape[:2] or key.size(0) != query.size(0):
            raise ValueError(
                f"expected query (B, T_q, {d}) and key, value (B, T_k, {d}) (batch first); got "
                f"query {tuple(query.shape)}, key {tuple(key.shape)}, value {tuple(value.shape)}"
            )

    def _merge_heads(self, context: Tensor) -> Tensor:
        """``(B, h, T_q, d_v)`` -> output projection -> ``(B, T_q, d)``."""
        context = context.transpose(1, 2).flatten(2)  # (B, T_q, h·d_v)
        return self.out_proj(context)

    def _mask(
        self,
        q: Tensor,
        k: Tensor,
        key_padding_mask: Tensor | None,
        attn_mask: Tensor | None,
        causal: bool,
    ) -> Tensor | None:
        """Join the masks into one bool mask broadcastable to ``(B, h, T_q, T_k)``."""
        b, _, t_q, _ = q.shape
        t_k = k.size(2)
        mask = None
        if key_padding_mask is not None:
            _check_bool(key_padding_mask, "key_padding_mask")
            if key_padding_mask.shape != (b, t_k):
                raise ValueError(
                    f"key_padding_mask must have shape (B, T_k) = {(b, t_k)}, got "
                    f"{tuple(key_padding_mask.shape)}"
                )
            mask = key_padding_mask[:, None, None, :]  # (B, 1, 1, T_k)
        if attn_mask is not None:
            _check_bool(attn_mask, "attn_mask")
            if attn_mask.shape not in ((t_q, t_k), (b, t_q, t_k)):
                raise ValueError(
                    f"attn_mask must have shape (T_q, T_k) = {(t_q, t_k)} or (B, T_q, T_k) = "
                    f"{(b, t_q, t_k)}, got {tuple(attn_mask.shape)}"
                )
            am = attn_mask.unsqueeze(-3)  # (1 or B, 1, T_q, T_k) after broadcasting
            mask = am if mask is None else mask & am
        if causal:
            tri = causal_mask(t_q, t_k, device=q.device)  # (T_q, T_k)
            mask = tri if mask is None else mask & tri
        return mask

    # ------------------------------------------------------------------ the two paths
    def _attend_reference(
        self, q: Tensor, k: Tensor, v: Tensor, mask: Tensor | None
    ) -> tuple[Tensor, Tensor]:
        scores = scaled_dot_scores(q, k)  # (B, h, T_q, T_k)
        if self.talking_heads:  # mix the logits of the heads: L'_g = Σ_i L_i P_l[i, g]
            scores = torch.einsum("bhqk,hg->bgqk", scores, self.pre_softmax_mix)
        weights = masked_softmax(scores, mask)  # (B, h, T_q, T_k)
        if self.talking_heads:  # mix the weights: A'_g = Σ_i A_i P_w[i, g]
            weights = torch.einsum("bhqk,hg->bgqk", weights, self.post_softmax_mix)
        if self.training and self.dropout > 0.0:
            weights = F.dropout(weights, self.dropout)
        return weighted_sum(weights, v), weights  # (B, h, T_q, d_v)

    def _attend_fast(
        self, q: Tensor, k: Tensor, v: Tensor, mask: Tensor | None, causal_only: bool
    ) -> Tensor:
        p = self.dropout if self.training else 0.0
        if causal_only:  # no other mask: let the kernel skip the upper triangle
            return F.scaled_dot_product_attention(q, k, v, dropout_p=p, is_causal=True)
        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=p)

    def forward(
        self,
        query: Tensor,
        key: Tensor | None = None,
        value: Tensor | None = None,
        *,
        key_padding_mask: Tensor | None = None,
        attn_mask: Tensor | None = None,
        causal: bool = False,
    ) -> Tensor:
        """Attend from ``query`` to ``key``/``value`` (self-attention when they are omitted).

        Returns ``(B, T_q, d)``. Masks are bool, ``True`` = keep; ``causal`` blocks ``j > i``.
        """
        q, k, v = self._project(query, key, value)
        return self.attend(
            q, k, v, key_padding_mask=key_padding_mask, attn_mask=attn_mask, causal=causal
        )

    # ------------------------------------------- the two halves, for incremental decoding
    def project(
        self, query: Tensor, key: Tensor | None = None, value: Tensor | None = None
    ) -> tuple[Tensor, Tensor, Tensor]:
        """The input projections split into heads: ``Q (B, h, T_q, d_k)``, ``K (B, h, T_k,
        d_k)``, ``V (B, h, T_k, d_v)`` (one matmul for self-attention). ``forward`` is
        ``attend(*project(...))``; a decoder step appends ``K, V`` to its cache between them.
        """
        return self._project(query, key, value)

    def project_query(self, query: Tensor) -> Tensor:
        """``query (B, T_q, d)`` -> ``Q (B, h, T_q, d_k)``, the query projection alone."""
        qk = self.heads * self.key_size
        b = None if self.in_proj_bias is None else self.in_proj_bias[:qk]
        q = F.linear(query, self.in_proj_weight[:qk], b)  # (B, T_q, h·d_k)
        return q.unflatten(-1, (self.heads, self.key_size)).transpose(1, 2)

    def project_key_value(self, memory: Tensor) -> tuple[Tensor, Tensor]:
        """``memory (B, T_k, d)`` -> ``K (B, h, T_k, d_k)``, ``V (B, h, T_k, d_v)``.

        Attention to a fixed memory (the encoder output, in a decoder) computes these once
        per sentence and reuses them at every decoding step.
        """
        qk = self.heads * self.key_size
        b = None if self.in_proj_bias is None else self.in_proj_bias[qk:]
        kv = F.linear(memory, self.in_proj_weight[qk:], b)  # (B, T_k, h·d_k + h·d_v)
        k, v = kv.split([qk, self.heads * self.head_size], dim=-1)
        k = k.unflatten(-1, (self.heads, self.key_size)).transpose(1, 2)  # (B, h, T_k, d_k)
        v = v.unflatten(-1, (self.heads, self.head_size)).transpose(1, 2)  # (B, h, T_k, d_v)
        return k, v

    def attend(
        self,
        q: Tensor,
        k: Tensor,
        v: Tensor,
        *,
        key_padding_mask: Tensor | None = None,
        attn_mask: Tensor | None = None,
        causal: bool = False,
    ) -> Tensor:
        """Attention over projected heads ``q (B, h, T_q, d_k)``, ``k (B, h, T_k, d_k)``,
        ``v (B, h, T_k, d_v)``, then the output projection: ``(B, T_q, d)``. Masks as in
        :meth:`forward`."""
        if self.impl == "torch" and not self.talking_heads:
            causal_only = (
                causal and key_padding_mask is None and attn_mask is None and q.size(2) == k.size(2)
            )
            mask = None if causal_only else self._mask(q, k, key_padding_mask, attn_mask, causal)
            context = self._attend_fast(q, k, v, mask, causal_only)
        else:
            mask = self._mask(q, k, key_padding_mask, attn_mask, causal)
            context, _ = self._attend_reference(q, k, v, mask)
        return self._merge_heads(context)

    def attend_with_weights(
        self,
        q: Tensor,
        k: Tensor,
        v: Tensor,
        *,
        key_padding_mask: Tensor | None = None,
        attn_mask: Tensor | None = None,
        causal: bool = False,
    ) -> tuple[Tensor, Tensor]:
        """:meth:`attend` on the reference path, also returning the weights ``(B, h, T_q,
        T_k)``."""
        mask = self._mask(q, k, key_padding_mask, attn_mask, causal)
        context, weights = self._attend_reference(q, k, v, mask)
        return self._merge_heads(context), weights

    def forward_with_weights(
        self,
        query: Tensor,
        key: Tensor | None = None,
        value: Tensor | None = None,
        *,
        key_padding_mask: Tensor | None = None,
        attn_mask: Tensor | None = None,
        causal: bool = False,
    ) -> tuple[Tensor, Tensor]:
        """Like :meth:`forward` (always the reference path) but also returns the per-head
        attention weights ``(B, h, T_q, T_k)``."""
        q, k, v = self._project(query, key, value)
        return self.attend_with_weights(
            q, k, v, key_padding_mask=key_padding_mask, attn_mask=attn_mask, causal=causal
        )

    def extra_repr(self) -> str:
        return (
            f"d_model={self.d_model}, heads={self.heads}, key_size={self.key_size}, "
            f"head_size={self.head_size}, talking_heads={self.talking_heads}, "
            f"dropout={self.dropout}, impl={self.impl!r}"
        )


def _check_bool(mask: Tensor, name: str) -> None:
    if mask.dtype != torch.bool:
        raise TypeError(
            f"{name} must be a bool tensor with True = keep, got dtype {mask.dtype}; "
            "convert with .bool(), or pass ~mask if your mask marks padding with True "
            "(the nn.MultiheadAttention convention)"
        )
