"""Transformer encoder classifier: embeddings + sinusoidal positions, encoder, masked mean.

    x_0 = E[tokens]·√D + PE[:T]                   (B, T, D)
    x_L = TransformerEncoder(x_0, key mask)       (B, T, D), pre-norm layers
    logits = W · dropout(mean_{t real} x_L[:, t]) + b

Padded keys are masked in every self-attention layer and excluded from the mean, and each
real position only attends to real positions, so padding never changes the logits.

Paper: Vaswani et al., "Attention Is All You Need", NeurIPS 2017 (encoder); mean pooling as
in sentence encoders (e.g. Reimers & Gurevych, "Sentence-BERT", 2019).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from danlu.errors import UsageError
from danlu.nn.positional import SinusoidalPositionalEncoding
from danlu.nn.text.common import check_inputs, make_embedding, masked_mean
from danlu.nn.transformer import TransformerEncoder, TransformerEncoderLayer

__all__ = ["TransformerClassifier"]


class TransformerClassifier(nn.Module):
    """Pre-norm Transformer encoder over token embeddings, masked mean pooling, linear.

    Args:
        vocab_size: ``V`` (0 = padding).  num_classes: ``C``.
        embed_dim: model width ``D`` (a multiple of ``heads``).
        heads: attention heads.  num_layers: encoder layers.
        dim_feedforward: FFN width (default ``4·D``).
        dropout: inside the encoder layers, on the positions and on the pooled vector.
        max_len: longest sequence accepted (the sinusoidal table's length).
        pretrained: optional ``(V, D)`` embeddings.  freeze_embeddings: keep them fixed.

    Shapes: ``tokens (B, T)``, ``mask (B, T)`` (default ``tokens != 0``) -> ``(B, C)``.

    Example:
        >>> model = TransformerClassifier(100, 3, embed_dim=16, heads=2, num_layers=1)
        >>> model(torch.tensor([[5, 7, 9, 0], [3, 0, 0, 0]])).shape
        torch.Size([2, 3])
    """

    def __init__(
        self,
        vocab_size: int,
        num_classes: int,
        embed_dim: int = 128,
        *,
        heads: int = 4,
        num_layers: int = 2,
        dim_feedforward: int | None = None,
        dropout: float = 0.1,
        max_len: int = 1024,
        pretrained: Tensor | None = None,
        freeze_embeddings: bool = False,
    ) -> None:
        super().__init__()
        if heads < 1 or embed_dim % heads != 0:
            raise UsageError(
                f"embed_dim={embed_dim} must be a positive multiple of heads={heads}; "
                "change one of them (e.g. embed_dim=128, heads=4)"
            )
        if num_layers < 1 or num_classes < 1 or max_len < 1:
            raise UsageError(
                "num_layers, num_classes and max_len must be >= 1, got "
                f"{num_layers}, {num_classes} and {max_len}"
            )
        if not 0.0 <= dropout < 1.0:
            raise UsageError(f"dropout must be in [0, 1), got {dropout}")
        self.embed_dim = embed_dim
        self.embedding = make_embedding(vocab_size, embed_dim, pretrained, freeze_embeddings)
        self.positions = SinusoidalPositionalEncoding(embed_dim, max_len, dropout)
        layer = TransformerEncoderLayer(
            embed_dim,
            heads,
            dim_feedforward if dim_feedforward is not None else 4 * embed_dim,
            dropout,
            "gelu",
            norm_first=True,
        )
        self.encoder = TransformerEncoder(layer, num_layers)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(embed_dim, num_classes)
        if pretrained is None:  # N(0, 1/D): E·√D then has unit-variance entries, like PE
            with torch.no_grad():
                nn.init.normal_(self.embedding.weight, std=embed_dim**-0.5)
                self.embedding.weight[0].zero_()

    def forward(self, tokens: Tensor, mask: Tensor | None = None) -> Tensor:
        """``tokens (B, T)``, ``mask (B, T)`` -> logits ``(B, C)``."""
        mask = check_inputs(tokens, mask)
        if tokens.size(1) > self.positions.max_len:
            raise UsageError(
                f"a batch of {tokens.size(1)} tokens per row exceeds max_len="
                f"{self.positions.max_len}; truncate the texts or build the model with a "
                "larger max_len"
            )
        x = self.positions(self.embedding(tokens) * math.sqrt(self.embed_dim))  # (B, T, D)
        x = self.encoder(x, src_key_padding_mask=mask)  # (B, T, D)
        return self.fc(self.dropout(masked_mean(x, mask)))  # (B, C)
