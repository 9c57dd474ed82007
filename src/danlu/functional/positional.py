"""Sinusoidal positional encoding from "Attention Is All You Need" (section 3.5).

    PE[pos, 2i]     = sin(pos / base^(2i / d_model))
    PE[pos, 2i + 1] = cos(pos / base^(2i / d_model)),      base = 10000

Each pair of dimensions is a rotating 2-D vector whose frequency falls geometrically from
1 to 1/base, so ``PE[pos + k]`` is a fixed linear function (a rotation) of ``PE[pos]``.
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["sinusoidal_encoding"]


def sinusoidal_encoding(
    max_len: int,
    d_model: int,
    *,
    base: float = 10000.0,
    dtype: torch.dtype = torch.float32,
    device: torch.device | None = None,
) -> Tensor:
    """Table of sinusoidal positional encodings, one row per position.

    Args:
        max_len: number of positions ``T`` (rows).
        d_model: encoding size ``d`` (columns); an odd ``d`` drops the last cosine.
        base: wavelength base (10000 in the paper).
        dtype: dtype of the table.
        device: where to build it.

    Returns:
        ``(T, d)`` tensor with ``PE[pos, 2i] = sin(pos / base^(2i/d))`` and
        ``PE[pos, 2i+1] = cos(pos / base^(2i/d))``.

    Example:
        >>> pe = sinusoidal_encoding(50, 16)
        >>> pe.shape, pe[0, :4].tolist()
        (torch.Size([50, 16]), [0.0, 1.0, 0.0, 1.0])

    Paper: Vaswani et al., "Attention Is All You Need", NeurIPS 2017, section 3.5.
    """
    if max_len < 0 or d_model < 1:
        raise ValueError(
            f"need max_len >= 0 and d_model >= 1, got max_len={max_len}, d_model={d_model}"
        )
    if base <= 0:
        raise ValueError(f"base must be > 0, got {base}")
    # Compute in float64 so long tables stay accurate, then cast.
    pos = torch.arange(max_len, dtype=torch.float64, device=device)[:, None]  # (T, 1)
    two_i = torch.arange(0, d_model, 2, dtype=torch.float64, device=device)  # (ceil(d/2),)
    angle = pos / base ** (two_i / d_model)  # (T, ceil(d/2))
    pe = torch.zeros(max_len, d_model, dtype=torch.float64, device=device)
    pe[:, 0::2] = torch.sin(angle)
    pe[:, 1::2] = torch.cos(angle[:, : d_model // 2])
    return pe.to(dtype)
