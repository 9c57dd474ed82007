"""Gradient clipping by global norm and by value, applied in place to ``p.grad``.

By norm: with g the concatenation of every gradient and ‖g‖ its p-norm (p = 2 by default),

    g ← g · min(1, max_norm / (‖g‖ + 1e-6))

which rescales all gradients together, keeping the update's direction. By value: every
component is clamped to [-c, c], which can change the direction. Both are what a training
loop's ``--grad-clip`` calls between ``backward()`` and ``step()``; both equal
``torch.nn.utils.clip_grad_norm_`` / ``clip_grad_value_`` (the tests check it).

Example:
    >>> w = torch.nn.Parameter(torch.ones(4))
    >>> w.grad = torch.full((4,), 3.0)
    >>> float(clip_grad_norm([w], max_norm=1.0))  # the norm before clipping
    6.0
    >>> round(float(w.grad.norm()), 4)
    1.0

Reference: Pascanu, Mikolov & Bengio, "On the difficulty of training recurrent neural
networks", 2013.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch
from torch import Tensor

__all__ = ["clip_grad_norm", "clip_grad_value"]


def _grads(parameters: Tensor | Iterable[Tensor]) -> list[Tensor]:
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    return [p.grad for p in params if p.grad is not None]


def clip_grad_norm(
    parameters: Tensor | Iterable[Tensor],
    max_norm: float,
    norm_type: float = 2.0,
    *,
    error_if_nonfinite: bool = False,
) -> Tensor:
    """Rescale all gradients together so that their joint ``norm_type``-norm is ≤ max_norm.

    Args:
        parameters: a tensor or an iterable of tensors whose ``.grad`` is clipped in place;
            tensors without a gradient are skipped.
        max_norm: the largest allowed total norm, > 0.
        norm_type: p of the p-norm, ≥ 1 or ``math.inf`` (largest absolute value).
        error_if_nonfinite: raise RuntimeError when the total norm is NaN or infinite
            (otherwise the gradients become NaN and a NaN-aware loop can stop).

    Returns:
        The total norm *before* clipping, a 0-dim tensor (log it: spikes show instability).
    """
    if not max_norm > 0:
        raise ValueError(f"max_norm must be > 0, got {max_norm}; e.g. 1.0 or 5.0")
    if not (norm_type >= 1 or norm_type == math.inf):
        raise ValueError(f"norm_type must be >= 1 or math.inf, got {norm_type}; usually 2.0")
    grads = _grads(parameters)
    if not grads:
        return torch.tensor(0.0)
    # ‖g‖_p over all gradients = ‖(‖g_1‖_p, ..., ‖g_k‖_p)‖_p, so reduce per tensor first.
    per_tensor = torch.stack([torch.linalg.vector_norm(g, norm_type) for g in grads])  # (k,)
    total = torch.linalg.vector_norm(per_tensor, norm_type)
    if error_if_nonfinite and not bool(torch.isfinite(total)):
        raise RuntimeError(
            f"the total gradient norm is {float(total)}; the loss or a layer overflowed. "
            "Lower the learning rate, or pass error_if_nonfinite=False"
        )
    scale = torch.clamp(max_norm / (total + 1e-6), max=1.0)  # 0-dim, no host sync
    for g in grads:
        g.mul_(scale.to(g.device, g.dtype))
    return total


def clip_grad_value(parameters: Tensor | Iterable[Tensor], clip_value: float) -> None:
    """Clamp every gradient component to [-clip_value, clip_value] in place.

    Args:
        parameters: a tensor or an iterable of tensors whose ``.grad`` is clipped.
        clip_value: the largest allowed absolute value, > 0.
    """
    if not clip_value > 0:
        raise ValueError(f"clip_value must be > 0, got {clip_value}; e.g. 1.0")
    for g in _grads(parameters):
        g.clamp_(-clip_value, clip_value)
