"""Activation functions by name: one registry for every task's ``--activation`` flag.

============  ==========================================================
name          definition
============  ==========================================================
sigmoid       σ(x) = 1 / (1 + e^{-x})
tanh          tanh(x) = (e^x - e^{-x}) / (e^x + e^{-x})
relu          max(0, x)
leaky_relu    x if x > 0 else a·x, a = 0.01
prelu         x if x > 0 else a·x, a learned (one per layer, init 0.25)
rrelu         x if x > 0 else a·x, a ~ U(l, u) in training, (l+u)/2 in eval
gelu          x·Φ(x), Φ the standard normal CDF
============  ==========================================================

Example:
    >>> from danlu.nn.activations import create_activation
    >>> create_activation("leaky_relu")
    LeakyReLU(negative_slope=0.01)
"""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

from danlu import names
from danlu.errors import UsageError

__all__ = ["ACTIVATIONS", "activation_names", "create_activation"]

# An explicit table (no registration by import side effect): name -> module factory.
ACTIVATIONS: dict[str, Callable[[], nn.Module]] = names.implement(names.ACTIVATIONS, {
    "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
    "leaky_relu": lambda: nn.LeakyReLU(0.01),
    "prelu": lambda: nn.PReLU(num_parameters=1, init=0.25),
    "rrelu": lambda: nn.RReLU(lower=1.0 / 8, upper=1.0 / 3),
    "gelu": nn.GELU,
}, "activations")  # fmt: skip


def activation_names() -> list[str]:
    """Names accepted by :func:`create_activation`, in table order."""
    return list(ACTIVATIONS)


def create_activation(name: str) -> nn.Module:
    """Build a fresh activation module by name; unknown names list the valid ones."""
    try:
        factory = ACTIVATIONS[name]
    except KeyError:
        raise UsageError(f"unknown activation {name!r}; valid: {', '.join(ACTIVATIONS)}") from None
    return factory()
