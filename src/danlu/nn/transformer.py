"""Transformer encoder and decoder layers and stacks, post-norm and pre-norm.

Encoder layer (sublayers: self-attention SA, position-wise feed-forward FFN)::

    post-norm (the paper):  x = LN(x + SA(x));         x = LN(x + FFN(x))
    pre-norm:               x = x + SA(LN(x));         x = x + FFN(LN(x))
    FFN(x) = W_2 · dropout(act(W_1 x + b_1)) + b_2

Decoder layer: masked (causal) self-attention, cross-attention to the encoder output
``memory`` (CA), then FFN, each wrapped the same way ("add & norm").

Incremental decoding: :meth:`TransformerDecoder.forward_cached` feeds the next target
positions after a key/value cache of the self-attention (``(N, h, t, d_k)`` per layer),
with the cross-attention's keys/values of the encoder output computed once
(:meth:`TransformerDecoder.memory_key_values`); it equals :meth:`forward` on the whole
prefix, but step ``t`` computes one position instead of the ``t`` of the whole prefix.

Pre-norm keeps an identity path from input to output, so deep stacks train without warm-up;
its stack ends with a final LayerNorm. Submodule names follow ``nn.TransformerEncoderLayer``
and ``nn.TransformerDecoderLayer`` (``self_attn``, ``multihead_attn``, ``linear1``,
``linear2``, ``norm1..3``), so ``load_state_dict`` copies PyTorch's weights unchanged.

**Masks are bool with True = keep** (the danlu convention), the opposite of PyTorch's
boolean ``*_key_padding_mask``/``*_mask`` arguments (True = ignore): pass ``~mask`` when
porting.

Papers: Vaswani et al., "Attention Is All You Need", 2017 (post-norm); Xiong et al., "On
Layer Normalization in the Transformer Architecture", ICML 2020 (pre-norm).
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import torch
from torch import Tensor, nn

from danlu.nn.activations import create_activation
from danlu.nn.attention import Impl, MultiHeadAttention

__all__ = [
    "TransformerDecoder",
    "TransformerDecoderLayer",
    "TransformerEncoder",
    "TransformerEncoderLayer",
]

KV = tuple[Tensor, Tensor]  # keys (N, h, T, d_k) and values (N, h, T, d_v) of one attention


class _FeedForward(nn.Module):
    """Shared FFN helpers; subclasses own ``linear1``, ``linear2``, ``activation``, ``dropout``."""

    linear1: nn.Linear
    linear2: nn.Linear
    activation: nn.Module
    dropout: nn.Dropout

    def _build_ffn(
        self, d_model: int, dim_feedforward: int, dropout: float, activation: str, bias: bool
    ) -> None:
        if dim_feedforward < 1:
            raise ValueError(f"dim_feedforward must be >= 1, got {dim_feedforward}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        self.linear1 = nn.Linear(d_model, dim_feedforward, bias=bias)
        self.dropout = nn.Dropout(dropout)
        self.linear2 = nn.Linear(dim_feedforward, d_model, bias=bias)
        self.activation = create_activation(activation)

    def _ff(self, x: Tensor) -> Tensor:
        return self.linear2(self.dropout(self.activation(self.linear1(x))))  # (B, T, d)


class TransformerEncoderLayer(_FeedForward):
    """One encoder layer: self-attention and FFN, each with residual and LayerNorm.

    Args:
        d_model: model width ``d``.
        heads: attention heads.
        dim_feedforward: FFN hidden width.
        dropout: dropout after each sublayer, inside the FFN and on attention weights.
        activation: FFN activation by name (:func:`danlu.nn.activations.create_activation`).
        norm_first: pre-norm (``True``) or post-norm (``False``, the paper).
        layer_norm_eps: LayerNorm epsilon.
        bias: biases in the linear layers and LayerNorms.
        key_size, head_size, talking_heads, impl: passed to :class:`MultiHeadAttention`.

    Shapes: ``src (B, T, d)``, ``src_key_padding_mask (B, T)``, ``src_mask (T, T)`` or
    ``(B, T, T)``, both bool with True = keep; returns ``(B, T, d)``.

    Example:
        >>> import torch
        >>> layer = TransformerEncoderLayer(32, 4, dim_feedforward=64, norm_first=True)
        >>> layer(torch.randn(2, 7, 32)).shape
        torch.Size([2, 7, 32])
    """

    def __init__(
        self,
        d_model: int,
        heads: int,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        activation: str = "relu",
        *,
        norm_first: bool = False,
        layer_norm_eps: float = 1e-5,
        bias: bool = True,
        key_size: int | None = None,
        head_size: int | None = None,
        talking_heads: bool = False,
        impl: Impl = "torch",
    ) -> None:
        super().__init__()
        self.self_attn = MultiHeadAttention(
            d_model,
            heads,
            key_size,
            head_size,
            talking_heads,
            dropout=dropout,
            bias=bias,
            impl=impl,
        )
        self._build_ffn(d_model, dim_feedforward, dropout, activation, bias)
        self.norm_first = norm_first
        self.norm1 = nn.LayerNorm(d_model, eps=layer_norm_eps, bias=bias)
        self.norm2 = nn.LayerNorm(d_model, eps=layer_norm_eps, bias=bias)
        self.dropout1 = nn.Dropout(dropout)
        self.dropout2 = nn.Dropout(dropout)

    def _sa(self, x: Tensor, pad: Tensor | None, mask: Tensor | None, causal: bool) -> Tensor:
        x = self.self_attn(x, key_padding_mask=pad, attn_mask=mask, causal=causal)
        return self.dropout1(x)

    def forward(
        self,
        src: Tensor,
        *,
        src_key_padding_mask: Tensor | None = None,
        src_mask: Tensor | None = None,
        causal: bool = False,
    ) -> Tensor:
        """``src (B, T, d)`` -> ``(B, T, d)``; masks bool, True = keep."""
        x, pad, mask = src, src_key_padding_mask, src_mask
        if self.norm_first:
            x = x + self._sa(self.norm1(x), pad, mask, causal)
            x = x + self.dropout2(self._ff(self.norm2(x)))
        else:
            x = self.norm1(x + self._sa(x, pad, mask, causal))
            x = self.norm2(x + self.dropout2(self._ff(x)))
        return x


class TransformerDecoderLayer(_FeedForward):
    """One decoder layer: masked self-attention, cross-attention to ``memory``, then FFN.

    Args: as :class:`TransformerEncoderLayer`.

    Shapes: ``tgt (B, T, d)``, ``memory (B, S, d)``; ``tgt_key_padding_mask (B, T)``,
    ``memory_key_padding_mask (B, S)``, ``tgt_mask (T, T)``/``(B, T, T)``, ``memory_mask
    (T, S)``/``(B, T, S)``, all bool with True = keep. ``causal=True`` (the default) blocks
    future target positions in the self-attention. Returns ``(B, T, d)``.

    Example:
        >>> import torch
        >>> layer = TransformerDecoderLayer(32, 4, dim_feedforward=64)
        >>> layer(torch.randn(2, 5, 32), torch.randn(2, 9, 32)).shape
        torch.Size([2, 5, 32])
    """

    def __init__(
        self,
        d_model: int,
        heads: int,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        activation: str = "relu",
        *,
        norm_first: bool = False,
        layer_norm_eps: float = 1e-5,
        bias: bool = True,
        key_size: int | None = None,
        head_size: int | None = None,
        talking_heads: bool = False,
        impl: Impl = "torch",
    ) -> None:
        super().__init__()
        attn = (d_model, heads, key_size, head_size, talking_heads)
        self.self_attn = MultiHeadAttention(*attn, dropout=dropout, bias=bias, impl=impl)
        self.multihead_attn = MultiHeadAttention(*attn, dropout=dropout, bias=bias, impl=impl)
        self._build_ffn(d_model, dim_feedforward, dropout, activation, bias)
        self.norm_first = norm_first
        self.norm1 = nn.LayerNorm(d_model, eps=layer_norm_eps, bias=bias)
        self.norm2 = nn.LayerNorm(d_model, eps=layer_norm_eps, bias=bias)
        self.norm3 = nn.LayerNorm(d_model, eps=layer_norm_eps, bias=bias)
        self.dropout1 = nn.Dropout(dropout)
        self.dropout2 = nn.Dropout(dropout)
        self.dropout3 = nn.Dropout(dropout)

    def forward(
        self,
        tgt: Tensor,
        memory: Tensor,
        *,
        tgt_key_padding_mask: Tensor | None = None,
        memory_key_padding_mask: Tensor | None = None,
        tgt_mask: Tensor | None = None,
        memory_mask: Tensor | None = None,
        causal: bool = True,
    ) -> Tensor:
        """``tgt (B, T, d)``, ``memory (B, S, d)`` -> ``(B, T, d)``; masks bool, True = keep."""

        def sa(x: Tensor) -> Tensor:  # masked self-attention over the target
            return self.self_attn(
                x, key_padding_mask=tgt_key_padding_mask, attn_mask=tgt_mask, causal=causal
            )

        def ca(x: Tensor) -> Tensor:  # cross-attention: target queries, memory keys/values
            return self.multihead_attn(
                x, memory, memory, key_padding_mask=memory_key_padding_mask, attn_mask=memory_mask
            )

        return self._add_and_norm(tgt, sa, ca)

    def _add_and_norm(
        self, x: Tensor, sa: Callable[[Tensor], Tensor], ca: Callable[[Tensor], Tensor]
    ) -> Tensor:
        """The three sublayers with residuals and LayerNorms, pre- or post-norm."""
        if self.norm_first:
            x = x + self.dropout1(sa(self.norm1(x)))
            x = x + self.dropout2(ca(self.norm2(x)))
            return x + self.dropout3(self._ff(self.norm3(x)))
        x = self.norm1(x + self.dropout1(sa(x)))
        x = self.norm2(x + self.dropout2(ca(x)))
        return self.norm3(x + self.dropout3(self._ff(x)))

    # ------------------------------------------------------------ incremental decoding
    def empty_cache(self, batch: int, like: Tensor) -> KV:
        """The self-attention cache before the first step: ``K (N, h, 0, d_k)``, ``V (N, h,
        0, d_v)``, with the dtype and device of ``like``."""
        attn = self.self_attn
        k = like.new_zeros(batch, attn.heads, 0, attn.key_size)
        return k, like.new_zeros(batch, attn.heads, 0, attn.head_size)

    def memory_key_value(self, memory: Tensor) -> KV:
        """The cross-attention's ``K, V`` of ``memory (N, S, d)``, computed once per sentence."""
        return self.multihead_attn.project_key_value(memory)

    def forward_cached(
        self,
        x: Tensor,
        cache: KV,
        memory_kv: KV,
        memory_key_padding_mask: Tensor | None = None,
        *,
        need_weights: bool = False,
    ) -> tuple[Tensor, KV, Tensor | None]:
        """The next ``T`` target positions ``x (N, T, d)`` after the ``t`` in ``cache``.

        The self-attention appends their ``K, V`` to the cache (``(N, h, t, ·)`` ->
        ``(N, h, t+T, ·)``) and attends causally over it: position ``t+i`` sees keys
        ``<= t+i``. The cross-attention reuses ``memory_kv`` (:meth:`memory_key_value`).
        Row ``i`` equals row ``t+i`` of :meth:`forward` on the whole prefix; from an empty
        cache this *is* the teacher-forced forward (``T = 1``: one decoding step).

        Returns ``(out (N, T, d), new cache, cross-attention weights (N, h, T, S) if
        need_weights else None)``.
        """
        t, steps = cache[0].size(2), x.size(1)
        new_cache = cache
        weights: Tensor | None = None

        def sa(h: Tensor) -> Tensor:
            nonlocal new_cache
            q, k, v = self.self_attn.project(h)  # (N, h, T, ·) each
            if t:  # (N, h, t+T, ·)
                k, v = torch.cat([cache[0], k], 2), torch.cat([cache[1], v], 2)
            new_cache = (k, v)
            if steps == 1:  # one query after the cache: it may see every key
                return self.self_attn.attend(q, k, v)
            # query i sits at position t+i: keys j <= t+i (top-left causal when t = 0)
            mask = None if t == 0 else k.new_ones(steps, t + steps, dtype=torch.bool).tril(t)
            return self.self_attn.attend(q, k, v, attn_mask=mask, causal=t == 0)

        def ca(h: Tensor) -> Tensor:
            nonlocal weights
            q = self.multihead_attn.project_query(h)  # (N, h, T, d_k)
            pad = memory_key_padding_mask
            if not need_weights:
                return self.multihead_attn.attend(q, *memory_kv, key_padding_mask=pad)
            out, weights = self.multihead_attn.attend_with_weights(
                q, *memory_kv, key_padding_mask=pad
            )
            return out

        return self._add_and_norm(x, sa, ca), new_cache, weights


def _clones(layer: nn.Module, n: int) -> nn.ModuleList:
    """``n`` deep copies of ``layer``, each re-initialized so the layers start independent."""
    if n < 1:
        raise ValueError(f"num_layers must be >= 1, got {n}")
    copies = [copy.deepcopy(layer) for _ in range(n)]
    for c in copies:
        for m in reversed(list(c.modules())):  # children first, so a parent's reset wins
            reset = getattr(m, "reset_parameters", None)
            if callable(reset):
                reset()
    return nn.ModuleList(copies)


def _final_norm(
    layer: TransformerEncoderLayer | TransformerDecoderLayer, final_norm: bool | None
) -> nn.LayerNorm | None:
    """A fresh copy of the layer's LayerNorm if ``final_norm`` (default: ``norm_first``)."""
    if not (layer.norm_first if final_norm is None else final_norm):
        return None
    norm = copy.deepcopy(layer.norm1)
    norm.reset_parameters()
    return norm


class TransformerEncoder(nn.Module):
    """A stack of ``num_layers`` copies of an encoder layer (re-initialized, independent).

    ``x_{l+1} = layer_l(x_l)``, then a final LayerNorm (``self.norm``) when ``final_norm``
    is true; it defaults to ``layer.norm_first`` (a pre-norm stack needs it, a post-norm
    layer already ends in one).

    Args:
        layer: the :class:`TransformerEncoderLayer` to copy.
        num_layers: depth.
        final_norm: add a LayerNorm after the last layer; default ``layer.norm_first``.

    Example:
        >>> import torch
        >>> layer = TransformerEncoderLayer(32, 4, dim_feedforward=64, norm_first=True)
        >>> TransformerEncoder(layer, num_layers=2)(torch.randn(2, 7, 32)).shape
        torch.Size([2, 7, 32])
    """

    def __init__(
        self, layer: TransformerEncoderLayer, num_layers: int, final_norm: bool | None = None
    ) -> None:
        super().__init__()
        self.layers = _clones(layer, num_layers)
        self.norm = _final_norm(layer, final_norm)

    def forward(
        self,
        src: Tensor,
        *,
        src_key_padding_mask: Tensor | None = None,
        src_mask: Tensor | None = None,
        causal: bool = False,
    ) -> Tensor:
        """``src (B, T, d)`` -> ``(B, T, d)``; masks bool, True = keep."""
        x = src
        for layer in self.layers:
            x = layer(
                x, src_key_padding_mask=src_key_padding_mask, src_mask=src_mask, causal=causal
            )
        return x if self.norm is None else self.norm(x)


class TransformerDecoder(nn.Module):
    """A stack of ``num_layers`` copies of a decoder layer, optionally a final LayerNorm.

    Arguments as :class:`TransformerEncoder`; ``forward`` takes those of
    :meth:`TransformerDecoderLayer.forward` and returns ``(B, T, d)``.

    Example:
        >>> import torch
        >>> layer = TransformerDecoderLayer(32, 4, dim_feedforward=64)
        >>> dec = TransformerDecoder(layer, num_layers=2)
        >>> dec(torch.randn(2, 5, 32), torch.randn(2, 9, 32)).shape
        torch.Size([2, 5, 32])
    """

    def __init__(
        self, layer: TransformerDecoderLayer, num_layers: int, final_norm: bool | None = None
    ) -> None:
        super().__init__()
        self.layers = _clones(layer, num_layers)
        self.norm = _final_norm(layer, final_norm)

    def forward(
        self,
        tgt: Tensor,
        memory: Tensor,
        *,
        tgt_key_padding_mask: Tensor | None = None,
        memory_key_padding_mask: Tensor | None = None,
        tgt_mask: Tensor | None = None,
        memory_mask: Tensor | None = None,
        causal: bool = True,
    ) -> Tensor:
        """``tgt (B, T, d)``, ``memory (B, S, d)`` -> ``(B, T, d)``; masks bool, True = keep."""
        x = tgt
        for layer in self.layers:
            x = layer(
                x,
                memory,
                tgt_key_padding_mask=tgt_key_padding_mask,
                memory_key_padding_mask=memory_key_padding_mask,
                tgt_mask=tgt_mask,
                memory_mask=memory_mask,
                causal=causal,
            )
        return x if self.norm is None else self.norm(x)

    # ------------------------------------------------------------ incremental decoding
    def empty_cache(self, batch: int, like: Tensor) -> list[KV]:
        """One empty self-attention cache per layer (see
        :meth:`TransformerDecoderLayer.empty_cache`)."""
        return [layer.empty_cache(batch, like) for layer in self.layers]

    def memory_key_values(self, memory: Tensor) -> list[KV]:
        """Each layer's cross-attention ``K, V`` of ``memory (N, S, d)``."""
        return [layer.memory_key_value(memory) for layer in self.layers]

    def forward_cached(
        self,
        x: Tensor,
        caches: list[KV],
        memory_kvs: list[KV],
        memory_key_padding_mask: Tensor | None = None,
        *,
        need_weights: bool = False,
    ) -> tuple[Tensor, list[KV], list[Tensor]]:
        """:meth:`TransformerDecoderLayer.forward_cached` through every layer: ``x (N, T,
        d)`` -> ``(out (N, T, d), new caches, per-layer cross-attention weights (N, h, T,
        S) if need_weights)``.

        Example:
            >>> import torch
            >>> dec = TransformerDecoder(TransformerDecoderLayer(32, 4, 64), num_layers=2)
            >>> memory = torch.randn(3, 9, 32)
            >>> caches, kvs = dec.empty_cache(3, memory), dec.memory_key_values(memory)
            >>> out, caches, _ = dec.forward_cached(torch.randn(3, 1, 32), caches, kvs)
            >>> out.shape, caches[0][0].shape  # one step: one cached position
            (torch.Size([3, 1, 32]), torch.Size([3, 4, 1, 8]))
        """
        new_caches, weights = [], []
        for layer, cache, kv in zip(self.layers, caches, memory_kvs, strict=True):
            x, cache, w = layer.forward_cached(
                x, cache, kv, memory_key_padding_mask, need_weights=need_weights
            )
            new_caches.append(cache)
            if w is not None:
                weights.append(w)
        return (x if self.norm is None else self.norm(x)), new_caches, weights
