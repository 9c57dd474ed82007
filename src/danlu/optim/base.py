"""What every danlu optimizer shares: param groups, lazy state, foreach dispatch, validation.

An optimizer here has three layers, as in ``torch.optim``:

1. a :class:`BaseOptimizer` subclass validates hyperparameters, owns ``param_groups`` and
   per-parameter ``state`` (created on the first step a parameter has a gradient);
2. a functional entry point (``sgd``, ``adam``, ...) receives plain lists of tensors;
3. it dispatches to ``_single_tensor_*`` (a loop that reads like the equations) or
   ``_multi_tensor_*`` (the same maths with ``torch._foreach_*``, the default).

The step counter is a Python ``int`` in ``state["step"]``: it never needs a device, and the
bias corrections built from it are plain floats.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, TypeAlias

import torch
from torch import Tensor
from torch.optim import Optimizer

__all__ = [
    "BaseOptimizer",
    "ParamsT",
    "check_beta",
    "check_nonnegative",
    "check_unit_interval",
    "coupled_penalty",
    "coupled_penalty_foreach",
    "foreach_waves",
    "group_by_step",
]

ParamsT: TypeAlias = Iterable[Tensor] | Iterable[dict[str, Any]]


def check_nonnegative(name: str, value: float) -> None:
    """Raise ``ValueError`` unless ``value >= 0`` (message names the value and the rule)."""
    if not value >= 0.0:  # also rejects NaN
        raise ValueError(f"Invalid {name}: {value} (must be >= 0)")


def check_unit_interval(name: str, value: float) -> None:
    """Raise ``ValueError`` unless ``0 <= value < 1``."""
    if not 0.0 <= value < 1.0:
        raise ValueError(f"Invalid {name}: {value} (must be in [0, 1))")


def check_beta(betas: Sequence[float]) -> None:
    """Validate Adam's ``(beta1, beta2)``: two numbers, each in ``[0, 1)``."""
    if len(betas) != 2:
        raise ValueError(f"Invalid betas: {tuple(betas)} (must be a pair (beta1, beta2))")
    for i, beta in enumerate(betas):
        if not 0.0 <= beta < 1.0:
            raise ValueError(f"Invalid beta parameter at index {i}: {beta} (must be in [0, 1))")


def coupled_penalty(p: Tensor, g: Tensor, weight_decay: float, l1: float) -> Tensor:
    """``g + weight_decay·p + l1·sign(p)``: L2 and L1 penalties folded into the gradient.

    Returns a new tensor when a penalty is on; ``p.grad`` itself is never modified.
    """
    if weight_decay != 0.0:
        g = g.add(p, alpha=weight_decay)
    if l1 != 0.0:
        g = g.add(p.sign(), alpha=l1)
    return g


def coupled_penalty_foreach(
    params: list[Tensor], grads: list[Tensor], weight_decay: float, l1: float
) -> list[Tensor]:
    """:func:`coupled_penalty` over lists with ``torch._foreach_*`` (new tensors, grads kept)."""
    if weight_decay != 0.0:
        grads = torch._foreach_add(grads, params, alpha=weight_decay)
    if l1 != 0.0:
        signs = torch._foreach_sign(params)
        if weight_decay != 0.0:  # grads is already our own copy: add in place
            torch._foreach_add_(grads, signs, alpha=l1)
        else:
            grads = torch._foreach_add(grads, signs, alpha=l1)
    return grads


# Elements per wave in foreach_waves (512 KiB of float32 per temporary).
WAVE_SIZE = 1 << 17


def foreach_waves(
    *tensor_lists: list[Tensor], size: int = WAVE_SIZE
) -> Iterator[tuple[list[Tensor], ...]]:
    """Cut parallel lists of same-shaped tensors into waves of flat views, ≤ ``size`` elements.

    Used on CPU for the part of an update that needs temporaries (Adam's denominator
    √v + ε): a full-size temporary is a fresh multi-megabyte allocation every step, whose
    page faults can cost more than the arithmetic; per wave it is small, reused by the
    allocator and still in cache for the next op. On other devices (where foreach kernels
    are fused and allocation is cached) or with non-contiguous tensors, the lists are
    yielded whole, as one wave.
    """
    first = tensor_lists[0]
    if not first:
        return
    if first[0].device.type != "cpu" or not all(
        t.is_contiguous() for ts in tensor_lists for t in ts
    ):
        yield tensor_lists
        return
    pieces = [[piece for t in ts for piece in t.view(-1).split(size)] for ts in tensor_lists]
    start, n = 0, len(pieces[0])
    while start < n:
        stop, used = start, 0
        while stop < n and (stop == start or used + pieces[0][stop].numel() <= size):
            used += pieces[0][stop].numel()
            stop += 1
        yield tuple(p[start:stop] for p in pieces)
        start = stop


def group_by_step(steps: list[int]) -> list[tuple[int, list[int]]]:
    """``[(t, indices with step t), ...]``; one entry in the usual case of equal steps."""
    if all(t == steps[0] for t in steps):
        return [(steps[0], list(range(len(steps))))]
    groups: dict[int, list[int]] = {}
    for i, t in enumerate(steps):
        groups.setdefault(t, []).append(i)
    return list(groups.items())


class BaseOptimizer(Optimizer):
    """A ``torch.optim.Optimizer`` whose subclasses only say how to start and apply a step.

    Subclasses implement :meth:`_init_state` (the per-parameter state before the first step)
    and :meth:`_update` (increment the step counters and call the functional update on
    lists of tensors). ``step()`` collects the parameters that have a gradient, creates
    missing state, and calls ``_update`` once per (device, dtype) bucket on the foreach
    path, or once on the single-tensor path. The :class:`~danlu.optim.Lazy` wrapper calls
    :meth:`_step_params` directly with gathered rows.
    """

    def _init_state(self, p: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def _update(
        self,
        group: dict[str, Any],
        params: list[Tensor],
        grads: list[Tensor],
        states: list[dict[str, Any]],
        foreach: bool,
    ) -> None:
        raise NotImplementedError

    @torch.no_grad()
    def step(self, closure: Callable[[], float] | None = None) -> float | None:  # type: ignore[override]
        """Take one optimization step for every parameter that has a gradient.

        Args:
            closure: optional; re-evaluates the model and returns the loss.

        Returns:
            The closure's loss, or ``None``.
        """
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            if params:
                self._step_params(group, params, [p.grad for p in params])
        return loss

    def _step_params(
        self,
        group: dict[str, Any],
        params: list[Tensor],
        grads: list[Tensor],
        states: list[dict[str, Any]] | None = None,
    ) -> None:
        """Update ``params`` (all from ``group``) with ``grads``; state is created if missing.

        ``states`` overrides ``self.state[p]`` (Lazy passes row-gathered copies).
        """
        for g in grads:
            if g.is_sparse:
                raise RuntimeError(
                    f"{type(self).__name__} does not support sparse gradients; wrap it as "
                    f"Lazy({type(self).__name__}(...), mode='sparse')"
                )
        if states is None:
            states = [self.state[p] for p in params]
        for p, state in zip(params, states, strict=True):
            if not state:
                state.update(self._init_state(p, group))
        foreach = group["foreach"] if group["foreach"] is not None else True
        if not foreach:
            self._update(group, params, grads, states, foreach=False)
            return
        # _foreach_* fast paths need one device and dtype per list.
        buckets: dict[tuple[torch.device, torch.dtype], list[int]] = {}
        for i, p in enumerate(params):
            buckets.setdefault((p.device, p.dtype), []).append(i)
        if len(buckets) == 1:
            self._update(group, params, grads, states, foreach=True)
            return
        for idx in buckets.values():
            self._update(
                group,
                [params[i] for i in idx],
                [grads[i] for i in idx],
                [states[i] for i in idx],
                foreach=True,
            )
