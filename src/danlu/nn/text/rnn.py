"""Recurrent text classifiers on a bidirectional LSTM: TextRNN, TextRNN_Att, TextRCNN.

All three embed the tokens, run a BiLSTM (:class:`danlu.nn.LSTM`, given the lengths so that
padded steps never enter the recurrence) to get ``H = [h→_t; h←_t]`` ``(B, T, 2H)``, and
differ in how they reduce ``H`` over time to one vector before dropout and a linear layer:

- **TextRNN**: ``pooling="last"``: the final states ``[h→_L; h←_1]`` (after each sequence's
  last real token, and the backward state after its first), or ``pooling="mean"``: the mean
  of ``H`` over the real steps.
- **TextRNN_Att** (Zhou et al., 2016): ``M = tanh(H)``, ``α = softmax(M w)`` over the real
  steps, ``r = Σ_t α_t H_t``, features ``tanh(r)``.
- **TextRCNN** (Lai et al., 2015): each word is represented by its left context, itself and
  its right context, ``x_t = [h→_t; e_t; h←_t]``, projected ``y_t = tanh(W x_t + b)`` and
  max-pooled over the real steps. (The paper's contexts exclude the word itself; the BiLSTM
  states include it, the common practical form.)

Papers: Zhou et al., "Attention-Based Bidirectional Long Short-Term Memory Networks for
Relation Classification", ACL 2016; Lai, Xu, Liu & Zhao, "Recurrent Convolutional Neural
Networks for Text Classification", AAAI 2015.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor, nn

from danlu.errors import UsageError
from danlu.functional.attention import masked_softmax
from danlu.nn.recurrent import LSTM
from danlu.nn.text.common import check_inputs, make_embedding, masked_max, masked_mean

__all__ = ["TextRCNN", "TextRNN", "TextRNNAttention"]

POOLINGS: tuple[str, ...] = ("last", "mean")


class _BiLSTMClassifier(nn.Module):
    """Embedding -> BiLSTM -> (subclass: pool over time) -> dropout -> linear."""

    def __init__(
        self,
        vocab_size: int,
        num_classes: int,
        embed_dim: int,
        hidden_size: int,
        num_layers: int,
        dropout: float,
        pretrained: Tensor | None,
        freeze_embeddings: bool,
        features: int | None = None,
    ) -> None:
        super().__init__()
        if hidden_size < 1 or num_layers < 1 or num_classes < 1:
            raise UsageError(
                "hidden_size, num_layers and num_classes must be >= 1, got "
                f"{hidden_size}, {num_layers} and {num_classes}"
            )
        if not 0.0 <= dropout < 1.0:
            raise UsageError(f"dropout must be in [0, 1), got {dropout}")
        self.embedding = make_embedding(vocab_size, embed_dim, pretrained, freeze_embeddings)
        self.lstm = LSTM(
            embed_dim,
            hidden_size,
            num_layers,
            batch_first=True,
            bidirectional=True,
            dropout=dropout if num_layers > 1 else 0.0,
        )
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(2 * hidden_size if features is None else features, num_classes)

    def _encode(self, tokens: Tensor, mask: Tensor | None) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """-> embeddings ``(B, T, D)``, outputs ``(B, T, 2H)``, mask, ``h_n (L·2, B, H)``."""
        mask = check_inputs(tokens, mask)
        emb = self.embedding(tokens)  # (B, T, D)
        out, (h_n, _) = self.lstm(emb, lengths=mask.sum(1))  # (B, T, 2H); (L·2, B, H)
        return emb, out, mask, h_n

    def _classify(self, features: Tensor) -> Tensor:
        return self.fc(self.dropout(features))  # (B, C)


class TextRNN(_BiLSTMClassifier):
    """BiLSTM classifier pooled by the final states (``"last"``) or the mean (``"mean"``).

    Args:
        vocab_size: ``V`` (0 = padding).  num_classes: ``C``.  embed_dim: ``D``.
        hidden_size: LSTM size ``H`` per direction.  num_layers: stacked BiLSTM layers.
        pooling: ``"last"`` or ``"mean"``.
        dropout: on the pooled features (and between LSTM layers).
        pretrained: optional ``(V, D)`` embeddings.  freeze_embeddings: keep them fixed.

    Shapes: ``tokens (B, T)``, ``mask (B, T)`` (default ``tokens != 0``) -> ``(B, C)``.

    Example:
        >>> model = TextRNN(100, 3, embed_dim=16, hidden_size=8)
        >>> model(torch.tensor([[5, 7, 9, 0], [3, 0, 0, 0]])).shape
        torch.Size([2, 3])
    """

    def __init__(
        self,
        vocab_size: int,
        num_classes: int,
        embed_dim: int = 128,
        *,
        hidden_size: int = 128,
        num_layers: int = 1,
        pooling: Literal["last", "mean"] = "last",
        dropout: float = 0.5,
        pretrained: Tensor | None = None,
        freeze_embeddings: bool = False,
    ) -> None:
        if pooling not in POOLINGS:
            raise UsageError(f"pooling must be one of {', '.join(POOLINGS)}; got {pooling!r}")
        super().__init__(
            vocab_size, num_classes, embed_dim, hidden_size, num_layers, dropout,
            pretrained, freeze_embeddings,
        )  # fmt: skip
        self.pooling = pooling

    def forward(self, tokens: Tensor, mask: Tensor | None = None) -> Tensor:
        """``tokens (B, T)``, ``mask (B, T)`` -> logits ``(B, C)``."""
        _, out, mask, h_n = self._encode(tokens, mask)
        if self.pooling == "mean":
            return self._classify(masked_mean(out, mask))
        # last layer's forward state after the last real step, backward state after the first
        return self._classify(torch.cat([h_n[-2], h_n[-1]], dim=-1))  # (B, 2H)


class TextRNNAttention(_BiLSTMClassifier):
    """BiLSTM with attention pooling (Zhou et al., 2016): ``tanh(Σ_t α_t H_t)``.

    ``α = softmax_t(tanh(H_t) · w)`` over the real steps, ``w ∈ R^{2H}`` learned.
    Arguments as for :class:`TextRNN` (no ``pooling``).

    Example:
        >>> model = TextRNNAttention(100, 3, embed_dim=16, hidden_size=8)
        >>> model(torch.tensor([[5, 7, 9, 0], [3, 0, 0, 0]])).shape
        torch.Size([2, 3])
    """

    def __init__(
        self,
        vocab_size: int,
        num_classes: int,
        embed_dim: int = 128,
        *,
        hidden_size: int = 128,
        num_layers: int = 1,
        dropout: float = 0.5,
        pretrained: Tensor | None = None,
        freeze_embeddings: bool = False,
    ) -> None:
        super().__init__(
            vocab_size, num_classes, embed_dim, hidden_size, num_layers, dropout,
            pretrained, freeze_embeddings,
        )  # fmt: skip
        self.attention = nn.Linear(2 * hidden_size, 1, bias=False)  # w

    def forward(self, tokens: Tensor, mask: Tensor | None = None) -> Tensor:
        """``tokens (B, T)``, ``mask (B, T)`` -> logits ``(B, C)``."""
        _, out, mask, _ = self._encode(tokens, mask)
        scores = self.attention(torch.tanh(out)).squeeze(-1)  # (B, T)
        alpha = masked_softmax(scores, mask)  # (B, T), zero at padded steps
        r = torch.einsum("bt,btf->bf", alpha, out)  # (B, 2H)
        return self._classify(torch.tanh(r))


class TextRCNN(_BiLSTMClassifier):
    """Recurrent CNN (Lai et al., 2015): ``max_t tanh(W [h→_t; e_t; h←_t] + b)``.

    Args as for :class:`TextRNN` (no ``pooling``), plus ``projection_size``: the width of
    ``y_t`` (default ``hidden_size``).

    Example:
        >>> model = TextRCNN(100, 3, embed_dim=16, hidden_size=8)
        >>> model(torch.tensor([[5, 7, 9, 0], [3, 0, 0, 0]])).shape
        torch.Size([2, 3])
    """

    def __init__(
        self,
        vocab_size: int,
        num_classes: int,
        embed_dim: int = 128,
        *,
        hidden_size: int = 128,
        num_layers: int = 1,
        projection_size: int | None = None,
        dropout: float = 0.5,
        pretrained: Tensor | None = None,
        freeze_embeddings: bool = False,
    ) -> None:
        proj = hidden_size if projection_size is None else projection_size
        if proj < 1:
            raise UsageError(f"projection_size must be >= 1, got {proj}")
        super().__init__(
            vocab_size, num_classes, embed_dim, hidden_size, num_layers, dropout,
            pretrained, freeze_embeddings, features=proj,
        )  # fmt: skip
        self.projection = nn.Linear(2 * hidden_size + embed_dim, proj)

    def forward(self, tokens: Tensor, mask: Tensor | None = None) -> Tensor:
        """``tokens (B, T)``, ``mask (B, T)`` -> logits ``(B, C)``."""
        emb, out, mask, _ = self._encode(tokens, mask)
        h = out.size(-1) // 2
        x = torch.cat([out[..., :h], emb, out[..., h:]], dim=-1)  # (B, T, 2H + D)
        y = torch.tanh(self.projection(x))  # (B, T, P)
        return self._classify(masked_max(y, mask))  # (B, P) -> (B, C)
