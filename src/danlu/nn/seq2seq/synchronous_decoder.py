"""Synchronous bidirectional decoder: an L2R and an R2L Transformer decoder reading each other.

The L2R decoder reads the target ``y_1 .. y_n``, the R2L decoder the reversed target
``z_i = y_{n+1-i}``; both inputs are shifted right, so position ``t`` reads token ``t-1``
(BOS at ``t = 1``). Layer ``l`` of direction ``d`` (``d̄`` the other one), pre-norm, with
``a_d = LN1(x_d)`` the input of its self-attention (post-norm: ``a_d = x_d``)::

    x_d = x_d + SelfAttn(a_d[t],  keys/values a_d[j],  j <= t)        its own past
    x_d = x_d + OtherAttn(LN4(x_d)[t],  keys/values a_d̄[j],  j <= t)  the other direction
    x_d = x_d + CrossAttn(LN2(x_d)[t],  memory)                       the source
    x_d = x_d + FFN(LN3(x_d)[t])

(post-norm: ``x = LN(x + sublayer(x))`` for each, in the same order). So in layer ``l`` the
L2R query at position ``t`` attends to the R2L decoder's first ``t`` states entering that
layer (the outputs of its layer ``l-1``, or its embeddings for ``l = 1``; after its LN1 in
pre-norm): the keys and values the R2L self-attention of layer ``l`` uses. And vice versa.

**Causality.** At layer 0, position ``t`` of either direction is the embedding of its token
``t-1``; every sublayer at position ``t`` reads positions ``<= t`` of the layer inputs of
both directions. By induction every state at position ``t`` depends on ``y_<t`` and
``z_<t`` only, so the decoders model

    p(y_t | y_<t, z_<t, x)    and    p(z_t | z_<t, y_<t, x):

predicting its ``t``-th token, each direction sees the other's ``t - 1`` tokens generated so
far (``t`` states, counting BOS), as in Su Jianlin's post and Zhou et al. Teacher forcing
(all positions at once, triangular masks) is step-by-step decoding (a cache per layer).

**Ended directions.** A position whose input is PAD (the right padding of a training batch,
or the steps after a direction emitted EOS during search) is never a key of the other
direction's ``OtherAttn``; position 1 (BOS) always is. In a training batch both directions
have the same length, so this changes no real position.

Differences from the sources: Zhou et al. fuse the attention to the other direction into
the self-attention sublayer (``H = H_→ + λ·tanh(H_←)`` in one of their variants); Su
Jianlin's post builds the idea on recurrent decoders. Here each direction has its own
decoder, and the attention to the other direction is a sublayer of its own (projections,
LayerNorm, residual), so the model learns how much to use it.

Papers: Zhou, Zhang, Zong, "Synchronous Bidirectional Neural Machine Translation", TACL
2019; Su Jianlin, "seq2seq之双向解码" (kexue.fm, 2019).
"""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch import Tensor, nn

from danlu.nn.transformer import KV, TransformerDecoderLayer

__all__ = ["LayerCache", "SynchronousDecoder", "SynchronousDecoderLayer"]

# per layer and direction: self-attention K (N, h, t, d_k), V (N, h, t, d_v), then the
# other-direction attention's K (N, h, t, d_k), V (N, h, t, d_v)
LayerCache = tuple[Tensor, Tensor, Tensor, Tensor]
Pair = tuple[Any, Any]  # (L2R, R2L)


def _triangle(t: int, steps: int, like: Tensor) -> dict[str, Any]:
    """Masks for ``steps`` queries at positions ``t..t+steps-1`` over keys ``0..t+steps-1``:
    query ``i`` sees keys ``j <= t + i``."""
    if steps == 1:  # one query after the cache: every key
        return {"attn_mask": None, "causal": False}
    if t == 0:  # top-left causal: the fast kernel's own mask
        return {"attn_mask": None, "causal": True}
    mask = torch.ones(steps, t + steps, dtype=torch.bool, device=like.device).tril(t)
    return {"attn_mask": mask, "causal": False}


class SynchronousDecoderLayer(TransformerDecoderLayer):
    """A decoder layer that also attends to the other direction's states (module docstring).

    Args: those of :class:`~danlu.nn.transformer.TransformerDecoderLayer`; ``other_attn``
    (a :class:`~danlu.nn.MultiHeadAttention` like ``self_attn``), ``norm4`` and
    ``dropout4`` are added. Only :meth:`forward_synchronous` runs it: a layer alone lacks
    the other direction's states, so ``forward`` and ``forward_cached`` raise.

    Example:
        >>> layer = SynchronousDecoderLayer(16, 2, dim_feedforward=32, norm_first=True)
        >>> x, other = torch.randn(3, 4, 16), torch.randn(3, 4, 16)
        >>> memory = torch.randn(3, 5, 16)
        >>> out, cache, _ = layer.forward_synchronous(
        ...     x, layer.attention_input(x), other, None, layer.empty_pair_cache(3, x),
        ...     layer.memory_key_value(memory))
        >>> out.shape, cache[2].shape  # (N, T, d); other-direction keys (N, h, T, d_k)
        (torch.Size([3, 4, 16]), torch.Size([3, 2, 4, 8]))
    """

    def __init__(self, d_model: int, heads: int, *args: Any, **kwargs: Any) -> None:
        super().__init__(d_model, heads, *args, **kwargs)
        self.other_attn = copy.deepcopy(self.self_attn)
        self.other_attn.reset_parameters()
        self.norm4 = copy.deepcopy(self.norm1)
        self.norm4.reset_parameters()
        self.dropout4 = nn.Dropout(self.dropout1.p)

    def forward(self, *args: Any, **kwargs: Any) -> Tensor:
        raise TypeError(
            "a SynchronousDecoderLayer needs the other direction's states; run it through "
            "SynchronousDecoder.forward_cached (or forward_synchronous)"
        )

    def forward_cached(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    def attention_input(self, x: Tensor) -> Tensor:
        """``a = LN1(x)`` (pre-norm) or ``x`` (post-norm): what the self-attention and the
        other direction's ``OtherAttn`` attend to."""
        return self.norm1(x) if self.norm_first else x

    def empty_pair_cache(self, batch: int, like: Tensor) -> LayerCache:
        """Both caches before the first step, ``(N, h, 0, ·)`` each."""
        k, v = self.empty_cache(batch, like)
        other = self.other_attn
        ok = like.new_zeros(batch, other.heads, 0, other.key_size)
        return k, v, ok, like.new_zeros(batch, other.heads, 0, other.head_size)

    def forward_synchronous(
        self,
        x: Tensor,
        a: Tensor,
        a_other: Tensor,
        other_keep: Tensor | None,
        cache: LayerCache,
        memory_kv: KV,
        memory_key_padding_mask: Tensor | None = None,
        *,
        need_weights: bool = False,
    ) -> tuple[Tensor, LayerCache, Tensor | None]:
        """The next ``T`` positions of this direction after the ``t`` in ``cache``.

        Args:
            x: ``(N, T, d)`` this direction's layer input at positions ``t .. t+T-1``.
            a: ``(N, T, d)`` its :meth:`attention_input`.
            a_other: ``(N, T, d)`` the other direction's ``attention_input`` at the same
                positions (from its own layer).
            other_keep: ``(N, t+T)`` bool, the other direction's positions that may be
                attended to (True: its input there is not PAD); None: all of them.
            cache: this layer's :data:`LayerCache` for this direction (``t`` positions).
            memory_kv: the source attention's ``K, V`` (:meth:`memory_key_value`).
            memory_key_padding_mask: ``(N, S)`` bool, True at real source tokens.
            need_weights: also return the source attention weights.

        Returns:
            ``(out (N, T, d), cache with t+T positions, source attention weights (N, h, T,
            S) or None)``.
        """
        t, steps = cache[0].size(2), x.size(1)
        masks = _triangle(t, steps, x)
        q, k, v = self.self_attn.project(a)  # (N, h, T, ·)
        k, v = torch.cat([cache[0], k], 2), torch.cat([cache[1], v], 2)  # (N, h, t+T, ·)
        ok, ov = self.other_attn.project_key_value(a_other)
        ok, ov = torch.cat([cache[2], ok], 2), torch.cat([cache[3], ov], 2)
        weights: Tensor | None = None

        def oa(h: Tensor) -> Tensor:  # queries: this direction; keys: the other's a[<= t]
            q_other = self.other_attn.project_query(h)
            return self.other_attn.attend(q_other, ok, ov, key_padding_mask=other_keep, **masks)

        def ca(h: Tensor) -> Tensor:  # queries: this direction; keys: the source
            nonlocal weights
            q_src = self.multihead_attn.project_query(h)
            if not need_weights:
                return self.multihead_attn.attend(
                    q_src, *memory_kv, key_padding_mask=memory_key_padding_mask
                )
            out, weights = self.multihead_attn.attend_with_weights(
                q_src, *memory_kv, key_padding_mask=memory_key_padding_mask
            )
            return out

        own = self.dropout1(self.self_attn.attend(q, k, v, **masks))
        if self.norm_first:
            x = x + own
            x = x + self.dropout4(oa(self.norm4(x)))
            x = x + self.dropout2(ca(self.norm2(x)))
            x = x + self.dropout3(self._ff(self.norm3(x)))
        else:
            x = self.norm1(x + own)
            x = self.norm4(x + self.dropout4(oa(x)))
            x = self.norm2(x + self.dropout2(ca(x)))
            x = self.norm3(x + self.dropout3(self._ff(x)))
        return x, (k, v, ok, ov), weights


class SynchronousDecoder(nn.Module):
    """The L2R and R2L stacks of :class:`SynchronousDecoderLayer`, run layer by layer.

    Args:
        d_model, heads: width and heads of every layer.
        num_layers: depth of each direction.
        **layer_options: the other options of :class:`SynchronousDecoderLayer`
            (``dim_feedforward``, ``dropout``, ``norm_first``, ``key_size``, ...). A
            pre-norm stack ends with a LayerNorm per direction.

    Example:
        >>> dec = SynchronousDecoder(16, 2, num_layers=2, dim_feedforward=32, norm_first=True)
        >>> memory = torch.randn(3, 5, 16)
        >>> xs = (torch.randn(3, 4, 16), torch.randn(3, 4, 16))
        >>> keep = torch.ones(3, 4, 2, dtype=torch.bool)
        >>> out, caches, _ = dec.forward_cached(
        ...     xs, dec.empty_cache(3, memory), dec.memory_key_values(memory), None, keep)
        >>> out.shape  # (N, T, 2, d): L2R then R2L
        torch.Size([3, 4, 2, 16])
    """

    def __init__(self, d_model: int, heads: int, num_layers: int, **layer_options: Any) -> None:
        super().__init__()
        if num_layers < 1:
            raise ValueError(f"num_layers must be >= 1, got {num_layers}")

        def stack() -> nn.ModuleList:
            return nn.ModuleList(
                SynchronousDecoderLayer(d_model, heads, **layer_options) for _ in range(num_layers)
            )

        self.l2r, self.r2l = stack(), stack()
        first = self.l2r[0]  # a pre-norm stack ends with a LayerNorm per direction
        self.norms: nn.ModuleList | None = None
        if first.norm_first:
            self.norms = nn.ModuleList(nn.LayerNorm(d_model, eps=first.norm1.eps) for _ in "lr")

    def _pairs(self) -> list[tuple[SynchronousDecoderLayer, SynchronousDecoderLayer]]:
        return list(zip(self.l2r, self.r2l, strict=True))  # type: ignore[arg-type]

    def empty_cache(self, batch: int, like: Tensor) -> Pair:
        """``(L2R caches, R2L caches)``, one empty :data:`LayerCache` per layer each."""
        return tuple(
            tuple(layer.empty_pair_cache(batch, like) for layer in stack)
            for stack in (self.l2r, self.r2l)
        )  # type: ignore[return-value]

    def memory_key_values(self, memory: Tensor) -> Pair:
        """``(L2R, R2L)`` per-layer source-attention ``K, V`` of ``memory (N, S, d)``."""
        return tuple(
            tuple(layer.memory_key_value(memory) for layer in stack)
            for stack in (self.l2r, self.r2l)
        )  # type: ignore[return-value]

    def forward_cached(
        self,
        xs: tuple[Tensor, Tensor],
        caches: Pair,
        memory_kvs: Pair,
        memory_key_padding_mask: Tensor | None,
        keep: Tensor,
        *,
        need_weights: bool = False,
    ) -> tuple[Tensor, Pair, list[Tensor]]:
        """Both directions' next ``T`` positions after the ``t`` in the caches.

        Args:
            xs: ``(L2R, R2L)`` inputs ``(N, T, d)`` (embedded tokens) at positions ``t ..``.
            caches: :meth:`empty_cache` or what this method returned (``t`` positions).
            memory_kvs: :meth:`memory_key_values` of the encoder output.
            memory_key_padding_mask: ``(N, S)`` bool, True at real source tokens.
            keep: ``(N, t+T, 2)`` bool: position ``j`` of direction ``d`` may be attended
                to by the other direction (module docstring).
            need_weights: also return the source attention weights.

        Returns:
            ``(out (N, T, 2, d), new caches, per layer source attention weights (N, 2, h,
            T, S) if need_weights)``.
        """
        x_l, x_r = xs
        # which of the other direction's positions each direction may attend to; None (no
        # ended direction, no padding): every one, and the fast causal kernel applies
        keep_r, keep_l = (None, None) if bool(keep.all()) else (keep[..., 1], keep[..., 0])
        new_l, new_r, weights = [], [], []
        for i, (left, right) in enumerate(self._pairs()):
            a_l, a_r = left.attention_input(x_l), right.attention_input(x_r)
            mem = memory_key_padding_mask
            x_l, c_l, w_l = left.forward_synchronous(
                x_l, a_l, a_r, keep_r, caches[0][i], memory_kvs[0][i], mem,
                need_weights=need_weights,
            )  # fmt: skip
            x_r, c_r, w_r = right.forward_synchronous(
                x_r, a_r, a_l, keep_l, caches[1][i], memory_kvs[1][i], mem,
                need_weights=need_weights,
            )  # fmt: skip
            new_l.append(c_l)
            new_r.append(c_r)
            if w_l is not None and w_r is not None:
                weights.append(torch.stack([w_l, w_r], 1))
        if self.norms is not None:
            x_l, x_r = self.norms[0](x_l), self.norms[1](x_r)
        return torch.stack([x_l, x_r], 2), (tuple(new_l), tuple(new_r)), weights
