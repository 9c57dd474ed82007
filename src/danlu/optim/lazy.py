"""Lazy: only the rows of an embedding table that received a gradient move.

In a batch, an embedding table of V rows is touched at a few token ids; a dense optimizer
still moves every row (momentum keeps pushing rows whose token was not seen, and weight
decay shrinks them). Two remedies, for a row r of a lazy parameter θ with gradient g:

``mode="su"`` (Su Jianlin's LazyOptimizer): the inner optimizer runs as usual on the dense
gradient, so the moments of untouched rows keep decaying with g_r = 0, but the parameter
step is masked::

    θ_r ← inner_step(θ)_r   if g_r ≠ 0   else   θ_r

``mode="sparse"`` (LazyAdam, ``torch.optim.SparseAdam``): the inner update runs on the
touched rows only, gathered into small tensors; moments of untouched rows are not updated
either, and sparse gradients (``nn.Embedding(sparse=True)``) are never densified::

    R = {r : g_r ≠ 0};   (θ_R, m_R, v_R) ← inner_update(θ_R, g_R, m_R, v_R)

Bias corrections use the parameter's global step count in both modes.

References: Su Jianlin, "Keras实现两个优化器：Lookahead和LazyOptimizer"
(kexue.fm/archives/6869); ``tf.contrib.opt.LazyAdamOptimizer``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch import Tensor
from torch.optim import Optimizer

from danlu.optim.base import BaseOptimizer
from danlu.optim.wrapper import OptimizerWrapper

__all__ = ["Lazy", "touched_rows"]

MODES = ("su", "sparse")


def touched_rows(grad: Tensor) -> tuple[Tensor, Tensor]:
    """Row indices with a nonzero gradient and those rows of the gradient.

    Args:
        grad: dense ``(V, *D)`` or sparse COO with one sparse dimension (as produced by
            ``nn.Embedding(sparse=True)``); duplicate sparse indices are summed.

    Returns:
        ``rows`` of shape ``(n,)`` (int64, sorted) and ``values`` of shape ``(n, *D)``.
    """
    if grad.is_sparse:
        if grad.sparse_dim() == 1:
            grad = grad.coalesce()
            return grad.indices()[0], grad.values()
        grad = grad.to_dense()
    if grad.dim() == 0:
        grad = grad.reshape(1)
    flat = grad.reshape(grad.shape[0], -1)
    rows = flat.ne(0).any(dim=1).nonzero().squeeze(1)
    return rows, grad.index_select(0, rows)


class Lazy(OptimizerWrapper):
    """Move only the touched rows of embedding-like parameters; see the module docstring.

    Args:
        optimizer: the inner optimizer. ``mode="sparse"`` needs a danlu optimizer
            (``SGD``, ``AdaGrad``, ``RMSProp``, ``Adam``, ``AdamW``) directly inside, whose
            update it runs on gathered rows; ``mode="su"`` accepts any optimizer.
        mode: ``"su"`` or ``"sparse"``.
        params: the embedding-like parameters to treat lazily with dense gradients (rows
            = first dimension). Parameters whose gradient is sparse are always lazy. Other
            parameters get the inner optimizer's ordinary dense step.

    Example:
        >>> emb = torch.nn.Embedding(1000, 16, sparse=True)
        >>> from danlu.optim import Adam
        >>> opt = Lazy(Adam(emb.parameters(), lr=1e-2), mode="sparse")
        >>> emb(torch.tensor([3, 7])).sum().backward(); opt.step()  # rows 3 and 7 move
    """

    state_key = "lazy"

    def __init__(
        self, optimizer: Optimizer, mode: str = "sparse", params: Iterable[Tensor] | None = None
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"Invalid Lazy mode: {mode!r} (valid: {', '.join(MODES)})")
        if mode == "sparse" and not isinstance(optimizer, BaseOptimizer):
            raise TypeError(
                f"Lazy(mode='sparse') runs the inner update on gathered rows, so it needs a "
                f"danlu optimizer (SGD, AdaGrad, RMSProp, Adam, AdamW) directly inside, got "
                f"{type(optimizer).__name__}; compose wrappers as Lookahead(Lazy(Adam(...)))"
            )
        super().__init__(optimizer)
        self.mode = mode
        self.lazy_params: set[Tensor] = set(params) if params is not None else set()

    def extra_repr(self) -> str:
        return f"mode={self.mode!r}, lazy_params={len(self.lazy_params)}"

    def _is_lazy(self, p: Tensor) -> bool:
        return p.grad is not None and (p.grad.is_sparse or p in self.lazy_params)

    @torch.no_grad()
    def step(self, closure: Callable[[], float] | None = None) -> float | None:  # type: ignore[override]
        """One step: dense parameters as usual, lazy ones on their touched rows only."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        if self.mode == "su":
            self._step_su()
        else:
            self._step_sparse()
        return loss

    def _step_sparse(self) -> None:
        inner: BaseOptimizer = self.optimizer  # type: ignore[assignment]
        for group in self.param_groups:
            dense = [p for p in group["params"] if p.grad is not None and not self._is_lazy(p)]
            if dense:
                inner._step_params(group, dense, [p.grad for p in dense])
            for p in group["params"]:
                if self._is_lazy(p):
                    self._step_rows(inner, group, p)

    def _step_rows(self, inner: BaseOptimizer, group: dict[str, Any], p: Tensor) -> None:
        rows, values = touched_rows(p.grad)  # (n,), (n, *D)
        state = inner.state[p]
        if not state:
            state.update(inner._init_state(p, group))
        # Row-shaped state (moments) is gathered; scalars (the step count) pass through.
        is_rows = {k: isinstance(v, Tensor) and v.shape == p.shape for k, v in state.items()}
        sub = {k: v.index_select(0, rows) if is_rows[k] else v for k, v in state.items()}
        p_rows = p.index_select(0, rows)
        inner._step_params(group, [p_rows], [values], [sub])
        p.index_copy_(0, rows, p_rows)
        for k, v in sub.items():
            if is_rows.get(k, False):
                state[k].index_copy_(0, rows, v)
            elif isinstance(v, Tensor) and v.shape == p_rows.shape:
                # Created during this step (SGD's momentum buffer): untouched rows start at 0.
                full = torch.zeros_like(p)
                full.index_copy_(0, rows, v)
                state[k] = full
            else:
                state[k] = v

    def _step_su(self) -> None:
        lazy = [p for group in self.param_groups for p in group["params"] if self._is_lazy(p)]
        saved_grads = [p.grad for p in lazy]
        masks, before = [], []
        for p in lazy:
            g = p.grad.to_dense() if p.grad.is_sparse else p.grad  # type: ignore[union-attr]
            p.grad = g  # the inner optimizer sees a dense gradient; moments decay with g = 0
            touched = g.reshape(g.shape[0], -1).ne(0).any(dim=1)  # (V,)
            masks.append(touched.view(-1, *([1] * (p.dim() - 1))))
            before.append(p.detach().clone())
        try:
            self.optimizer.step()
        finally:
            for p, g in zip(lazy, saved_grads, strict=True):
                p.grad = g
        for p, mask, old in zip(lazy, masks, before, strict=True):
            p.copy_(torch.where(mask, p, old))  # untouched rows keep their old value

    def _own_state_dict(self) -> dict[str, Any]:
        return {"mode": self.mode}

    def _load_own_state_dict(self, state: dict[str, Any]) -> None:
        if state["mode"] != self.mode:
            raise ValueError(
                f"state dict was saved from Lazy(mode={state['mode']!r}); this optimizer "
                f"has mode={self.mode!r}; build it with the same mode to resume"
            )
