"""AdaGrad: each coordinate's step shrinks with the sum of its squared gradients.

Update rule, for step t, gradient g_t, learning rate η, decay δ (``lr_decay``):

    g_t ← g_t + λ·θ + λ₁·sign(θ)       (coupled L2 ``weight_decay`` λ and ``l1`` λ₁)
    η_t = η / (1 + (t - 1)·δ)
    s_t = s_{t-1} + g_t²               (s_0 = ``initial_accumulator_value``)
    θ   ← θ - η_t·g_t / (√s_t + ε)

Rarely-seen features keep a large step, frequent ones slow down; the price is a step that
only ever shrinks, which RMSProp fixes by averaging instead of summing.

Reference: Duchi, Hazan, Singer, "Adaptive Subgradient Methods for Online Learning and
Stochastic Optimization", JMLR 2011.
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
    foreach_waves,
    group_by_step,
)

__all__ = ["AdaGrad", "adagrad"]


class AdaGrad(BaseOptimizer):
    """AdaGrad with learning-rate decay, L2 and L1 penalties.

    Args:
        params: parameters or param-group dicts.
        lr: learning rate η.
        lr_decay: δ ≥ 0, η_t = η / (1 + (t-1)δ).
        weight_decay: coupled L2 coefficient λ.
        initial_accumulator_value: s_0 ≥ 0, the starting sum of squares.
        eps: ε added to √s_t.
        l1: coupled L1 coefficient λ₁.
        foreach: ``None``/``True`` use the ``torch._foreach_*`` path, ``False`` the loop.

    Example:
        >>> model = torch.nn.Linear(3, 1)
        >>> opt = AdaGrad(model.parameters(), lr=0.1)
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-2,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
        *,
        l1: float = 0.0,
        foreach: bool | None = None,
    ) -> None:
        check_nonnegative("learning rate", lr)
        check_nonnegative("lr_decay value", lr_decay)
        check_nonnegative("weight_decay value", weight_decay)
        check_nonnegative("initial_accumulator_value", initial_accumulator_value)
        check_nonnegative("epsilon value", eps)
        check_nonnegative("l1 value", l1)
        defaults = dict(
            lr=lr,
            lr_decay=lr_decay,
            weight_decay=weight_decay,
            initial_accumulator_value=initial_accumulator_value,
            eps=eps,
            l1=l1,
            foreach=foreach,
        )
        super().__init__(params, defaults)

    def _init_state(self, p: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        init = group["initial_accumulator_value"]
        return {"step": 0, "sum": torch.full_like(p, init, memory_format=torch.preserve_format)}

    def _update(
        self,
        group: dict[str, Any],
        params: list[Tensor],
        grads: list[Tensor],
        states: list[dict[str, Any]],
        foreach: bool,
    ) -> None:
        for s in states:
            s["step"] += 1
        adagrad(
            params,
            grads,
            [s["sum"] for s in states],
            [s["step"] for s in states],
            lr=group["lr"],
            lr_decay=group["lr_decay"],
            weight_decay=group["weight_decay"],
            eps=group["eps"],
            l1=group["l1"],
            foreach=foreach,
        )


def adagrad(
    params: list[Tensor],
    grads: list[Tensor],
    state_sums: list[Tensor],
    steps: list[int],
    *,
    lr: float,
    lr_decay: float,
    weight_decay: float,
    eps: float,
    l1: float = 0.0,
    foreach: bool = True,
) -> None:
    """Functional AdaGrad: updates params and sums in place; ``steps`` are already incremented."""
    fn = _multi_tensor_adagrad if foreach else _single_tensor_adagrad
    fn(
        params,
        grads,
        state_sums,
        steps,
        lr=lr,
        lr_decay=lr_decay,
        weight_decay=weight_decay,
        eps=eps,
        l1=l1,
    )


def _single_tensor_adagrad(
    params: list[Tensor],
    grads: list[Tensor],
    state_sums: list[Tensor],
    steps: list[int],
    *,
    lr: float,
    lr_decay: float,
    weight_decay: float,
    eps: float,
    l1: float,
) -> None:
    for p, g, s, t in zip(params, grads, state_sums, steps, strict=True):
        g = coupled_penalty(p, g, weight_decay, l1)
        lr_t = lr / (1.0 + (t - 1) * lr_decay)  # η_t = η / (1 + (t-1)δ)
        s.addcmul_(g, g)  # s_t = s_{t-1} + g²
        p.addcdiv_(g, s.sqrt().add_(eps), value=-lr_t)  # θ -= η_t g / (√s + ε)


def _multi_tensor_adagrad(
    params: list[Tensor],
    grads: list[Tensor],
    state_sums: list[Tensor],
    steps: list[int],
    *,
    lr: float,
    lr_decay: float,
    weight_decay: float,
    eps: float,
    l1: float,
) -> None:
    grads = coupled_penalty_foreach(params, grads, weight_decay, l1)
    torch._foreach_addcmul_(state_sums, grads, grads)
    for t, idx in group_by_step(steps):  # one group unless parameters joined at other steps
        lr_t = lr / (1.0 + (t - 1) * lr_decay)
        if len(idx) < len(steps):
            ps, gs, ss = ([x[i] for i in idx] for x in (params, grads, state_sums))
        else:
            ps, gs, ss = params, grads, state_sums
        for ps_w, gs_w, ss_w in foreach_waves(ps, gs, ss):
            std = torch._foreach_sqrt(ss_w)
            torch._foreach_add_(std, eps)
            torch._foreach_addcdiv_(ps_w, gs_w, std, -lr_t)
