"""Transformer encoder-decoder for translation (``transformer``), with a key/value cache.

Built on :mod:`danlu.nn.transformer` (pre-norm by default). With ``d`` the model width::

    x_0 = dropout(E_src[x]·√d + PE[:S]);   memory = Encoder(x_0)             (N, S, d)
    y_0 = dropout(E_tgt[y_in]·√d + PE[:T])                                   (N, T, d)
    decoder block (pre-norm), L times:
        y = y + SelfAttn(LN(y), causal)          target position t sees positions <= t
        y = y + CrossAttn(LN(y), memory)         queries: target; keys/values: memory
        y = y + FFN(LN(y))
    logits = LN(y) E_tgtᵀ                        output projection tied to E_tgt

``shared_embeddings=True`` uses one table for source and target (a joint vocabulary);
``key_size`` and ``talking_heads`` go to every :class:`~danlu.nn.MultiHeadAttention`.
Embeddings start ``N(0, 1/d)`` so that ``E·√d`` has unit-variance entries, like ``PE``.
Label smoothing belongs to the loss: :func:`danlu.functional.label_smoothed_nll`.

Incremental decoding: :meth:`start` encodes once and projects the encoder output into each
layer's cross-attention keys/values; :meth:`step` embeds one token at position ``t`` (the
length of the cache) and runs :meth:`TransformerDecoder.forward_cached`, which appends its
self-attention keys/values to the cache. Training runs the same function from an empty
cache over the whole target at once (a causal mask).

Paper: Vaswani et al., "Attention Is All You Need", NeurIPS 2017; tied embeddings: Press &
Wolf, "Using the Output Embedding to Improve Language Models", EACL 2017.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from danlu.errors import UsageError
from danlu.functional.positional import sinusoidal_encoding
from danlu.nn.seq2seq.base import PAD_ID, Seq2Seq, check_dropout, check_sizes, check_source
from danlu.nn.transformer import (
    KV,
    TransformerDecoder,
    TransformerDecoderLayer,
    TransformerEncoder,
    TransformerEncoderLayer,
)

__all__ = ["TransformerSeq2Seq", "TransformerState"]


class TransformerState(NamedTuple):
    """Decoder state of :class:`TransformerSeq2Seq`, rows first; ``t`` = tokens so far."""

    memory_mask: Tensor  # (N, S) bool, True at real source tokens
    memory_kv: tuple[KV, ...]  # per layer: cross-attention K (N, h, S, d_k), V (N, h, S, d_v)
    cache: tuple[KV, ...]  # per layer: self-attention K (N, h, t, d_k), V (N, h, t, d_v)


def _embedding(vocab_size: int, d_model: int) -> nn.Embedding:
    emb = nn.Embedding(vocab_size, d_model, padding_idx=PAD_ID)
    with torch.no_grad():  # N(0, 1/d): E·√d has unit-variance entries
        nn.init.normal_(emb.weight, std=d_model**-0.5)
        emb.weight[PAD_ID].zero_()
    return emb


class TransformerSeq2Seq(Seq2Seq):
    """Transformer encoder-decoder (``transformer``) with tied output embeddings.

    Args:
        src_vocab, tgt_vocab: vocabulary sizes (id 0 = padding in both).
        d_model: width ``d`` (a multiple of ``heads``).
        heads: attention heads.
        num_encoder_layers, num_decoder_layers: depths.
        dim_feedforward: FFN width (default ``4·d``).
        dropout: on embeddings + positions, after every sublayer, in the FFN and on the
            attention weights, in training.
        activation: FFN activation by name.
        norm_first: pre-norm (default) or post-norm (the paper).
        key_size: per-head query/key size ``d_k`` (default ``d / heads``); larger lifts the
            low-rank bottleneck.
        talking_heads: mix the heads before and after the softmax.
        shared_embeddings: one embedding table for source and target (needs ``src_vocab
            == tgt_vocab``: a joint vocabulary).
        tie_output: the output projection is the target embedding table (no extra weights).
        max_len: longest source or target accepted (the positional table's length).

    Example:
        >>> model = TransformerSeq2Seq(30, 30, d_model=16, heads=2, num_encoder_layers=1,
        ...                            num_decoder_layers=1, shared_embeddings=True)
        >>> src, tgt_in = torch.tensor([[5, 6, 7], [8, 9, 0]]), torch.tensor([[1, 4], [1, 5]])
        >>> model(src, src != 0, tgt_in).shape
        torch.Size([2, 2, 30])
        >>> log_probs, state = model.step(model.start(src, src != 0), torch.tensor([1, 1]))
        >>> log_probs.shape, state.cache[0][0].shape  # (N, V); one cached position
        (torch.Size([2, 30]), torch.Size([2, 2, 1, 8]))
    """

    pe: Tensor

    def __init__(
        self,
        src_vocab: int,
        tgt_vocab: int,
        *,
        d_model: int = 256,
        heads: int = 4,
        num_encoder_layers: int = 3,
        num_decoder_layers: int = 3,
        dim_feedforward: int | None = None,
        dropout: float = 0.1,
        activation: str = "relu",
        norm_first: bool = True,
        key_size: int | None = None,
        talking_heads: bool = False,
        shared_embeddings: bool = False,
        tie_output: bool = True,
        max_len: int = 1024,
    ) -> None:
        super().__init__()
        ff = 4 * d_model if dim_feedforward is None else dim_feedforward
        check_sizes(src_vocab=src_vocab, tgt_vocab=tgt_vocab, d_model=d_model, heads=heads,
                    num_encoder_layers=num_encoder_layers, dim_feedforward=ff,
                    num_decoder_layers=num_decoder_layers, max_len=max_len)  # fmt: skip
        check_dropout(dropout)
        if d_model % heads:
            raise UsageError(
                f"d_model={d_model} must be a multiple of heads={heads}; change one of them "
                "(key_size sets the query/key size per head on its own)"
            )
        if key_size is not None and key_size < 1:
            raise UsageError(f"key_size must be >= 1, got {key_size}")
        if shared_embeddings and src_vocab != tgt_vocab:
            raise UsageError(
                f"shared_embeddings needs one joint vocabulary, got src_vocab={src_vocab} and "
                f"tgt_vocab={tgt_vocab}; build a joint vocabulary or set shared_embeddings=False"
            )
        self.d_model, self.max_len = d_model, max_len
        self.tgt_embedding = _embedding(tgt_vocab, d_model)
        self.src_embedding = self.tgt_embedding if shared_embeddings else _embedding(
            src_vocab, d_model
        )  # fmt: skip
        self.register_buffer("pe", sinusoidal_encoding(max_len, d_model), persistent=False)
        self.dropout = nn.Dropout(dropout)
        layer = {
            "dim_feedforward": ff, "dropout": dropout, "activation": activation,
            "norm_first": norm_first, "key_size": key_size, "talking_heads": talking_heads,
        }  # fmt: skip
        self.encoder = TransformerEncoder(
            TransformerEncoderLayer(d_model, heads, **layer), num_encoder_layers
        )
        self.decoder = TransformerDecoder(
            TransformerDecoderLayer(d_model, heads, **layer), num_decoder_layers
        )
        self.output = None if tie_output else nn.Linear(d_model, tgt_vocab, bias=False)

    @property
    def output_weight(self) -> Tensor:
        """The output projection ``(V, d)``: the target embeddings when tied."""
        return self.tgt_embedding.weight if self.output is None else self.output.weight

    def _embed(self, table: nn.Embedding, tokens: Tensor, start: int = 0) -> Tensor:
        """``dropout(E[tokens]·√d + PE[start : start+T])`` for ``tokens (N, T)``."""
        end = start + tokens.size(1)
        if end > self.max_len:
            raise UsageError(
                f"a sequence of {end} tokens exceeds max_len={self.max_len}; truncate the "
                "input, lower the search's max length, or build the model with a larger max_len"
            )
        x = table(tokens) * math.sqrt(self.d_model)  # (N, T, d)
        return self.dropout(x + self.pe[start:end].to(x.dtype))

    def encode(self, src_tokens: Tensor, src_mask: Tensor) -> Tensor:
        """``memory (N, S, d)`` of a checked source (see :func:`check_source`)."""
        x = self._embed(self.src_embedding, src_tokens)  # (N, S, d)
        return self.encoder(x, src_key_padding_mask=src_mask)

    def start(self, src_tokens: Tensor, src_mask: Tensor | None) -> TransformerState:
        mask, _ = check_source(src_tokens, src_mask)
        memory = self.encode(src_tokens, mask)  # (N, S, d)
        kvs = self.decoder.memory_key_values(memory)
        cache = self.decoder.empty_cache(src_tokens.size(0), memory)
        return TransformerState(mask, tuple(kvs), tuple(cache))

    def _decode(
        self, state: TransformerState, tgt_in_tokens: Tensor, need_weights: bool = False
    ) -> tuple[Tensor, TransformerState, list[Tensor]]:
        t = state.cache[0][0].size(2)  # tokens already decoded
        y = self._embed(self.tgt_embedding, tgt_in_tokens, start=t)  # (N, T, d)
        out, cache, weights = self.decoder.forward_cached(
            y, list(state.cache), list(state.memory_kv), state.memory_mask,
            need_weights=need_weights,
        )  # fmt: skip
        return out, state._replace(cache=tuple(cache)), weights

    def decode(
        self, state: TransformerState, tgt_in_tokens: Tensor
    ) -> tuple[Tensor, TransformerState]:
        """Feed ``tgt_in_tokens (N, T)`` after the state's prefix: ``(features (N, T, d),
        the state after them)`` (the cache grows by ``T``)."""
        out, state, _ = self._decode(state, tgt_in_tokens)
        return out, state

    def logits(self, features: Tensor) -> Tensor:
        """``(..., d)`` -> ``(..., V)``: ``features · Wᵀ`` with ``W`` the output weight."""
        return F.linear(features, self.output_weight)

    def attention_weights(
        self, src_tokens: Tensor, src_mask: Tensor | None, tgt_in_tokens: Tensor
    ) -> Tensor:
        """Cross-attention weights ``(B, layers, heads, T, S)``; row ``t`` is the attention
        while predicting ``y_t``. Average over layers and heads, or pick one, to draw it."""
        _, _, weights = self._decode(self.start(src_tokens, src_mask), tgt_in_tokens, True)
        return torch.stack(weights, 1)
