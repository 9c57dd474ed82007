"""Inverted dropout as a module: the reference definition or PyTorch's fused kernel.

In training each value is zeroed with probability p and the survivors are scaled by
1/(1-p), so E[y] = x; in evaluation the module is the identity. ``impl="torch"`` (default)
calls ``F.dropout``; ``impl="reference"`` calls :func:`danlu.functional.dropout.dropout`.
The random masks of the two paths differ; the tests check each against the definition.

Example:
    >>> import torch
    >>> drop = Dropout(0.1)
    >>> _ = drop.eval()
    >>> x = torch.randn(4)
    >>> torch.equal(drop(x), x)
    True
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from danlu.functional.dropout import check_dropout_p, dropout
from danlu.nn.impl import Impl, check_impl

__all__ = ["Dropout"]


class Dropout(nn.Module):
    """Zero each value with probability ``p`` in training, scaling the rest by 1/(1-p).

    Args:
        p: probability of zeroing a value, in [0, 1].
        impl: "torch" (``F.dropout``) or "reference" (the definition).
    """

    def __init__(self, p: float = 0.5, *, impl: Impl = "torch") -> None:
        super().__init__()
        self.p = check_dropout_p(p)
        self.impl = check_impl(impl)

    def forward(self, x: Tensor) -> Tensor:
        if self.impl == "torch":
            return F.dropout(x, self.p, self.training)
        return dropout(x, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}, impl={self.impl!r}"
