"""Base class for optimizers that wrap another optimizer (Lookahead, Lazy, EMA, accumulation).

A wrapper *is* a ``torch.optim.Optimizer`` (so ``torch.optim.lr_scheduler`` and
``torch.amp.GradScaler`` accept it) but owns no parameter groups of its own:
``param_groups``, ``state`` and ``defaults`` are properties that read and write the inner
optimizer's, so a scheduler changing ``lr`` on the wrapper changes it where the step reads
it. The wrapper's own state lives in ``state_dict()[KEY]`` (``"lookahead"``, ``"lazy"``,
...), with tensors keyed by parameter index like ``torch.optim`` state.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Any, ClassVar

from torch import Tensor
from torch.optim import Optimizer

__all__ = ["OptimizerWrapper", "to_like"]


class OptimizerWrapper(Optimizer):
    """An optimizer that delegates to ``self.optimizer`` and adds behaviour around its step.

    Subclasses set ``state_key`` and implement ``step``; they may override
    :meth:`_own_state_dict`, :meth:`_load_own_state_dict` and :meth:`_params_added`.
    """

    state_key: ClassVar[str] = "wrapper"

    def __init__(self, optimizer: Optimizer) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(
                f"{type(self).__name__} wraps a torch.optim.Optimizer, got "
                f"{type(optimizer).__name__}"
            )
        inner: Optimizer = optimizer
        while isinstance(inner, OptimizerWrapper):
            if type(inner) is type(self):
                raise ValueError(
                    f"{type(self).__name__} is already in this optimizer chain; "
                    f"wrap the optimizer once"
                )
            inner = inner.optimizer
        self.optimizer = optimizer
        # What torch.optim.Optimizer.__init__ sets up, minus param_groups/state, which
        # belong to the inner optimizer.
        self._optimizer_step_pre_hooks: OrderedDict[int, Callable[..., Any]] = OrderedDict()
        self._optimizer_step_post_hooks: OrderedDict[int, Callable[..., Any]] = OrderedDict()
        self._optimizer_state_dict_pre_hooks: OrderedDict[int, Callable[..., Any]] = OrderedDict()
        self._optimizer_state_dict_post_hooks: OrderedDict[int, Callable[..., Any]] = OrderedDict()
        self._optimizer_load_state_dict_pre_hooks: OrderedDict[int, Callable[..., Any]] = (
            OrderedDict()
        )
        self._optimizer_load_state_dict_post_hooks: OrderedDict[int, Callable[..., Any]] = (
            OrderedDict()
        )
        self._patch_step_function()

    # -- shared with the inner optimizer ------------------------------------------------
    @property  # type: ignore[override]
    def param_groups(self) -> list[dict[str, Any]]:
        return self.optimizer.param_groups

    @param_groups.setter
    def param_groups(self, value: list[dict[str, Any]]) -> None:
        self.optimizer.param_groups = value

    @property  # type: ignore[override]
    def state(self) -> Any:
        return self.optimizer.state

    @state.setter
    def state(self, value: Any) -> None:
        self.optimizer.state = value

    @property  # type: ignore[override]
    def defaults(self) -> dict[str, Any]:
        return self.optimizer.defaults

    @defaults.setter
    def defaults(self, value: dict[str, Any]) -> None:
        self.optimizer.defaults = value

    def zero_grad(self, set_to_none: bool = True) -> None:
        self.optimizer.zero_grad(set_to_none=set_to_none)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        self.optimizer.add_param_group(param_group)
        self._params_added()

    # -- own state ----------------------------------------------------------------------
    def params_in_order(self) -> list[Tensor]:
        """All parameters in ``state_dict`` index order (first occurrence wins)."""
        seen: set[int] = set()
        out: list[Tensor] = []
        for group in self.param_groups:
            for p in group["params"]:
                if id(p) not in seen:
                    seen.add(id(p))
                    out.append(p)
        return out

    def _params_added(self) -> None:
        """Called after ``add_param_group``; create state for the new parameters."""

    def _own_state_dict(self) -> dict[str, Any]:
        return {}

    def _load_own_state_dict(self, state: dict[str, Any]) -> None:
        pass

    def state_dict(self) -> dict[str, Any]:
        """The inner optimizer's state dict plus this wrapper's state under ``state_key``."""
        for pre_hook in self._optimizer_state_dict_pre_hooks.values():
            pre_hook(self)
        state_dict = dict(self.optimizer.state_dict())
        state_dict[self.state_key] = self._own_state_dict()
        for post_hook in self._optimizer_state_dict_post_hooks.values():
            result = post_hook(self, state_dict)
            if result is not None:
                state_dict = result
        return state_dict

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load a dict made by :meth:`state_dict` (inner state, then this wrapper's)."""
        state_dict = dict(state_dict)
        for pre_hook in self._optimizer_load_state_dict_pre_hooks.values():
            result = pre_hook(self, state_dict)
            if result is not None:
                state_dict = result
        if self.state_key not in state_dict:
            raise KeyError(
                f"state dict has no {self.state_key!r} entry; it was not saved from a "
                f"{type(self).__name__} (keys: {sorted(state_dict)})"
            )
        own = state_dict.pop(self.state_key)
        self.optimizer.load_state_dict(state_dict)
        self._load_own_state_dict(own)
        for post_hook in self._optimizer_load_state_dict_post_hooks.values():
            post_hook(self)

    # -- pickling and printing ----------------------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        return self.__dict__

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    def __repr__(self) -> str:
        inner = "\n".join("    " + line for line in repr(self.optimizer).splitlines())
        return f"{type(self).__name__}({self.extra_repr()},\n{inner}\n)"

    def extra_repr(self) -> str:
        return ""


def to_like(value: Tensor, param: Tensor) -> Tensor:
    """A copy of ``value`` on ``param``'s device and, for float params, in its dtype."""
    if param.is_floating_point():
        return value.to(device=param.device, dtype=param.dtype, copy=True)
    return value.to(device=param.device, copy=True)
