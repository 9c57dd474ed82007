"""EMA: an exponential moving average of the weights, swapped in for evaluation.

With decay β and parameters θ_t after the t-th optimizer step:

    s_0 = 0,   s_t = β·s_{t-1} + (1 - β)·θ_t,   θ̄_t = s_t / (1 - βᵗ)

The bias correction makes θ̄_t an exact weighted average of θ_1..θ_t (weights ∝ β^{t-i}),
so early averages are not pulled toward zero. With ``bias_correction=False`` the average
instead starts from the initial weights, s_0 = θ_0, and θ̄_t = s_t.

Only the optimizer's parameters are averaged; buffers such as BatchNorm running statistics
are not.

Reference: Polyak & Juditsky, "Acceleration of Stochastic Approximation by Averaging",
1992; the bias correction is Adam's (Kingma & Ba, 2015).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import torch
from torch import Tensor
from torch.optim import Optimizer

from danlu.optim.wrapper import OptimizerWrapper, to_like

__all__ = ["EMA"]


class EMA(OptimizerWrapper):
    """Keep an exponential moving average of the parameters, updated after every step.

    Args:
        optimizer: the inner optimizer.
        decay: β in [0, 1).
        bias_correction: divide by (1 - βᵗ) (average starts at zero) instead of starting
            the average at the initial weights.

    Example:
        >>> model = torch.nn.Linear(3, 1)
        >>> opt = EMA(torch.optim.SGD(model.parameters(), lr=0.1), decay=0.99)
        >>> model(torch.ones(2, 3)).sum().backward(); opt.step()
        >>> with opt.swapped():  # evaluate with the averaged weights
        ...     _ = model(torch.ones(2, 3))
    """

    state_key = "ema"

    def __init__(self, optimizer: Optimizer, decay: float = 0.999, bias_correction: bool = True):
        if not 0.0 <= decay < 1.0:
            raise ValueError(f"Invalid EMA decay: {decay} (must be in [0, 1))")
        super().__init__(optimizer)
        self.decay = decay
        self.bias_correction = bias_correction
        self.num_updates = 0
        self.shadow: dict[Tensor, Tensor] = {}
        self._backup: list[Tensor] | None = None
        self._params_added()

    def extra_repr(self) -> str:
        return f"decay={self.decay}, bias_correction={self.bias_correction}"

    @torch.no_grad()
    def _params_added(self) -> None:
        for p in self.params_in_order():
            if p not in self.shadow:
                self.shadow[p] = torch.zeros_like(p) if self.bias_correction else p.detach().clone()

    def step(self, closure: Callable[[], float] | None = None) -> float | None:  # type: ignore[override]
        """Inner step, then :meth:`update` the average."""
        if self._backup is not None:
            raise RuntimeError("EMA weights are swapped in; call swap_out() before step()")
        loss = self.optimizer.step(closure)  # type: ignore[func-returns-value]
        self.update()
        return loss

    @torch.no_grad()
    def update(self) -> None:
        """s ← β·s + (1 - β)·θ for every parameter."""
        params = self.params_in_order()
        torch._foreach_lerp_([self.shadow[p] for p in params], params, 1.0 - self.decay)
        self.num_updates += 1

    @torch.no_grad()
    def averages(self) -> list[Tensor]:
        """The averaged weights θ̄, as new tensors in parameter order.

        Before the first update this is a copy of the current parameters.
        """
        params = self.params_in_order()
        if self.num_updates == 0:
            return [p.detach().clone() for p in params]
        shadow = [self.shadow[p] for p in params]
        if not self.bias_correction:
            return [s.clone() for s in shadow]
        return torch._foreach_div(shadow, 1.0 - self.decay**self.num_updates)

    @torch.no_grad()
    def swap_in(self) -> None:
        """Copy the averaged weights into the parameters, keeping the live ones aside."""
        if self._backup is not None:
            raise RuntimeError("EMA weights are already swapped in")
        params = self.params_in_order()
        averages = self.averages()
        self._backup = [p.detach().clone() for p in params]
        torch._foreach_copy_(params, averages)

    @torch.no_grad()
    def swap_out(self) -> None:
        """Restore the live weights saved by :meth:`swap_in`."""
        if self._backup is None:
            raise RuntimeError("EMA weights are not swapped in; call swap_in() first")
        torch._foreach_copy_(self.params_in_order(), self._backup)
        self._backup = None

    @contextmanager
    def swapped(self) -> Iterator[None]:
        """``with ema.swapped(): evaluate()``: averaged weights inside, live ones after."""
        self.swap_in()
        try:
            yield
        finally:
            self.swap_out()

    def _own_state_dict(self) -> dict[str, Any]:
        index = {p: i for i, p in enumerate(self.params_in_order())}
        return {
            "decay": self.decay,
            "bias_correction": self.bias_correction,
            "num_updates": self.num_updates,
            "shadow": {index[p]: s.clone() for p, s in self.shadow.items() if p in index},
        }

    def _load_own_state_dict(self, state: dict[str, Any]) -> None:
        params = self.params_in_order()
        self.decay = state["decay"]
        self.bias_correction = state["bias_correction"]
        self.num_updates = state["num_updates"]
        self.shadow = {params[i]: to_like(s, params[i]) for i, s in state["shadow"].items()}
        self._params_added()
