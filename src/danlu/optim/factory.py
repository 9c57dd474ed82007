"""Optimizers by name, for ``--optimizer`` flags: ``create_optimizer("lookahead_adamw", model)``.

A name is a base optimizer optionally preceded by wrappers, joined with ``_``, outermost
first: ``adam``, ``lazy_adam``, ``lookahead_adamw``, ``lookahead_lazy_adam``.

==========  ====================================================================
base        optimizer
==========  ====================================================================
sgd         :class:`SGD` (pass ``momentum=...``, ``nesterov=...`` as keywords)
momentum    :class:`SGD` with momentum 0.9
nesterov    :class:`SGD` with Nesterov momentum 0.9
adagrad     :class:`AdaGrad`
rmsprop     :class:`RMSProp`
adam        :class:`Adam` (coupled L2 weight decay)
adamw       :class:`AdamW` (decoupled weight decay)
==========  ====================================================================

Wrappers: ``lazy`` (:class:`Lazy`, keyword ``lazy_mode``, default ``"sparse"``) and
``lookahead`` (:class:`Lookahead`, keywords ``lookahead_k``, ``lookahead_alpha``,
``lookahead_pullback``). Every other keyword goes to the base optimizer.

Given an ``nn.Module``, parameters are split into two groups: weight decay applies to
weights, not to biases and normalisation weights (parameters with ndim ≤ 1 and every
parameter of a normalisation layer). ``lazy`` then treats the weights of ``nn.Embedding``
and ``nn.EmbeddingBag`` layers lazily.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from typing import Any

from torch import Tensor, nn
from torch.optim import Optimizer

from danlu import names
from danlu.errors import UsageError
from danlu.optim.adagrad import AdaGrad
from danlu.optim.adam import Adam, AdamW
from danlu.optim.base import BaseOptimizer
from danlu.optim.lazy import Lazy
from danlu.optim.lookahead import Lookahead
from danlu.optim.rmsprop import RMSProp
from danlu.optim.sgd import SGD

__all__ = ["OPTIMIZERS", "WRAPPERS", "create_optimizer", "optimizer_names", "weight_decay_groups"]

# base name -> (class, default keyword arguments); the names come from danlu.names
OPTIMIZERS: dict[str, tuple[type[BaseOptimizer], dict[str, Any]]] = names.implement(
    names.OPTIMIZERS,
    {
        "sgd": (SGD, {}),
        "momentum": (SGD, {"momentum": 0.9}),
        "nesterov": (SGD, {"momentum": 0.9, "nesterov": True}),
        "adagrad": (AdaGrad, {}),
        "rmsprop": (RMSProp, {}),
        "adam": (Adam, {}),
        "adamw": (AdamW, {}),
    },
    "optimizers",
)
# wrapper prefix -> {factory keyword: wrapper argument}
WRAPPERS: dict[str, dict[str, str]] = names.implement(
    names.OPTIMIZER_WRAPPERS,
    {
        "lazy": {"lazy_mode": "mode"},
        "lookahead": {"lookahead_k": "k", "lookahead_alpha": "alpha",
                      "lookahead_pullback": "pullback"},
    },
    "optimizer wrappers",
)  # fmt: skip

NORM_TYPES: tuple[type[nn.Module], ...] = (
    nn.modules.batchnorm._NormBase,
    nn.LayerNorm,
    nn.GroupNorm,
    nn.LocalResponseNorm,
)  # plus any module whose class name contains "Norm" (RMSNorm, custom layers)


def optimizer_names() -> list[str]:
    """Every name :func:`create_optimizer` accepts (:func:`danlu.names.optimizer_names`)."""
    return names.optimizer_names()


def _is_norm(module: nn.Module) -> bool:
    return isinstance(module, NORM_TYPES) or "norm" in type(module).__name__.lower()


def weight_decay_groups(model: nn.Module, weight_decay: float) -> list[dict[str, Any]]:
    """Split trainable parameters into a decayed group and a ``weight_decay=0`` group.

    No decay for biases and normalisation weights: parameters with ndim ≤ 1 and all
    parameters owned by a normalisation layer. Empty groups are dropped.
    """
    decay: list[Tensor] = []
    no_decay: list[Tensor] = []
    seen: set[int] = set()
    for module in model.modules():
        for p in module.parameters(recurse=False):
            if not p.requires_grad or id(p) in seen:
                continue
            seen.add(id(p))
            (no_decay if p.ndim <= 1 or _is_norm(module) else decay).append(p)
    groups = [
        {"params": decay, "weight_decay": weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]
    return [g for g in groups if g["params"]]


def _split_name(name: str) -> tuple[tuple[str, ...], str]:
    if name not in optimizer_names():
        raise UsageError(f"unknown optimizer {name!r}; valid: {', '.join(optimizer_names())}")
    *chain, base = name.split("_")
    return tuple(chain), base


def create_optimizer(
    name: str,
    model_or_params: nn.Module | Iterable[Tensor] | Iterable[dict[str, Any]],
    lr: float,
    weight_decay: float = 0.0,
    **kwargs: Any,
) -> Optimizer:
    """Build an optimizer (with wrappers) by name.

    Args:
        name: one of :func:`optimizer_names`, e.g. ``"lookahead_adamw"``.
        model_or_params: a module (split into decay / no-decay groups) or parameters /
            param-group dicts (used as given, ``weight_decay`` as the default).
        lr: learning rate.
        weight_decay: L2 (``adam``, ``sgd``, ...) or decoupled (``adamw``) weight decay.
        **kwargs: base-optimizer keywords (``betas``, ``momentum``, ``l1``, ...) and wrapper
            keywords ``lazy_mode``, ``lookahead_k``, ``lookahead_alpha``,
            ``lookahead_pullback``.

    Raises:
        UsageError: unknown name or keyword; the message lists the valid ones.

    Example:
        >>> model = nn.Sequential(nn.Linear(4, 8), nn.LayerNorm(8), nn.Linear(8, 2))
        >>> opt = create_optimizer("lookahead_adamw", model, lr=1e-3, weight_decay=0.05)
        >>> [g["weight_decay"] for g in opt.param_groups]
        [0.05, 0.0]
    """
    chain, base = _split_name(name)
    cls, base_defaults = OPTIMIZERS[base]
    wrapper_kwargs: dict[str, dict[str, Any]] = {w: {} for w in chain}
    base_kwargs = dict(base_defaults)
    accepted = set(inspect.signature(cls).parameters) - {"params", "lr", "weight_decay"}
    for key, value in kwargs.items():
        owner = next((w for w in chain if key in WRAPPERS[w]), None)
        if owner is not None:
            wrapper_kwargs[owner][WRAPPERS[owner][key]] = value
        elif key in accepted:
            base_kwargs[key] = value
        else:
            valid = sorted(accepted | {k for w in chain for k in WRAPPERS[w]})
            raise UsageError(
                f"optimizer {name!r} does not take {key!r}; valid keywords: {', '.join(valid)}"
            )

    if isinstance(model_or_params, nn.Module):
        params: Any = weight_decay_groups(model_or_params, weight_decay)
        embeddings = [
            m.weight
            for m in model_or_params.modules()
            if isinstance(m, nn.Embedding | nn.EmbeddingBag) and m.weight.requires_grad
        ]
    else:
        params, embeddings = model_or_params, []
    optimizer: Optimizer = cls(params, lr=lr, weight_decay=weight_decay, **base_kwargs)

    builders: dict[str, Callable[[Optimizer, dict[str, Any]], Optimizer]] = {
        "lazy": lambda opt, kw: Lazy(opt, params=embeddings, **kw),
        "lookahead": lambda opt, kw: Lookahead(opt, **kw),
    }
    for wrapper in reversed(chain):  # innermost first
        optimizer = builders[wrapper](optimizer, wrapper_kwargs[wrapper])
    return optimizer
