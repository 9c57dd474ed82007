"""Inverted dropout, written from its definition.

In training each value is kept with probability q = 1 - p and scaled by 1/q, so its expected
value is unchanged::

    m ~ Bernoulli(q) elementwise        y = m ⊙ x / q        E[y] = x

In evaluation dropout is the identity, and because of the 1/q scaling at training time no
rescaling is needed at test time ("inverted" dropout, as in every modern framework).

Reference: Srivastava et al., "Dropout: A Simple Way to Prevent Neural Networks from
Overfitting", JMLR 2014.
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["check_dropout_p", "dropout"]


def check_dropout_p(p: float) -> float:
    """Return ``p`` as a float if it is a probability in [0, 1]; raise ValueError otherwise."""
    if not 0.0 <= float(p) <= 1.0:
        raise ValueError(
            f"dropout probability must be in [0, 1], got p={p}; "
            "p is the fraction of values zeroed, e.g. 0.1"
        )
    return float(p)


def dropout(
    x: Tensor, p: float = 0.5, training: bool = True, *, generator: torch.Generator | None = None
) -> Tensor:
    """Zero each value with probability ``p`` and scale the survivors by 1/(1-p).

    Args:
        x: input of any shape.
        p: probability of zeroing a value, in [0, 1]; p = 1 zeroes everything.
        training: apply dropout; when False return ``x`` unchanged.
        generator: optional random generator for reproducible masks.

    Returns:
        A tensor of the same shape as ``x``; its gradient is ``m / (1 - p)``.

    Example:
        >>> y = dropout(torch.ones(1000), p=0.2)
        >>> sorted(set(y.tolist()))
        [0.0, 1.25]
    """
    p = check_dropout_p(p)
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return x * 0.0  # keeps the graph; 1/q would divide by zero
    keep = 1.0 - p
    u = torch.rand(x.shape, generator=generator, device=x.device, dtype=x.dtype)
    mask = (u < keep).to(x.dtype)  # (same shape as x) 1 = kept, 0 = dropped
    return x * mask / keep
