"""Stochastic gradient descent with momentum, dampening and Nesterov's look-ahead.

Update rule, for step t with gradient g_t, learning rate η, momentum μ, dampening τ:

    g_t ← g_t + λ·θ + λ₁·sign(θ)              (coupled L2 ``weight_decay`` λ and ``l1`` λ₁)
    b_1 = g_1;   b_t = μ·b_{t-1} + (1 - τ)·g_t  (when μ ≠ 0)
    d_t = g_t + μ·b_t  (Nesterov)   or   d_t = b_t   or   d_t = g_t  (μ = 0)
    θ   ← θ - η·d_t

This is PyTorch's convention (momentum accumulates gradients, the learning rate is applied
afterwards), so schedules on η act immediately; Sutskever et al. fold η into b instead.

Reference: Sutskever, Martens, Dahl, Hinton, "On the importance of initialization and
momentum in deep learning", ICML 2013.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from danlu.optim.base import (
    BaseOptimizer,
    ParamsT,
    check_nonnegative,
    coupled_penalty,
    coupled_penalty_foreach,
)

__all__ = ["SGD", "sgd"]


class SGD(BaseOptimizer):
    """SGD with optional momentum, dampening, Nesterov momentum, L2 and L1 penalties.

    Args:
        params: parameters or param-group dicts.
        lr: learning rate η.
        momentum: μ ≥ 0; 0 disables the momentum buffer.
        dampening: τ ≥ 0, scales the new gradient in the buffer by (1 - τ).
        weight_decay: coupled L2 coefficient λ (added to the gradient).
        nesterov: use d_t = g_t + μ·b_t; needs μ > 0 and τ = 0.
        l1: coupled L1 coefficient λ₁ (adds λ₁·sign(θ) to the gradient).
        foreach: ``None``/``True`` use the ``torch._foreach_*`` path, ``False`` the loop.

    Example:
        >>> model = torch.nn.Linear(3, 1)
        >>> opt = SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True)
        >>> model(torch.ones(2, 3)).sum().backward(); opt.step()
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        *,
        l1: float = 0.0,
        foreach: bool | None = None,
    ) -> None:
        check_nonnegative("learning rate", lr)
        check_nonnegative("momentum value", momentum)
        check_nonnegative("dampening value", dampening)
        check_nonnegative("weight_decay value", weight_decay)
        check_nonnegative("l1 value", l1)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError(
                f"Nesterov momentum requires momentum > 0 and dampening = 0, got "
                f"momentum={momentum}, dampening={dampening}"
            )
        defaults = dict(
            lr=lr,
            momentum=momentum,
            dampening=dampening,
            weight_decay=weight_decay,
            nesterov=nesterov,
            l1=l1,
            foreach=foreach,
        )
        super().__init__(params, defaults)

    def _init_state(self, p: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        # The buffer is created from the first gradient (b_1 = g_1), see _update.
        return {"momentum_buffer": None}

    def _update(
        self,
        group: dict[str, Any],
        params: list[Tensor],
        grads: list[Tensor],
        states: list[dict[str, Any]],
        foreach: bool,
    ) -> None:
        buffers = sgd(
            params,
            grads,
            [s.get("momentum_buffer") for s in states],
            lr=group["lr"],
            momentum=group["momentum"],
            dampening=group["dampening"],
            weight_decay=group["weight_decay"],
            nesterov=group["nesterov"],
            l1=group["l1"],
            foreach=foreach,
        )
        for state, buf in zip(states, buffers, strict=True):
            state["momentum_buffer"] = buf


def sgd(
    params: list[Tensor],
    grads: list[Tensor],
    momentum_buffers: list[Tensor | None],
    *,
    lr: float,
    momentum: float,
    dampening: float,
    weight_decay: float,
    nesterov: bool,
    l1: float = 0.0,
    foreach: bool = True,
) -> list[Tensor | None]:
    """Functional SGD: updates ``params`` in place and returns the momentum buffers.

    A ``None`` buffer means "first step": it becomes a copy of the (penalized) gradient.
    """
    fn = _multi_tensor_sgd if foreach else _single_tensor_sgd
    return fn(
        params,
        grads,
        momentum_buffers,
        lr=lr,
        momentum=momentum,
        dampening=dampening,
        weight_decay=weight_decay,
        nesterov=nesterov,
        l1=l1,
    )


def _single_tensor_sgd(
    params: list[Tensor],
    grads: list[Tensor],
    momentum_buffers: list[Tensor | None],
    *,
    lr: float,
    momentum: float,
    dampening: float,
    weight_decay: float,
    nesterov: bool,
    l1: float,
) -> list[Tensor | None]:
    out: list[Tensor | None] = []
    for p, g, b in zip(params, grads, momentum_buffers, strict=True):
        g = coupled_penalty(p, g, weight_decay, l1)
        if momentum != 0.0:
            if b is None:
                b = g.detach().clone()  # b_1 = g_1
            else:
                b.mul_(momentum).add_(g, alpha=1.0 - dampening)  # b_t = μ b_{t-1} + (1-τ) g_t
            d = g.add(b, alpha=momentum) if nesterov else b
        else:
            d = g
        p.add_(d, alpha=-lr)  # θ ← θ - η d_t
        out.append(b)
    return out


def _multi_tensor_sgd(
    params: list[Tensor],
    grads: list[Tensor],
    momentum_buffers: list[Tensor | None],
    *,
    lr: float,
    momentum: float,
    dampening: float,
    weight_decay: float,
    nesterov: bool,
    l1: float,
) -> list[Tensor | None]:
    grads = coupled_penalty_foreach(params, grads, weight_decay, l1)
    if momentum == 0.0:
        torch._foreach_add_(params, grads, alpha=-lr)
        return list(momentum_buffers)
    if all(b is not None for b in momentum_buffers):
        bufs: list[Tensor] = momentum_buffers  # type: ignore[assignment]
        if dampening == 0.0 and bufs[0].device.type == "cpu":
            # b ← g + μ·b in one pass over b instead of foreach mul_ then add_ (two). On CPU
            # a foreach op is a loop over tensors anyway, so nothing is lost by looping here.
            for b, g in zip(bufs, grads, strict=True):
                torch.add(g, b, alpha=momentum, out=b)
        else:
            torch._foreach_mul_(bufs, momentum)
            torch._foreach_add_(bufs, grads, alpha=1.0 - dampening)
    else:  # first step for some parameters: those start from a copy of g
        bufs = []
        for g, b in zip(grads, momentum_buffers, strict=True):
            if b is None:
                b = g.detach().clone()
            else:
                b.mul_(momentum).add_(g, alpha=1.0 - dampening)
            bufs.append(b)
    if nesterov:
        grads = torch._foreach_add(grads, bufs, alpha=momentum)
        torch._foreach_add_(params, grads, alpha=-lr)
    else:
        torch._foreach_add_(params, bufs, alpha=-lr)
    return list(bufs)
