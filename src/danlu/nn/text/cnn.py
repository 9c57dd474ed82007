"""TextCNN (Kim, 2014): parallel convolutions over word embeddings, max-over-time pooling.

For each filter width ``k`` and each of ``F`` filters ``w ∈ R^{k·D}``, a feature per window
of ``k`` consecutive embeddings ``x_{t:t+k-1}``:

    c_t = ReLU(w · x_{t:t+k-1} + b),      ĉ = max_t c_t

The ``F`` maxima of every width are concatenated (``len(widths)·F`` features), dropped out
and fed to a linear layer giving the class logits.

Padding: the convolution is *wide* (``k-1`` zeros on each side) over embeddings zeroed at
padded steps, and the max runs over the ``L + k - 1`` windows that touch a real token of a
sequence of length ``L``, exactly those a sequence of length ``L`` alone would have; so
extra padding never changes the output, and sequences shorter than ``k`` still work.
(Kim uses narrow convolutions and pads short sentences; the wide form avoids that case.)

Paper: Yoon Kim, "Convolutional Neural Networks for Sentence Classification", EMNLP 2014.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from danlu.errors import UsageError
from danlu.nn.text.common import check_inputs, make_embedding, masked_max

__all__ = ["TextCNN"]


class TextCNN(nn.Module):
    """Kim's CNN: convolutions of several widths, ReLU, max over time, dropout, linear.

    Args:
        vocab_size: ``V`` (ids ``0..V-1``, 0 = padding).
        num_classes: ``C``.
        embed_dim: ``D``.
        widths: filter widths (window sizes in tokens).
        num_filters: filters ``F`` per width.
        dropout: dropout on the pooled features (the penultimate layer, as in the paper).
        pretrained: optional ``(V, D)`` embedding table.
        freeze_embeddings: keep the embeddings fixed.

    Shapes: ``tokens (B, T)`` int64, ``mask (B, T)`` bool (True = real token; default
    ``tokens != 0``) -> logits ``(B, C)``.

    Example:
        >>> model = TextCNN(vocab_size=100, num_classes=3, embed_dim=16, num_filters=8)
        >>> model(torch.tensor([[5, 7, 9, 0], [3, 0, 0, 0]])).shape
        torch.Size([2, 3])
    """

    def __init__(
        self,
        vocab_size: int,
        num_classes: int,
        embed_dim: int = 128,
        *,
        widths: Sequence[int] = (2, 3, 4),
        num_filters: int = 256,
        dropout: float = 0.5,
        pretrained: Tensor | None = None,
        freeze_embeddings: bool = False,
    ) -> None:
        super().__init__()
        widths = tuple(int(k) for k in widths)
        if not widths or min(widths) < 1:
            raise UsageError(f"widths must be a non-empty list of sizes >= 1, got {widths}")
        if num_filters < 1 or num_classes < 1:
            raise UsageError(
                f"num_filters and num_classes must be >= 1, got {num_filters} and {num_classes}"
            )
        if not 0.0 <= dropout < 1.0:
            raise UsageError(f"dropout must be in [0, 1), got {dropout}")
        self.widths = widths
        self.embedding = make_embedding(vocab_size, embed_dim, pretrained, freeze_embeddings)
        # padding=k-1: the wide convolution, one output per window touching the sequence
        self.convs = nn.ModuleList(
            nn.Conv1d(embed_dim, num_filters, k, padding=k - 1) for k in widths
        )
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(num_filters * len(widths), num_classes)

    def forward(self, tokens: Tensor, mask: Tensor | None = None) -> Tensor:
        """``tokens (B, T)``, ``mask (B, T)`` -> logits ``(B, C)``."""
        mask = check_inputs(tokens, mask)
        x = self.embedding(tokens) * mask[..., None]  # (B, T, D), zero at padded steps
        x = x.transpose(1, 2)  # (B, D, T): channels first for Conv1d
        lengths = mask.sum(1, keepdim=True)  # (B, 1)
        pooled = []
        for k, conv in zip(self.widths, self.convs, strict=True):
            c = torch.relu(conv(x)).transpose(1, 2)  # (B, T + k - 1, F)
            steps = torch.arange(c.size(1), device=c.device)  # window t covers t-k+1..t
            valid = steps[None, :] < lengths + (k - 1)  # (B, T + k - 1)
            pooled.append(masked_max(c, valid))  # (B, F)
        return self.fc(self.dropout(torch.cat(pooled, dim=1)))  # (B, C)
