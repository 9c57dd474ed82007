"""Bidirectional decoding: one encoder, an L2R and an R2L decoder that read each other.

A :class:`~danlu.nn.seq2seq.TransformerSeq2Seq` whose decoder is replaced by the two
synchronous decoders of :mod:`danlu.nn.seq2seq.synchronous_decoder`: the left-to-right
decoder predicts ``y_1 .. y_n``, the right-to-left one the reversed target ``z = y_n ..
y_1``, and at every layer each attends to the other's states over the prefix generated so
far. The model factorizes, for the pair ``(y, z)`` of one sentence,

    p(y_t | y_<t, z_<t, x)    and    p(z_t | z_<t, y_<t, x).

Both directions share the encoder, the target embeddings (and the tied output layer) and
the positional table (position ``t`` of R2L is the ``t``-th token from the end).

A *token* of this model is a pair, the last dimension of size 2 (index 0: L2R, 1: R2L), so
the :class:`~danlu.nn.seq2seq.Seq2Seq` entry points keep their names and shapes gain a 2::

    logits = model(src, src_mask, tgt_in)        # tgt_in (B, T, 2) -> logits (B, T, 2, V)
    log_probs, state = model.step(state, last)   # last (N, 2) -> log_probs (N, 2, V)

Training: build the R2L target by reversing each target before its EOS
(:func:`danlu.decoding.reverse_padded`), shift both right as usual, stack them
(``torch.stack([l2r, r2l], -1)``) and take one loss over both directions: the mean over
all their tokens, which is the mean of the two teacher-forced losses (both directions
count the same tokens)::

    loss = label_smoothed_nll(model(src, mask, tgt_in), tgt_out, epsilon=0.1, ignore_index=0)

Decoding: :func:`danlu.decoding.bidirectional_beam_search` and
:func:`~danlu.decoding.bidirectional_greedy_search` over ``model.step`` (both directions,
or one of them, ``directions="l2r"|"r2l"``). Feeding PAD to a direction marks it as ended:
the other direction no longer attends to its later positions.

Papers: Zhou, Zhang, Zong, "Synchronous Bidirectional Neural Machine Translation", TACL
2019; Su Jianlin, "seq2seq之双向解码" (kexue.fm, 2019); Vaswani et al., 2017.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import torch
from torch import Tensor

from danlu.errors import UsageError
from danlu.nn.seq2seq.base import PAD_ID, build_checked, check_source
from danlu.nn.seq2seq.synchronous_decoder import Pair, SynchronousDecoder
from danlu.nn.seq2seq.transformer import TransformerSeq2Seq

__all__ = [
    "BidirectionalState",
    "BidirectionalTransformerSeq2Seq",
    "create_bidirectional_seq2seq",
]


class BidirectionalState(NamedTuple):
    """Decoder state of :class:`BidirectionalTransformerSeq2Seq`, rows first; ``t`` = pairs
    of tokens so far. ``[d][l]``: direction ``d`` (0 L2R, 1 R2L), layer ``l``."""

    memory_mask: Tensor  # (N, S) bool, True at real source tokens
    memory_kv: Pair  # [d][l]: source attention K (N, h, S, d_k), V (N, h, S, d_v)
    cache: Pair  # [d][l]: self and other-direction K, V, (N, h, t, ·) each
    keep: Tensor  # (N, t, 2) bool: positions the other direction may attend to


class BidirectionalTransformerSeq2Seq(TransformerSeq2Seq):
    """Transformer encoder with synchronous L2R and R2L decoders (the module docstring).

    Args: those of :class:`~danlu.nn.seq2seq.TransformerSeq2Seq`; ``num_decoder_layers``
    is the depth of each direction's decoder.

    Example:
        >>> model = BidirectionalTransformerSeq2Seq(30, 30, d_model=16, heads=2,
        ...     num_encoder_layers=1, num_decoder_layers=1, shared_embeddings=True)
        >>> src = torch.tensor([[5, 6, 7], [8, 9, 0]])
        >>> tgt_in = torch.tensor([[[1, 1], [4, 6]], [[1, 1], [5, 5]]])  # (B, T, 2)
        >>> model(src, src != 0, tgt_in).shape  # (B, T, 2, V)
        torch.Size([2, 2, 2, 30])
        >>> log_probs, state = model.step(model.start(src, src != 0), torch.tensor([[1, 1]] * 2))
        >>> log_probs.shape  # (N, 2, V)
        torch.Size([2, 2, 30])
    """

    decoder: SynchronousDecoder  # type: ignore[assignment]

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
        super().__init__(
            src_vocab, tgt_vocab, d_model=d_model, heads=heads,
            num_encoder_layers=num_encoder_layers, num_decoder_layers=num_decoder_layers,
            dim_feedforward=dim_feedforward, dropout=dropout, activation=activation,
            norm_first=norm_first, key_size=key_size, talking_heads=talking_heads,
            shared_embeddings=shared_embeddings, tie_output=tie_output, max_len=max_len,
        )  # fmt: skip
        # the encoder, embeddings and output layer are the parent's; the decoder is two
        self.decoder = SynchronousDecoder(
            d_model, heads, num_decoder_layers,
            dim_feedforward=4 * d_model if dim_feedforward is None else dim_feedforward,
            dropout=dropout, activation=activation, norm_first=norm_first,
            key_size=key_size, talking_heads=talking_heads,
        )  # fmt: skip

    def start(self, src_tokens: Tensor, src_mask: Tensor | None) -> BidirectionalState:
        mask, _ = check_source(src_tokens, src_mask)
        memory = self.encode(src_tokens, mask)  # (N, S, d)
        rows = src_tokens.size(0)
        keep = torch.zeros(rows, 0, 2, dtype=torch.bool, device=src_tokens.device)
        return BidirectionalState(
            mask,
            self.decoder.memory_key_values(memory),
            self.decoder.empty_cache(rows, memory),
            keep,
        )

    def _decode(
        self, state: BidirectionalState, tgt_in_tokens: Tensor, need_weights: bool = False
    ) -> tuple[Tensor, BidirectionalState, list[Tensor]]:
        if tgt_in_tokens.dim() != 3 or tgt_in_tokens.size(-1) != 2:
            raise UsageError(
                "a bidirectional model reads pairs of tokens (L2R, R2L): tgt_in_tokens must "
                f"have shape (N, T, 2), got {tuple(tgt_in_tokens.shape)}; stack the two inputs "
                "with torch.stack([l2r, r2l], -1), and decode with "
                "danlu.decoding.bidirectional_beam_search"
            )
        t = state.keep.size(1)  # pairs already decoded
        xs = (
            self._embed(self.tgt_embedding, tgt_in_tokens[..., 0], start=t),  # (N, T, d)
            self._embed(self.tgt_embedding, tgt_in_tokens[..., 1], start=t),
        )
        new_keep = tgt_in_tokens != PAD_ID  # (N, T, 2)
        if t == 0:  # BOS's position is always a key, so no query sees an empty set
            new_keep[:, 0] = True
        keep = torch.cat([state.keep, new_keep], 1)  # (N, t+T, 2)
        out, cache, weights = self.decoder.forward_cached(
            xs, state.cache, state.memory_kv, state.memory_mask, keep,
            need_weights=need_weights,
        )  # fmt: skip
        return out, state._replace(cache=cache, keep=keep), weights

    def decode(
        self, state: BidirectionalState, tgt_in_tokens: Tensor
    ) -> tuple[Tensor, BidirectionalState]:
        """Feed token pairs ``tgt_in_tokens (N, T, 2)`` after the state's prefix:
        ``(features (N, T, 2, d), the state after them)``. PAD marks an ended direction."""
        out, state, _ = self._decode(state, tgt_in_tokens)
        return out, state

    def attention_weights(
        self, src_tokens: Tensor, src_mask: Tensor | None, tgt_in_tokens: Tensor
    ) -> Tensor:
        """Source attention weights ``(B, 2, layers, heads, T, S)`` while reading the pairs
        ``tgt_in_tokens (B, T, 2)``; ``[:, 0]`` is L2R, ``[:, 1]`` R2L (row ``t``: while
        predicting the direction's ``t``-th token, in its own order)."""
        _, _, weights = self._decode(self.start(src_tokens, src_mask), tgt_in_tokens, True)
        return torch.stack(weights, 2)  # per layer (B, 2, h, T, S) -> (B, 2, L, h, T, S)


def create_bidirectional_seq2seq(
    src_vocab: int, tgt_vocab: int, **options: Any
) -> BidirectionalTransformerSeq2Seq:
    """Build a :class:`BidirectionalTransformerSeq2Seq` from the ``transformer`` options.

    Args:
        src_vocab, tgt_vocab: vocabulary sizes (id 0 = padding).
        **options: keyword options of :class:`~danlu.nn.seq2seq.TransformerSeq2Seq`
            (``d_model``, ``heads``, ``num_decoder_layers``, ``key_size``, ...).

    Raises:
        UsageError: an unknown option (the message lists the valid ones), bad values.

    Example:
        >>> model = create_bidirectional_seq2seq(40, 40, d_model=16, heads=2)
        >>> type(model).__name__
        'BidirectionalTransformerSeq2Seq'
    """
    model = build_checked(BidirectionalTransformerSeq2Seq, "the bidirectional transformer",
                          src_vocab, tgt_vocab, options)  # fmt: skip
    assert isinstance(model, BidirectionalTransformerSeq2Seq)
    return model
