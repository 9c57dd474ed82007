"""Positional encodings added to token embeddings: fixed sinusoidal and learned.

Self-attention is permutation-equivariant, so the order of the tokens must enter through
the inputs: ``x'_t = x_t + p_t`` for a position vector ``p_t``. Both modules take
``x (B, T, d)`` and return ``(B, T, d)``; dropout is applied to the sum, as in the paper.
(The paper also multiplies the embeddings by ``√d`` first; that belongs to the embedding.)
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from danlu.functional.positional import sinusoidal_encoding

__all__ = ["LearnedPositionalEncoding", "SinusoidalPositionalEncoding"]


def _check_length(x: Tensor, d_model: int, max_len: int, name: str) -> None:
    if x.dim() != 3 or x.size(-1) != d_model:
        raise ValueError(f"{name} expects x of shape (B, T, {d_model}), got {tuple(x.shape)}")
    if x.size(1) > max_len:
        raise ValueError(
            f"sequence length {x.size(1)} exceeds max_len={max_len}; "
            f"build {name}(..., max_len>={x.size(1)})"
        )


class SinusoidalPositionalEncoding(nn.Module):
    """Add the fixed sinusoidal table ``PE[pos, 2i] = sin(pos / 10000^(2i/d))``,
    ``PE[pos, 2i+1] = cos(pos / 10000^(2i/d))``.

    Args:
        d_model: embedding size ``d``.
        max_len: longest sequence accepted.
        dropout: dropout on ``x + PE`` in training.
        base: wavelength base (10000 in the paper).

    Example:
        >>> pe = SinusoidalPositionalEncoding(16, max_len=100)
        >>> pe(torch.zeros(2, 5, 16)).shape
        torch.Size([2, 5, 16])

    Paper: Vaswani et al., "Attention Is All You Need", NeurIPS 2017, section 3.5.
    """

    pe: Tensor

    def __init__(
        self, d_model: int, max_len: int = 5000, dropout: float = 0.0, base: float = 10000.0
    ) -> None:
        super().__init__()
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        self.d_model, self.max_len = d_model, max_len
        # A buffer (moves with .to(), not trained) that is recomputed, not saved.
        self.register_buffer("pe", sinusoidal_encoding(max_len, d_model, base=base), False)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: Tensor) -> Tensor:
        """``x (B, T, d)`` -> ``dropout(x + PE[:T])`` ``(B, T, d)``."""
        _check_length(x, self.d_model, self.max_len, type(self).__name__)
        return self.dropout(x + self.pe[: x.size(1)].to(x.dtype))  # (B, T, d)


class LearnedPositionalEncoding(nn.Module):
    """Add a learned vector per position: ``x'_t = x_t + P[t]``, ``P`` of shape ``(max_len, d)``.

    Initialized ``N(0, 0.02²)`` (as in GPT-2); cannot extrapolate beyond ``max_len``.

    Args:
        d_model: embedding size ``d``.
        max_len: number of learned positions.
        dropout: dropout on the sum in training.

    Example:
        >>> pe = LearnedPositionalEncoding(16, max_len=32)
        >>> pe(torch.zeros(2, 5, 16)).shape
        torch.Size([2, 5, 16])

    Paper: Gehring et al., "Convolutional Sequence to Sequence Learning", ICML 2017.
    """

    def __init__(self, d_model: int, max_len: int, dropout: float = 0.0) -> None:
        super().__init__()
        if d_model < 1 or max_len < 1:
            raise ValueError(
                f"need d_model, max_len >= 1, got d_model={d_model}, max_len={max_len}"
            )
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        self.d_model, self.max_len = d_model, max_len
        self.weight = nn.Parameter(torch.empty(max_len, d_model))
        self.dropout = nn.Dropout(dropout)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        nn.init.normal_(self.weight, std=0.02)

    def forward(self, x: Tensor) -> Tensor:
        """``x (B, T, d)`` -> ``dropout(x + P[:T])`` ``(B, T, d)``."""
        _check_length(x, self.d_model, self.max_len, type(self).__name__)
        return self.dropout(x + self.weight[: x.size(1)])  # (B, T, d)
