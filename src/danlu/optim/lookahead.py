"""Lookahead: k steps forward with the inner optimizer, then one step back toward slow weights.

With fast weights θ (the model's parameters) and slow weights φ (a copy kept here):

    φ_0 = θ_0                                  (a clone of the parameters, never zeros)
    θ ← inner_step(θ)                          k times
    φ ← φ + α·(θ - φ);   θ ← φ                 every k-th step

With ``k = 1, α = 1`` it is exactly the inner optimizer. ``pullback`` decides what happens
to the inner momentum (``momentum_buffer`` for SGD/RMSProp, ``exp_avg`` for Adam) at each
synchronisation: ``"none"`` keeps it, ``"reset"`` zeroes it, ``"pullback"`` interpolates it
the same way as the weights, against a slow copy of the momentum.

Reference: Zhang, Lucas, Hinton, Ba, "Lookahead Optimizer: k steps forward, 1 step back",
NeurIPS 2019; Su Jianlin, "Keras实现两个优化器：Lookahead和LazyOptimizer" (kexue.fm/archives/6869).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor
from torch.optim import Optimizer

from danlu.optim.wrapper import OptimizerWrapper, to_like

__all__ = ["Lookahead"]

PULLBACK_MODES = ("none", "reset", "pullback")
# Inner state entries that hold a momentum (first moment), in the order they are looked up.
MOMENTUM_KEYS = ("momentum_buffer", "exp_avg")


class Lookahead(OptimizerWrapper):
    """Wrap ``optimizer`` so that every ``k`` steps the weights are pulled back toward a slow copy.

    Args:
        optimizer: the inner (fast) optimizer, e.g. ``Adam(model.parameters())``.
        k: synchronisation period, ≥ 1.
        alpha: slow step size α in (0, 1].
        pullback: ``"none"``, ``"reset"`` or ``"pullback"`` (see the module docstring).

    The state dict is the inner optimizer's plus ``"lookahead"``: ``k``, ``alpha``,
    ``pullback``, the step counter and the slow weights keyed by parameter index, so a run
    resumed mid-cycle continues exactly.

    Example:
        >>> model = torch.nn.Linear(3, 1)
        >>> opt = Lookahead(torch.optim.SGD(model.parameters(), lr=0.1), k=5, alpha=0.5)
        >>> model(torch.ones(2, 3)).sum().backward(); opt.step()
    """

    state_key = "lookahead"

    def __init__(
        self, optimizer: Optimizer, k: int = 5, alpha: float = 0.5, pullback: str = "none"
    ) -> None:
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ValueError(f"Invalid Lookahead k: {k} (synchronisation period must be >= 1)")
        if not 0.0 < alpha <= 1.0:
            raise ValueError(f"Invalid Lookahead alpha: {alpha} (must be in (0, 1])")
        if pullback not in PULLBACK_MODES:
            raise ValueError(
                f"Invalid Lookahead pullback: {pullback!r} (valid: {', '.join(PULLBACK_MODES)})"
            )
        super().__init__(optimizer)
        self.k = k
        self.alpha = alpha
        self.pullback = pullback
        self.step_count = 0  # inner steps taken; a sync follows every k-th
        self.slow: dict[Tensor, Tensor] = {}
        self.slow_momentum: dict[Tensor, Tensor] = {}
        self._params_added()

    def extra_repr(self) -> str:
        return f"k={self.k}, alpha={self.alpha}, pullback={self.pullback!r}"

    @torch.no_grad()
    def _params_added(self) -> None:
        for p in self.params_in_order():
            if p not in self.slow:
                self.slow[p] = p.detach().clone()  # φ_0 = θ_0

    def step(self, closure: Callable[[], float] | None = None) -> float | None:  # type: ignore[override]
        """One inner step; every ``k``-th call also synchronises slow and fast weights."""
        loss = self.optimizer.step(closure)  # type: ignore[func-returns-value]
        self.step_count += 1
        if self.step_count % self.k == 0:
            self.synchronize()
        return loss

    @torch.no_grad()
    def synchronize(self) -> None:
        """φ ← φ + α(θ - φ); θ ← φ, for every parameter (called every ``k`` steps)."""
        fast = self.params_in_order()
        slow = [self.slow[p] for p in fast]
        torch._foreach_lerp_(slow, fast, self.alpha)
        torch._foreach_copy_(fast, slow)
        if self.pullback != "none":
            self._pull_back_momentum(fast)

    def _pull_back_momentum(self, params: list[Tensor]) -> None:
        for p in params:
            state = self.optimizer.state.get(p, {})
            key = next((k for k in MOMENTUM_KEYS if isinstance(state.get(k), Tensor)), None)
            if key is None:
                continue
            buf = state[key]
            if self.pullback == "reset":
                buf.zero_()
            else:  # slow momentum starts at the momentum the run started with: zero
                slow_buf = self.slow_momentum.setdefault(p, torch.zeros_like(buf))
                slow_buf.lerp_(buf, self.alpha)
                buf.copy_(slow_buf)

    def _own_state_dict(self) -> dict[str, Any]:
        index = {p: i for i, p in enumerate(self.params_in_order())}
        return {
            "k": self.k,
            "alpha": self.alpha,
            "pullback": self.pullback,
            "step_count": self.step_count,
            "slow": {index[p]: t.clone() for p, t in self.slow.items() if p in index},
            "slow_momentum": {
                index[p]: t.clone() for p, t in self.slow_momentum.items() if p in index
            },
        }

    def _load_own_state_dict(self, state: dict[str, Any]) -> None:
        params = self.params_in_order()
        self.k = state["k"]
        self.alpha = state["alpha"]
        self.pullback = state["pullback"]
        self.step_count = state["step_count"]
        self.slow = {params[i]: to_like(t, params[i]) for i, t in state["slow"].items()}
        self.slow_momentum = {
            params[i]: to_like(t, params[i]) for i, t in state["slow_momentum"].items()
        }
        self._params_added()
