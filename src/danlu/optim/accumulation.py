"""Gradient accumulation: one optimizer update per ``steps`` micro-batches.

With micro-batch losses L_1..L_n (each a mean over its micro-batch) and ``average=True``:

    g = (1/n)·Σᵢ ∇L_i          then one inner step with g

which equals a single step on the concatenated batch when the micro-batches have equal
size. The training loop stays the plain one (backward, step, zero_grad every micro-batch):
``step()`` only counts until the n-th call, and ``zero_grad()`` does nothing in between.

Reference: optax ``MultiSteps``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch.optim import Optimizer

from danlu.optim.wrapper import OptimizerWrapper

__all__ = ["GradientAccumulation"]


class GradientAccumulation(OptimizerWrapper):
    """Accumulate gradients over ``steps`` calls to :meth:`step`, then step the inner optimizer.

    Args:
        optimizer: the inner optimizer.
        steps: micro-batches per update, ≥ 1.
        average: divide the summed gradients by ``steps`` before the update.

    After each call, :attr:`stepped` says whether an update was applied: advance a
    learning-rate scheduler only then. Use ``GradScaler`` only on the calls that update
    (it unscales the gradients it sees on every call).

    Example:
        >>> model = torch.nn.Linear(3, 1)
        >>> opt = GradientAccumulation(torch.optim.SGD(model.parameters(), lr=0.1), steps=4)
        >>> for _ in range(4):
        ...     model(torch.ones(2, 3)).pow(2).mean().backward()
        ...     opt.step(); opt.zero_grad()
        >>> opt.stepped
        True
    """

    state_key = "accumulation"

    def __init__(self, optimizer: Optimizer, steps: int, average: bool = True) -> None:
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
            raise ValueError(f"Invalid accumulation steps: {steps} (must be an integer >= 1)")
        super().__init__(optimizer)
        self.steps = steps
        self.average = average
        self.micro_step = 0  # micro-batches accumulated since the last update
        self.stepped = False

    def extra_repr(self) -> str:
        return f"steps={self.steps}, average={self.average}"

    def step(self, closure: Callable[[], float] | None = None) -> float | None:  # type: ignore[override]
        """Count one micro-batch; on the ``steps``-th, average the gradients and update."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        self.micro_step += 1
        self.stepped = self.micro_step == self.steps
        if not self.stepped:
            return loss
        self.micro_step = 0
        if self.average and self.steps > 1:
            grads = [p.grad for g in self.param_groups for p in g["params"] if p.grad is not None]
            with torch.no_grad():
                dense = [g for g in grads if not g.is_sparse]
                if dense:
                    torch._foreach_div_(dense, self.steps)
                for g in grads:
                    if g.is_sparse:
                        g.div_(self.steps)
        self.optimizer.step()
        return loss

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear gradients only at an update boundary (before the first micro-batch)."""
        if self.micro_step == 0:
            self.optimizer.zero_grad(set_to_none=set_to_none)

    def _own_state_dict(self) -> dict[str, Any]:
        return {"steps": self.steps, "average": self.average, "micro_step": self.micro_step}

    def _load_own_state_dict(self, state: dict[str, Any]) -> None:
        self.steps = state["steps"]
        self.average = state["average"]
        self.micro_step = state["micro_step"]
