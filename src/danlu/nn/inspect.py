"""Inspection hooks: per-layer activation statistics and gradient norms during training.

Deep networks fail quietly: sigmoid and tanh units saturate (their derivative ≈ 0), ReLU
units die (zero for every input), and gradients shrink or grow geometrically with depth
(vanishing/exploding gradients). An :class:`Inspector` attaches forward hooks to the
activation layers and gradient hooks to the weight matrices of a model and records, at
every ``every``-th training step:

- per activation layer: mean and standard deviation of its output; for sigmoid/tanh the
  *saturated fraction* (outputs within ``margin`` of the asymptotes, e.g. σ > 0.99); for
  ReLU the *dead fraction* (units, i.e. positions other than the batch dimension, that are
  zero for every example of the batch);
- per weight matrix ("layer"): the norm ‖∂L/∂W‖ of its gradient in that backward pass.

Statistics stay on the device until read, so recording adds no host synchronization to
the training loop. Only training-mode forward passes count as steps.

Example:
    >>> model = nn.Sequential(nn.Linear(4, 8), nn.Sigmoid(), nn.Linear(8, 1))
    >>> with Inspector(model) as inspector:
    ...     model(torch.randn(16, 4)).pow(2).mean().backward()
    >>> sorted(inspector.grad_norms())
    ['0.weight', '2.weight']
    >>> print(inspector.summary())  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn
from torch.utils.hooks import RemovableHandle

__all__ = ["ACTIVATION_TYPES", "ActivationRecord", "GradientRecord", "Inspector"]

# Layers hooked by default; their type decides which extra statistic is meaningful.
ACTIVATION_TYPES: tuple[type[nn.Module], ...] = (
    nn.Sigmoid, nn.Tanh, nn.ReLU, nn.LeakyReLU, nn.PReLU, nn.RReLU, nn.GELU, nn.ELU, nn.SiLU,
)  # fmt: skip


@dataclass(frozen=True)
class ActivationRecord:
    """Statistics of one layer's output at one training step."""

    step: int
    layer: str
    kind: str  # the module's class name, e.g. "Sigmoid"
    mean: float
    std: float
    saturated_fraction: float | None  # sigmoid and tanh only
    dead_fraction: float | None  # ReLU only


@dataclass(frozen=True)
class GradientRecord:
    """The gradient norm of one weight matrix at one training step."""

    step: int
    layer: str  # the parameter's name, e.g. "encoder.0.weight"
    norm: float


class Inspector:
    """Record activation statistics and gradient norms of ``model`` while it trains.

    Args:
        model: the model to inspect; a training-mode forward of it is one step.
        layers: names of submodules (as in ``model.named_modules()``) to record; default:
            every activation layer (types in :data:`ACTIVATION_TYPES`).
        every: record every ``every``-th step (step 0 is always recorded), ≥ 1.
        margin: an output counts as saturated when σ < margin or σ > 1 - margin
            (tanh: |tanh| > 1 - margin), in (0, 0.5).
        start_step: the number of training steps already taken (when resuming a run).

    Use as a context manager, or call :meth:`attach` and :meth:`detach`. Records accumulate
    until :meth:`clear`; on long runs record every few steps (``every=50``) or clear after
    logging a :meth:`summary`.
    """

    def __init__(
        self,
        model: nn.Module,
        *,
        layers: Iterable[str] | None = None,
        every: int = 1,
        margin: float = 0.01,
        start_step: int = 0,
    ) -> None:
        if not (isinstance(every, int) and every >= 1):
            raise ValueError(f"every must be an int >= 1, got {every!r}; 1 records every step")
        if not 0.0 < margin < 0.5:
            raise ValueError(f"margin must be in (0, 0.5), got {margin}; e.g. 0.01")
        modules = dict(model.named_modules())
        if layers is None:
            names = [n for n, m in modules.items() if isinstance(m, ACTIVATION_TYPES)]
        else:
            names = list(layers)
            unknown = [n for n in names if n not in modules]
            if unknown:
                raise ValueError(
                    f"unknown layer names {unknown}; valid: {', '.join(n for n in modules if n)}"
                )
        self.model, self.every, self.margin = model, every, margin
        self._layers = {name: modules[name] for name in names}
        self._param_order = {name: i for i, (name, _) in enumerate(model.named_parameters())}
        self._handles: list[RemovableHandle] = []
        self._steps_seen = start_step  # training forwards so far (a resumed run starts later)
        self._step = -1  # the current step
        self._pending_acts: list[tuple[int, str, str, Tensor]] = []  # stats stay on device
        self._pending_grads: list[tuple[int, str, Tensor]] = []
        self._activations: list[ActivationRecord] = []
        self._gradients: list[GradientRecord] = []

    # -- hooks -------------------------------------------------------------------------------
    def _recording(self) -> bool:
        return self._step >= 0 and self._step % self.every == 0

    def _on_model_forward(self, module: nn.Module, args: Any) -> None:
        if module.training:
            self._step = self._steps_seen
            self._steps_seen += 1

    def _activation_stats(self, kind: str, y: Tensor) -> Tensor:
        """(4,) tensor: mean, std, saturated fraction, dead fraction (NaN when undefined)."""
        y = y.detach().float()
        nan = torch.full((), float("nan"), device=y.device)
        saturated = dead = nan
        if kind == "Sigmoid":
            saturated = ((y < self.margin) | (y > 1 - self.margin)).float().mean()
        elif kind == "Tanh":
            saturated = (y.abs() > 1 - self.margin).float().mean()
        elif kind == "ReLU" and y.dim() >= 2:
            dead = (y == 0).all(dim=0).float().mean()  # units silent on the whole batch
        std = y.std() if y.numel() > 1 else nan
        return torch.stack([y.mean(), std, saturated, dead])

    def _forward_hook(self, name: str) -> Any:
        def hook(module: nn.Module, args: Any, output: Any) -> None:
            if self.model.training and self._recording() and isinstance(output, Tensor):
                kind = type(module).__name__
                stats = self._activation_stats(kind, output)
                self._pending_acts.append((self._step, name, kind, stats))

        return hook

    def _grad_hook(self, name: str) -> Any:
        def hook(grad: Tensor) -> None:
            if self._recording():
                norm = torch.linalg.vector_norm(grad.detach().float())
                self._pending_grads.append((self._step, name, norm))

        return hook

    # -- lifecycle ---------------------------------------------------------------------------
    def attach(self) -> Inspector:
        """Register the hooks; returns ``self``."""
        if self._handles:
            return self
        self._handles.append(self.model.register_forward_pre_hook(self._on_model_forward))
        for name, module in self._layers.items():
            self._handles.append(module.register_forward_hook(self._forward_hook(name)))
        for name, param in self.model.named_parameters():
            if param.requires_grad and param.dim() >= 2:  # weight matrices, not biases
                self._handles.append(param.register_hook(self._grad_hook(name)))
        return self

    def detach(self) -> None:
        """Remove every hook; the records stay readable."""
        for handle in self._handles:
            handle.remove()
        self._handles.clear()

    def __enter__(self) -> Inspector:
        return self.attach()

    def __exit__(self, *exc: object) -> None:
        self.detach()

    def clear(self) -> None:
        """Forget all records (hooks stay attached)."""
        self._pending_acts.clear()
        self._pending_grads.clear()
        self._activations.clear()
        self._gradients.clear()

    # -- reading -----------------------------------------------------------------------------
    def _flush(self) -> None:
        """Move pending on-device statistics to Python records (one sync per read)."""
        if self._pending_acts:
            values = torch.stack([s.cpu() for *_, s in self._pending_acts]).tolist()
            for (step, name, kind, _), (mean, std, sat, dead) in zip(
                self._pending_acts, values, strict=True
            ):
                self._activations.append(
                    ActivationRecord(step, name, kind, mean, std, _opt(sat), _opt(dead))
                )
            self._pending_acts.clear()
        if self._pending_grads:
            norms = torch.stack([n.cpu() for *_, n in self._pending_grads]).tolist()
            for (step, name, _), norm in zip(self._pending_grads, norms, strict=True):
                self._gradients.append(GradientRecord(step, name, norm))
            self._pending_grads.clear()

    def activations(self) -> list[ActivationRecord]:
        """All activation records, in the order recorded."""
        self._flush()
        return list(self._activations)

    def gradients(self) -> list[GradientRecord]:
        """All gradient records, in the order recorded."""
        self._flush()
        return list(self._gradients)

    def activation_stats(self, step: int | None = None) -> dict[str, ActivationRecord]:
        """Activation records of one step (default: the last recorded) by layer name."""
        records = self.activations()
        step = max((r.step for r in records), default=-1) if step is None else step
        return {r.layer: r for r in records if r.step == step}

    def grad_norms(self, step: int | None = None) -> dict[str, float]:
        """Gradient norm of each weight matrix at one step (default: the last recorded).

        A weight used several times in one forward pass (shared or recurrent weights) gets
        the norm of its total gradient; with several backward passes in one step (gradient
        accumulation) the per-pass norms are combined as sqrt(Σ‖g_k‖²).
        """
        records = self.gradients()
        step = max((r.step for r in records), default=-1) if step is None else step
        squares: dict[str, float] = {}
        for r in records:
            if r.step == step:
                squares[r.layer] = squares.get(r.layer, 0.0) + r.norm**2
        ordered = sorted(squares, key=self._param_order.__getitem__)  # input to output
        return {name: squares[name] ** 0.5 for name in ordered}

    def summary(self, step: int | None = None) -> str:
        """A plain-text table of one step's records, in layer order, for logs and ``--inspect``."""
        acts, grads = self.activation_stats(step), self.grad_norms(step)
        lines = [f"{'layer':<24} {'kind':<10} {'mean':>9} {'std':>9} {'sat':>6} {'dead':>6}"]
        for r in acts.values():
            sat = "-" if r.saturated_fraction is None else f"{r.saturated_fraction:.2f}"
            dead = "-" if r.dead_fraction is None else f"{r.dead_fraction:.2f}"
            lines.append(
                f"{r.layer:<24} {r.kind:<10} {r.mean:>9.3g} {r.std:>9.3g} {sat:>6} {dead:>6}"
            )
        lines.append(f"{'weight':<24} {'‖grad‖':>10}")
        lines += [f"{name:<24} {norm:>10.3g}" for name, norm in grads.items()]
        return "\n".join(lines)


def _opt(value: float) -> float | None:
    return None if value != value else value  # NaN marks "not defined for this layer"
