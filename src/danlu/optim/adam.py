"""Adam and AdamW: momentum on the gradient, per-coordinate scale from its second moment.

Update rule, for step t, gradient g_t, learning rate η, betas (β₁, β₂):

    g_t ← g_t + λ·θ + λ₁·sign(θ)         (Adam: coupled L2 ``weight_decay`` λ, ``l1`` λ₁)
    θ   ← θ·(1 - η·λ)                     (AdamW instead: decoupled weight decay)
    m_t = β₁·m_{t-1} + (1 - β₁)·g_t
    v_t = β₂·v_{t-1} + (1 - β₂)·g_t²
    v̂ₘ = max(v̂ₘ, v_t)  and use it in place of v_t   (AMSGrad)
    m̂_t = m_t / (1 - β₁ᵗ),   v̂_t = v_t / (1 - β₂ᵗ)   (bias correction; off: m̂ = m, v̂ = v)
    θ   ← θ - η·m̂_t / (√v̂_t + ε)

The multi-tensor path computes the same step as
``θ ← θ - (η·√(1-β₂ᵗ)/(1-β₁ᵗ))·m_t / (√v_t + ε·√(1-β₂ᵗ))``, which saves one pass over
the second moment; the two agree to rounding (tested in float64).

References: Kingma & Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015;
Reddi, Kale, Kumar, "On the Convergence of Adam and Beyond" (AMSGrad), ICLR 2018;
Loshchilov & Hutter, "Decoupled Weight Decay Regularization" (AdamW), ICLR 2019.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

from danlu.optim.base import (
    BaseOptimizer,
    ParamsT,
    check_beta,
    check_nonnegative,
    coupled_penalty,
    coupled_penalty_foreach,
    foreach_waves,
    group_by_step,
)

__all__ = ["Adam", "AdamW", "adam"]


class Adam(BaseOptimizer):
    """Adam with optional AMSGrad, bias correction on/off, L2 (coupled or decoupled) and L1.

    Args:
        params: parameters or param-group dicts.
        lr: learning rate η.
        betas: (β₁, β₂), each in [0, 1).
        eps: ε added to the denominator.
        weight_decay: λ; added to the gradient (coupled L2) unless
            ``decoupled_weight_decay`` is set, then θ ← θ·(1 - ηλ) as in AdamW.
        amsgrad: normalise by the running maximum of v_t.
        bias_correction: divide m_t and v_t by (1 - βᵗ); ``False`` gives the uncorrected
            update. Both averages start at zero, but v's is the slower one (β₂ > β₁), so the
            first uncorrected step is (1 - β₁)/√(1 - β₂) ≈ 3.2 times the corrected one with
            the default betas: larger, not smaller (the lab's ``adam_bias_correction``).
        l1: coupled L1 coefficient λ₁ (adds λ₁·sign(θ) to the gradient).
        decoupled_weight_decay: apply λ as AdamW does.
        foreach: ``None``/``True`` use the ``torch._foreach_*`` path, ``False`` the loop.

    Example:
        >>> model = torch.nn.Linear(3, 1)
        >>> opt = Adam(model.parameters(), lr=1e-3, amsgrad=True)
        >>> model(torch.ones(2, 3)).sum().backward(); opt.step()
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: Sequence[float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        *,
        bias_correction: bool = True,
        l1: float = 0.0,
        decoupled_weight_decay: bool = False,
        foreach: bool | None = None,
    ) -> None:
        check_nonnegative("learning rate", lr)
        check_nonnegative("epsilon value", eps)
        check_beta(betas)
        check_nonnegative("weight_decay value", weight_decay)
        check_nonnegative("l1 value", l1)
        defaults = dict(
            lr=lr,
            betas=tuple(betas),
            eps=eps,
            weight_decay=weight_decay,
            amsgrad=amsgrad,
            bias_correction=bias_correction,
            l1=l1,
            decoupled_weight_decay=decoupled_weight_decay,
            foreach=foreach,
        )
        super().__init__(params, defaults)

    def _init_state(self, p: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        state: dict[str, Any] = {
            "step": 0,
            "exp_avg": torch.zeros_like(p, memory_format=torch.preserve_format),
            "exp_avg_sq": torch.zeros_like(p, memory_format=torch.preserve_format),
        }
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)
        return state

    def _update(
        self,
        group: dict[str, Any],
        params: list[Tensor],
        grads: list[Tensor],
        states: list[dict[str, Any]],
        foreach: bool,
    ) -> None:
        amsgrad = group["amsgrad"]
        for s in states:
            s["step"] += 1
            if amsgrad and "max_exp_avg_sq" not in s:  # amsgrad switched on mid-run
                s["max_exp_avg_sq"] = s["exp_avg_sq"].clone()
        beta1, beta2 = group["betas"]
        adam(
            params,
            grads,
            [s["exp_avg"] for s in states],
            [s["exp_avg_sq"] for s in states],
            [s["max_exp_avg_sq"] for s in states] if amsgrad else None,
            [s["step"] for s in states],
            lr=group["lr"],
            beta1=beta1,
            beta2=beta2,
            eps=group["eps"],
            weight_decay=group["weight_decay"],
            l1=group["l1"],
            bias_correction=group["bias_correction"],
            decoupled_weight_decay=group["decoupled_weight_decay"],
            foreach=foreach,
        )


class AdamW(Adam):
    """Adam with decoupled weight decay: θ ← θ·(1 - ηλ) before the Adam step.

    Same arguments as :class:`Adam` (without ``decoupled_weight_decay``); the default
    ``weight_decay`` is 1e-2 as in ``torch.optim.AdamW``.

    Example:
        >>> model = torch.nn.Linear(3, 1)
        >>> opt = AdamW(model.parameters(), lr=1e-3, weight_decay=0.1)
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: Sequence[float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        bias_correction: bool = True,
        l1: float = 0.0,
        foreach: bool | None = None,
    ) -> None:
        super().__init__(
            params,
            lr,
            betas,
            eps,
            weight_decay,
            amsgrad,
            bias_correction=bias_correction,
            l1=l1,
            decoupled_weight_decay=True,
            foreach=foreach,
        )


def adam(
    params: list[Tensor],
    grads: list[Tensor],
    exp_avgs: list[Tensor],
    exp_avg_sqs: list[Tensor],
    max_exp_avg_sqs: list[Tensor] | None,
    steps: list[int],
    *,
    lr: float,
    beta1: float,
    beta2: float,
    eps: float,
    weight_decay: float = 0.0,
    l1: float = 0.0,
    bias_correction: bool = True,
    decoupled_weight_decay: bool = False,
    foreach: bool = True,
) -> None:
    """Functional Adam/AdamW: updates params and moments in place.

    ``steps`` holds each parameter's step count t *after* incrementing (1 on the first
    step); ``max_exp_avg_sqs`` is ``None`` unless AMSGrad is on.
    """
    fn = _multi_tensor_adam if foreach else _single_tensor_adam
    fn(
        params,
        grads,
        exp_avgs,
        exp_avg_sqs,
        max_exp_avg_sqs,
        steps,
        lr=lr,
        beta1=beta1,
        beta2=beta2,
        eps=eps,
        weight_decay=weight_decay,
        l1=l1,
        bias_correction=bias_correction,
        decoupled_weight_decay=decoupled_weight_decay,
    )


def _single_tensor_adam(
    params: list[Tensor],
    grads: list[Tensor],
    exp_avgs: list[Tensor],
    exp_avg_sqs: list[Tensor],
    max_exp_avg_sqs: list[Tensor] | None,
    steps: list[int],
    *,
    lr: float,
    beta1: float,
    beta2: float,
    eps: float,
    weight_decay: float,
    l1: float,
    bias_correction: bool,
    decoupled_weight_decay: bool,
) -> None:
    for i, (p, g, m, v, t) in enumerate(
        zip(params, grads, exp_avgs, exp_avg_sqs, steps, strict=True)
    ):
        if decoupled_weight_decay:
            p.mul_(1.0 - lr * weight_decay)  # θ ← θ(1 - ηλ)
            g = coupled_penalty(p, g, 0.0, l1)
        else:
            g = coupled_penalty(p, g, weight_decay, l1)
        m.lerp_(g, 1.0 - beta1)  # m = β₁ m + (1-β₁) g
        v.mul_(beta2).addcmul_(g, g, value=1.0 - beta2)  # v = β₂ v + (1-β₂) g²
        if max_exp_avg_sqs is not None:
            torch.maximum(max_exp_avg_sqs[i], v, out=max_exp_avg_sqs[i])
            v = max_exp_avg_sqs[i]
        if bias_correction:
            m_hat = m / (1.0 - beta1**t)
            v_hat = v / (1.0 - beta2**t)
        else:
            m_hat, v_hat = m, v
        p.addcdiv_(m_hat, v_hat.sqrt().add_(eps), value=-lr)  # θ -= η m̂ / (√v̂ + ε)


def _multi_tensor_adam(
    params: list[Tensor],
    grads: list[Tensor],
    exp_avgs: list[Tensor],
    exp_avg_sqs: list[Tensor],
    max_exp_avg_sqs: list[Tensor] | None,
    steps: list[int],
    *,
    lr: float,
    beta1: float,
    beta2: float,
    eps: float,
    weight_decay: float,
    l1: float,
    bias_correction: bool,
    decoupled_weight_decay: bool,
) -> None:
    if decoupled_weight_decay:
        if weight_decay != 0.0:
            torch._foreach_mul_(params, 1.0 - lr * weight_decay)
        grads = coupled_penalty_foreach(params, grads, 0.0, l1)
    else:
        grads = coupled_penalty_foreach(params, grads, weight_decay, l1)
    torch._foreach_lerp_(exp_avgs, grads, 1.0 - beta1)
    torch._foreach_mul_(exp_avg_sqs, beta2)
    torch._foreach_addcmul_(exp_avg_sqs, grads, grads, 1.0 - beta2)
    second = exp_avg_sqs
    if max_exp_avg_sqs is not None:
        torch._foreach_maximum_(max_exp_avg_sqs, exp_avg_sqs)
        second = max_exp_avg_sqs
    # θ -= s_t · m / (√v + ε_t), s_t = η √(1-β₂ᵗ) / (1-β₁ᵗ), ε_t = ε √(1-β₂ᵗ).
    for t, idx in group_by_step(steps):  # one group unless parameters joined at other steps
        bc2_sqrt = math.sqrt(1.0 - beta2**t) if bias_correction else 1.0
        step_size = -lr * bc2_sqrt / (1.0 - beta1**t) if bias_correction else -lr
        if len(idx) < len(steps):
            ps, ms, vs = ([x[i] for i in idx] for x in (params, exp_avgs, second))
        else:
            ps, ms, vs = params, exp_avgs, second
        for ps_w, ms_w, vs_w in foreach_waves(ps, ms, vs):
            denom = torch._foreach_sqrt(vs_w)
            torch._foreach_add_(denom, eps * bc2_sqrt)
            torch._foreach_addcdiv_(ps_w, ms_w, denom, step_size)
