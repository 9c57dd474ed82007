"""GRU encoder-decoder with attention over the encoder states (``gru_attn``).

The decoder is Luong et al.'s *global attention* model; the score ``a`` is ``dot``,
``general`` or ``additive`` (Bahdanau's), see :mod:`danlu.nn.seq2seq.source_attention`.
At target position ``t``, with encoder outputs ``h_1 ... h_S`` (a bidirectional GRU by
default)::

    s_t = GRU(e(y_{t-1}), s_{t-1}),   s_0 = the encoder's final state      (N, L, H)
    e_tj = a(s_t, h_j);  α_t = softmax(e_t);  c_t = Σ_j α_tj h_j          the four steps
    h̃_t = tanh(W_c [c_t; s_t])                                             attentional state
    p(y_t | y_<t, x) = softmax(W_o h̃_t + b_o)

Luong-style, not Bahdanau-style: the query is the *current* state ``s_t`` (Bahdanau's is
``s_{t-1}``, and his context enters the GRU input), and there is no input feeding
(``h̃_{t-1}`` is not fed back). So ``s_t`` does not depend on the attention, and training
runs the fused GRU over the whole target at once and attends for all ``t`` in one batched
product, instead of a Python loop over target positions.

Papers: Luong, Pham, Manning, "Effective Approaches to Attention-based Neural Machine
Translation", EMNLP 2015 (section 3.1, global attention); Bahdanau, Cho, Bengio, "Neural
Machine Translation by Jointly Learning to Align and Translate", ICLR 2015.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor, nn

from danlu.nn.seq2seq.base import check_source
from danlu.nn.seq2seq.gru import RecurrentSeq2Seq
from danlu.nn.seq2seq.source_attention import SourceAttention

__all__ = ["AttentionGRUSeq2Seq", "AttentionGRUState"]


class AttentionGRUState(NamedTuple):
    """Decoder state of :class:`AttentionGRUSeq2Seq`, rows first."""

    hidden: Tensor  # (N, L, H) decoder state s_{t-1}, batch-first
    memory: Tensor  # (N, S, H) encoder outputs h_j (the values)
    keys: Tensor  # (N, S, K) the score's precomputed part of h_j
    memory_mask: Tensor  # (N, S) bool, True at real source tokens


class AttentionGRUSeq2Seq(RecurrentSeq2Seq):
    """GRU encoder-decoder with Luong global attention (``gru_attn``).

    Args:
        src_vocab, tgt_vocab: vocabulary sizes (id 0 = padding in both).
        attention: the score, ``dot``, ``general`` or ``additive`` (Bahdanau's).
        embed_dim: ``E``.
        hidden_size: ``H``: encoder outputs (both directions together), decoder state,
            attentional state ``h̃``.
        num_layers: ``L``, encoder and decoder.
        dropout: on embeddings, between layers and on ``h̃``, in training.
        bidirectional: a bidirectional encoder (``H/2`` per direction; default on).

    Example:
        >>> model = AttentionGRUSeq2Seq(30, 40, attention="dot", embed_dim=8, hidden_size=16)
        >>> src, tgt_in = torch.tensor([[5, 6, 7], [8, 9, 0]]), torch.tensor([[1, 4], [1, 5]])
        >>> model(src, src != 0, tgt_in).shape
        torch.Size([2, 2, 40])
        >>> model.attention_weights(src, src != 0, tgt_in)[1, :, 2].tolist()  # padding: 0
        [0.0, 0.0]
    """

    def __init__(
        self,
        src_vocab: int,
        tgt_vocab: int,
        *,
        attention: str = "additive",
        embed_dim: int = 256,
        hidden_size: int = 256,
        num_layers: int = 2,
        dropout: float = 0.1,
        bidirectional: bool = True,
    ) -> None:
        super().__init__(
            src_vocab, tgt_vocab, embed_dim=embed_dim, hidden_size=hidden_size,
            num_layers=num_layers, dropout=dropout, bidirectional=bidirectional,
            decoder_input=embed_dim,  # e(y_{t-1}): no input feeding
        )  # fmt: skip
        self.attention = SourceAttention(attention, hidden_size, hidden_size)
        self.combine = nn.Linear(2 * hidden_size, hidden_size, bias=False)  # W_c

    def start(self, src_tokens: Tensor, src_mask: Tensor | None) -> AttentionGRUState:
        mask, lengths = check_source(src_tokens, src_mask)
        memory, final = self.encoder(src_tokens, lengths)  # (N, S, H), (N, L, H)
        return AttentionGRUState(final, memory, self.attention.keys(memory), mask)

    def _attend(
        self, state: AttentionGRUState, tgt_in_tokens: Tensor
    ) -> tuple[Tensor, Tensor, AttentionGRUState]:
        """``(h̃ (N, T, H), α (N, T, S), the state after tgt_in_tokens (N, T))``."""
        e = self.dropout(self.tgt_embedding(tgt_in_tokens))  # (N, T, E)
        s0 = state.hidden.transpose(0, 1).contiguous()  # (L, N, H), the GRU's layout
        s, s_last = self.decoder(e, s0)  # s_t for every t (N, T, H); (L, N, H)
        context, weights = self.attention(s, state.keys, state.memory, state.memory_mask)
        h_tilde = torch.tanh(self.combine(torch.cat([context, s], -1)))  # (N, T, H)
        return h_tilde, weights, state._replace(hidden=s_last.transpose(0, 1))

    def decode(
        self, state: AttentionGRUState, tgt_in_tokens: Tensor
    ) -> tuple[Tensor, AttentionGRUState]:
        """Feed ``tgt_in_tokens (N, T)`` after the state's prefix: ``(features h̃ (N, T, H),
        the state after them)``."""
        h_tilde, _, state = self._attend(state, tgt_in_tokens)
        return h_tilde, state

    def attention_weights(
        self, src_tokens: Tensor, src_mask: Tensor | None, tgt_in_tokens: Tensor
    ) -> Tensor:
        """The alignment ``α (B, T, S)``: row ``t`` is the attention while predicting
        ``y_t`` from ``tgt_in_tokens[:, :t+1]``; zero on padded source positions."""
        _, weights, _ = self._attend(self.start(src_tokens, src_mask), tgt_in_tokens)
        return weights
