"""Initialize a whole model by scheme name: ``init_weights(model, "he_normal")``.

The schemes (variance arguments in :mod:`danlu.functional.init`):

==============  =========================================  ===============================
name            weights                                    use with
==============  =========================================  ===============================
xavier_normal   N(0, 2/(fan_in + fan_out))                 tanh, sigmoid, linear
xavier_uniform  U(±sqrt(6/(fan_in + fan_out)))             tanh, sigmoid, linear
he_normal       N(0, 2/fan_in)                             ReLU
he_uniform      U(±sqrt(6/fan_in))                         ReLU
orthogonal      Q with orthonormal rows/columns            recurrent weights, deep linear
geometric       N(0, 1/fan_in)                             linear maps (norm-preserving)
==============  =========================================  ===============================

What is initialized: every weight with at least 2 dimensions (``Linear``, ``Conv*``,
attention projections, recurrent ``weight_ih``/``weight_hh``, ...); biases are set to zero.
Recurrent weights stack one (H, ·) block per gate, and each block is initialized as its own
matrix, so fan_out is H and an orthogonal init is orthogonal per gate. Embeddings keep their
N(0, 1) (a lookup table, not a linear map) and 1-D scales (norm layers, PReLU) are left
alone.

Example:
    >>> from torch import nn
    >>> mlp = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
    >>> mlp = init_weights(mlp, "he_normal")
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import torch
from torch import Tensor, nn

from danlu.errors import UsageError
from danlu.functional.init import (
    geometric_normal_,
    he_normal_,
    he_uniform_,
    orthogonal_,
    xavier_normal_,
    xavier_uniform_,
)

__all__ = ["INIT_SCHEMES", "init_scheme_names", "init_weights"]

M = TypeVar("M", bound=nn.Module)

# Explicit table: scheme name -> in-place initializer ``fn(weight, *, generator)``.
INIT_SCHEMES: dict[str, Callable[..., Tensor]] = {
    "xavier_normal": xavier_normal_,
    "xavier_uniform": xavier_uniform_,
    "he_normal": he_normal_,
    "he_uniform": he_uniform_,
    "orthogonal": orthogonal_,
    "geometric": geometric_normal_,
}


def init_scheme_names() -> list[str]:
    """Names accepted by :func:`init_weights`, in table order."""
    return list(INIT_SCHEMES)


def _gate_blocks(module: nn.Module, name: str, weight: Tensor) -> list[Tensor]:
    """Views of one weight to initialize separately: per gate for recurrent weights."""
    recurrent = isinstance(module, nn.RNNBase | nn.RNNCellBase)
    if recurrent and name.startswith(("weight_ih", "weight_hh")):
        hidden = module.hidden_size
        if weight.shape[0] % hidden == 0:
            return list(weight.split(hidden, dim=0))  # G blocks of (H, ·)
    return [weight]


def init_weights(module: M, scheme: str, *, generator: torch.Generator | None = None) -> M:
    """Initialize every weight matrix of ``module`` with ``scheme`` and zero every bias.

    Args:
        module: any model; all submodules are visited.
        scheme: a name in :data:`INIT_SCHEMES` (``init_scheme_names()`` lists them).
        generator: random generator for a reproducible initialization.

    Returns:
        ``module`` itself, initialized in place.

    Raises:
        UsageError: ``scheme`` is not a known name (the message lists the valid ones).
    """
    try:
        fn = INIT_SCHEMES[scheme]
    except KeyError:
        raise UsageError(
            f"unknown init scheme {scheme!r}; valid: {', '.join(INIT_SCHEMES)}"
        ) from None
    with torch.no_grad():
        for sub in module.modules():
            if isinstance(sub, nn.Embedding | nn.EmbeddingBag):
                continue
            for name, param in sub.named_parameters(recurse=False):
                if "weight" in name and param.dim() >= 2:
                    for block in _gate_blocks(sub, name, param):
                        fn(block, generator=generator)
                elif "bias" in name:
                    param.zero_()
    return module
