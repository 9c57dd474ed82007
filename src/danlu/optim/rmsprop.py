"""RMSProp: divide the gradient by a running root-mean-square of recent gradients.

Update rule, for gradient g_t, learning rate η, smoothing α, momentum μ:

    g_t ← g_t + λ·θ + λ₁·sign(θ)           (coupled L2 ``weight_decay`` λ and ``l1`` λ₁)
    v_t = α·v_{t-1} + (1 - α)·g_t²
    c_t = α·c_{t-1} + (1 - α)·g_t           (centered only)
    r_t = √(v_t - c_t²) + ε  (centered)   or   √v_t + ε
    b_t = μ·b_{t-1} + g_t / r_t,  θ ← θ - η·b_t      (μ > 0)
    θ   ← θ - η·g_t / r_t                              (μ = 0)

Centering divides by an estimate of the gradient's standard deviation instead of its
root-mean-square.

Reference: Tieleman & Hinton, Lecture 6.5 of "Neural Networks for Machine Learning",
Coursera 2012; centered form from Graves, "Generating Sequences With Recurrent Neural
Networks", 2013.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from danlu.optim.base import (
    BaseOptimizer,
    ParamsT,
    check_nonnegative,
    check_unit_interval,
    coupled_penalty,
    coupled_penalty_foreach,
    foreach_waves,
)

__all__ = ["RMSProp", "rmsprop"]


class RMSProp(BaseOptimizer):
    """RMSProp, optionally centered and with momentum, with L2 and L1 penalties.

    Args:
        params: parameters or param-group dicts.
        lr: learning rate η.
        alpha: smoothing constant α in [0, 1).
        eps: ε added to the root-mean-square.
        weight_decay: coupled L2 coefficient λ.
        momentum: μ ≥ 0 (0 disables the buffer).
        centered: normalise by the estimated standard deviation of g.
        l1: coupled L1 coefficient λ₁.
        foreach: ``None``/``True`` use the ``torch._foreach_*`` path, ``False`` the loop.

    Example:
        >>> model = torch.nn.Linear(3, 1)
        >>> opt = RMSProp(model.parameters(), lr=1e-3, centered=True, momentum=0.9)
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
        *,
        l1: float = 0.0,
        foreach: bool | None = None,
    ) -> None:
        check_nonnegative("learning rate", lr)
        check_unit_interval("alpha value", alpha)
        check_nonnegative("epsilon value", eps)
        check_nonnegative("weight_decay value", weight_decay)
        check_nonnegative("momentum value", momentum)
        check_nonnegative("l1 value", l1)
        defaults = dict(
            lr=lr,
            alpha=alpha,
            eps=eps,
            weight_decay=weight_decay,
            momentum=momentum,
            centered=centered,
            l1=l1,
            foreach=foreach,
        )
        super().__init__(params, defaults)

    def _init_state(self, p: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        state: dict[str, Any] = {"step": 0, "square_avg": torch.zeros_like(p)}
        if group["momentum"] > 0:
            state["momentum_buffer"] = torch.zeros_like(p)
        if group["centered"]:
            state["grad_avg"] = torch.zeros_like(p)
        return state

    def _update(
        self,
        group: dict[str, Any],
        params: list[Tensor],
        grads: list[Tensor],
        states: list[dict[str, Any]],
        foreach: bool,
    ) -> None:
        momentum, centered = group["momentum"], group["centered"]
        for s in states:
            s["step"] += 1
            # Buffers switched on mid-run (e.g. a momentum schedule) start at zero.
            if momentum > 0 and "momentum_buffer" not in s:
                s["momentum_buffer"] = torch.zeros_like(s["square_avg"])
            if centered and "grad_avg" not in s:
                s["grad_avg"] = torch.zeros_like(s["square_avg"])
        rmsprop(
            params,
            grads,
            [s["square_avg"] for s in states],
            [s["grad_avg"] for s in states] if centered else None,
            [s["momentum_buffer"] for s in states] if momentum > 0 else None,
            lr=group["lr"],
            alpha=group["alpha"],
            eps=group["eps"],
            weight_decay=group["weight_decay"],
            momentum=momentum,
            l1=group["l1"],
            foreach=foreach,
        )


def rmsprop(
    params: list[Tensor],
    grads: list[Tensor],
    square_avgs: list[Tensor],
    grad_avgs: list[Tensor] | None,
    momentum_buffers: list[Tensor] | None,
    *,
    lr: float,
    alpha: float,
    eps: float,
    weight_decay: float,
    momentum: float,
    l1: float = 0.0,
    foreach: bool = True,
) -> None:
    """Functional RMSProp: ``grad_avgs`` given means centered, ``momentum_buffers`` momentum."""
    fn = _multi_tensor_rmsprop if foreach else _single_tensor_rmsprop
    fn(
        params,
        grads,
        square_avgs,
        grad_avgs,
        momentum_buffers,
        lr=lr,
        alpha=alpha,
        eps=eps,
        weight_decay=weight_decay,
        momentum=momentum,
        l1=l1,
    )


def _single_tensor_rmsprop(
    params: list[Tensor],
    grads: list[Tensor],
    square_avgs: list[Tensor],
    grad_avgs: list[Tensor] | None,
    momentum_buffers: list[Tensor] | None,
    *,
    lr: float,
    alpha: float,
    eps: float,
    weight_decay: float,
    momentum: float,
    l1: float,
) -> None:
    for i, (p, g, v) in enumerate(zip(params, grads, square_avgs, strict=True)):
        g = coupled_penalty(p, g, weight_decay, l1)
        v.mul_(alpha).addcmul_(g, g, value=1.0 - alpha)  # v = α v + (1-α) g²
        if grad_avgs is not None:
            c = grad_avgs[i]
            c.lerp_(g, 1.0 - alpha)  # c = α c + (1-α) g
            r = v.addcmul(c, c, value=-1.0).sqrt_().add_(eps)  # √(v - c²) + ε
        else:
            r = v.sqrt().add_(eps)
        if momentum_buffers is not None:
            b = momentum_buffers[i]
            b.mul_(momentum).addcdiv_(g, r)  # b = μ b + g / r
            p.add_(b, alpha=-lr)
        else:
            p.addcdiv_(g, r, value=-lr)


def _multi_tensor_rmsprop(
    params: list[Tensor],
    grads: list[Tensor],
    square_avgs: list[Tensor],
    grad_avgs: list[Tensor] | None,
    momentum_buffers: list[Tensor] | None,
    *,
    lr: float,
    alpha: float,
    eps: float,
    weight_decay: float,
    momentum: float,
    l1: float,
) -> None:
    grads = coupled_penalty_foreach(params, grads, weight_decay, l1)
    torch._foreach_mul_(square_avgs, alpha)
    torch._foreach_addcmul_(square_avgs, grads, grads, 1.0 - alpha)
    if grad_avgs is not None:
        torch._foreach_lerp_(grad_avgs, grads, 1.0 - alpha)
    lists = [params, grads, square_avgs]
    lists += [grad_avgs] if grad_avgs is not None else []
    lists += [momentum_buffers] if momentum_buffers is not None else []
    for wave in foreach_waves(*lists):
        ps, gs, vs = wave[:3]
        if grad_avgs is not None:
            cs = wave[3]
            r = torch._foreach_addcmul(vs, cs, cs, -1.0)  # v - c²
            torch._foreach_sqrt_(r)
        else:
            r = torch._foreach_sqrt(vs)
        torch._foreach_add_(r, eps)
        if momentum_buffers is not None:
            bs = wave[-1]
            torch._foreach_mul_(bs, momentum)
            torch._foreach_addcdiv_(bs, gs, r)
            torch._foreach_add_(ps, bs, alpha=-lr)
        else:
            torch._foreach_addcdiv_(ps, gs, r, -lr)
