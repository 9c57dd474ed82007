"""The GRU encoder, and the encoder-decoder without attention (``gru``, d2l's baseline).

Encoder, over the embedded source ``e(x_1) ... e(x_S)``::

    h_j = GRU(e(x_j), h_{j-1})                        (B, S, H) outputs, one per token
    h_j = [→h_j; ←h_j]  (bidirectional: H/2 each)     the final state of each layer too

Decoder without attention: the encoder's final state ``h_S`` (every layer) starts the
decoder, and its top layer, the context ``c = h_S^(L)``, is concatenated to every input,
so the whole source reaches the decoder through one fixed-size vector (d2l, chapter 10.7)::

    s_0 = h_S;    s_t = GRU([e(y_{t-1}); c], s_{t-1});    p(y_t | y_<t, x) = softmax(W_o s_t + b_o)

That bottleneck is the notes' point about long sentences; ``gru_attn`` removes it.

Paper: Cho et al., "Learning Phrase Representations using RNN Encoder-Decoder for
Statistical Machine Translation", EMNLP 2014; Sutskever et al., "Sequence to Sequence
Learning with Neural Networks", NeurIPS 2014.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor, nn

from danlu.errors import UsageError
from danlu.nn.recurrent import GRU
from danlu.nn.seq2seq.base import PAD_ID, Seq2Seq, check_dropout, check_sizes, check_source

__all__ = ["GRUEncoder", "GRUSeq2Seq", "GRUState", "RecurrentSeq2Seq"]


class GRUEncoder(nn.Module):
    """Embeddings, dropout and a stacked (bi)GRU over a right-padded source.

    Args:
        vocab_size: source vocabulary ``V_s`` (id 0 = padding).
        embed_dim: ``E``.
        hidden_size: ``H``, the size of each output; bidirectional: ``H/2`` per direction.
        num_layers: ``L``.
        dropout: on the embeddings and between GRU layers, in training.
        bidirectional: read the source both ways (``H`` must be even).

    Shapes: ``forward(src_tokens (B, S), lengths (B,))`` -> ``(outputs (B, S, H)`` (zero at
    padding), ``final (B, L, H))``, the state after each sentence's last real token.

    Example:
        >>> enc = GRUEncoder(50, embed_dim=8, hidden_size=6, num_layers=2, bidirectional=True)
        >>> out, final = enc(torch.tensor([[4, 5, 6], [7, 8, 0]]), torch.tensor([3, 2]))
        >>> out.shape, final.shape
        (torch.Size([2, 3, 6]), torch.Size([2, 2, 6]))
    """

    def __init__(
        self,
        vocab_size: int,
        embed_dim: int,
        hidden_size: int,
        num_layers: int = 1,
        dropout: float = 0.0,
        bidirectional: bool = False,
    ) -> None:
        super().__init__()
        check_sizes(src_vocab=vocab_size, embed_dim=embed_dim, hidden_size=hidden_size,
                    num_layers=num_layers)  # fmt: skip
        check_dropout(dropout)
        if bidirectional and hidden_size % 2:
            raise UsageError(
                f"a bidirectional encoder splits hidden_size={hidden_size} over two "
                "directions; choose an even hidden_size"
            )
        self.num_layers, self.directions = num_layers, 2 if bidirectional else 1
        self.embedding = nn.Embedding(vocab_size, embed_dim, padding_idx=PAD_ID)
        self.dropout = nn.Dropout(dropout)
        self.rnn = GRU(
            embed_dim,
            hidden_size // self.directions,
            num_layers,
            batch_first=True,
            dropout=dropout if num_layers > 1 else 0.0,
            bidirectional=bidirectional,
        )

    def forward(self, src_tokens: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
        x = self.dropout(self.embedding(src_tokens))  # (B, S, E)
        outputs, h_n = self.rnn(x, lengths=lengths)  # (B, S, H), (L·D, B, H/D)
        b = src_tokens.size(0)
        # (L·D, B, H/D) -> (L, D, B, H/D) -> (B, L, D, H/D) -> (B, L, H): [→h; ←h] per layer
        final = h_n.view(self.num_layers, self.directions, b, -1).permute(2, 0, 1, 3)
        return outputs, final.reshape(b, self.num_layers, -1)


class GRUState(NamedTuple):
    """Decoder state of :class:`GRUSeq2Seq`, rows first."""

    hidden: Tensor  # (N, L, H) decoder state s_{t-1}, batch-first (transposed at the GRU call)
    context: Tensor  # (N, H) the encoder's final top-layer state, fed at every step


class RecurrentSeq2Seq(Seq2Seq):
    """What ``gru`` and ``gru_attn`` share: the encoder, the target embeddings, dropout, a
    GRU decoder reading ``decoder_input``-wide inputs, and the output layer
    ``p(y_t | ...) = softmax(W_o dropout(features_t) + b_o)``."""

    def __init__(
        self, src_vocab: int, tgt_vocab: int, *, embed_dim: int, hidden_size: int,
        num_layers: int, dropout: float, bidirectional: bool, decoder_input: int,
    ) -> None:  # fmt: skip
        super().__init__()
        check_sizes(tgt_vocab=tgt_vocab)
        self.encoder = GRUEncoder(
            src_vocab, embed_dim, hidden_size, num_layers, dropout, bidirectional
        )
        self.tgt_embedding = nn.Embedding(tgt_vocab, embed_dim, padding_idx=PAD_ID)
        self.dropout = nn.Dropout(dropout)
        self.decoder = GRU(
            decoder_input, hidden_size, num_layers, batch_first=True,
            dropout=dropout if num_layers > 1 else 0.0,
        )  # fmt: skip
        self.output = nn.Linear(hidden_size, tgt_vocab)  # W_o, b_o

    def logits(self, features: Tensor) -> Tensor:
        """``(..., H)`` -> ``(..., V)``."""
        return self.output(self.dropout(features))


class GRUSeq2Seq(RecurrentSeq2Seq):
    """GRU encoder-decoder without attention (``gru``): the d2l baseline.

    Args:
        src_vocab, tgt_vocab: vocabulary sizes (id 0 = padding in both).
        embed_dim: ``E``, source and target embeddings.
        hidden_size: ``H``, encoder outputs and decoder state.
        num_layers: ``L``, in the encoder and the decoder (the encoder's final state of
            each layer starts the decoder's).
        dropout: on embeddings, between layers and before the output layer, in training.
        bidirectional: a bidirectional encoder (the decoder stays left to right).

    Example:
        >>> model = GRUSeq2Seq(30, 40, embed_dim=8, hidden_size=16)
        >>> src, tgt_in = torch.tensor([[5, 6, 7], [8, 9, 0]]), torch.tensor([[1, 4], [1, 5]])
        >>> model(src, src != 0, tgt_in).shape
        torch.Size([2, 2, 40])
        >>> log_probs, state = model.step(model.start(src, src != 0), torch.tensor([1, 1]))
        >>> log_probs.shape, state.hidden.shape
        (torch.Size([2, 40]), torch.Size([2, 2, 16]))
    """

    def __init__(
        self,
        src_vocab: int,
        tgt_vocab: int,
        *,
        embed_dim: int = 256,
        hidden_size: int = 256,
        num_layers: int = 2,
        dropout: float = 0.1,
        bidirectional: bool = False,
    ) -> None:
        super().__init__(
            src_vocab, tgt_vocab, embed_dim=embed_dim, hidden_size=hidden_size,
            num_layers=num_layers, dropout=dropout, bidirectional=bidirectional,
            decoder_input=embed_dim + hidden_size,  # [e(y_{t-1}); c]
        )  # fmt: skip

    def start(self, src_tokens: Tensor, src_mask: Tensor | None) -> GRUState:
        _, lengths = check_source(src_tokens, src_mask)
        _, final = self.encoder(src_tokens, lengths)  # (N, L, H)
        return GRUState(hidden=final, context=final[:, -1])

    def decode(self, state: GRUState, tgt_in_tokens: Tensor) -> tuple[Tensor, GRUState]:
        """Feed ``tgt_in_tokens (N, T)`` after the state's prefix: ``(features (N, T, H),
        the state after them)``. The output layer turns features into :meth:`logits`."""
        e = self.dropout(self.tgt_embedding(tgt_in_tokens))  # (N, T, E)
        c = state.context[:, None].expand(-1, e.size(1), -1)  # (N, T, H)
        s0 = state.hidden.transpose(0, 1).contiguous()  # (L, N, H), the GRU's layout
        out, s_t = self.decoder(torch.cat([e, c], -1), s0)  # (N, T, H), (L, N, H)
        return out, state._replace(hidden=s_t.transpose(0, 1))
