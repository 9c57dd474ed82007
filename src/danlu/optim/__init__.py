"""danlu.optim: optimizers, optimizer wrappers and learning-rate schedules.

Optimizers (``torch.optim.Optimizer`` subclasses, foreach fast path by default):
:class:`SGD`, :class:`AdaGrad`, :class:`RMSProp`, :class:`Adam`, :class:`AdamW`.
Wrappers (take an optimizer, are one): :class:`Lookahead`, :class:`Lazy`, :class:`EMA`,
:class:`GradientAccumulation`; they compose, e.g. ``Lookahead(Lazy(Adam(params)))``.
Schedules are pure functions step -> multiplier, composed with :func:`join` and applied
with :func:`as_lr_scheduler`. By name: :func:`create_optimizer`, :func:`create_schedule`.

Example:
    >>> import torch
    >>> from danlu.optim import Adam, Lookahead, as_lr_scheduler, create_schedule
    >>> model = torch.nn.Linear(4, 2)
    >>> opt = Lookahead(Adam(model.parameters(), lr=1e-3), k=5, alpha=0.5)
    >>> sched = as_lr_scheduler(opt, create_schedule("cosine", total_steps=100, warmup=10))
"""

from danlu.optim.accumulation import GradientAccumulation
from danlu.optim.adagrad import AdaGrad, adagrad
from danlu.optim.adam import Adam, AdamW, adam
from danlu.optim.base import BaseOptimizer
from danlu.optim.ema import EMA
from danlu.optim.factory import create_optimizer, optimizer_names, weight_decay_groups
from danlu.optim.lazy import Lazy, touched_rows
from danlu.optim.lookahead import Lookahead
from danlu.optim.plot import plot_schedule
from danlu.optim.rmsprop import RMSProp, rmsprop
from danlu.optim.schedule_factory import create_schedule, schedule_names
from danlu.optim.schedules import (
    Schedule,
    as_lr_scheduler,
    constant,
    cosine,
    cosine_restarts,
    exponential_decay,
    join,
    linear_decay,
    linear_warmup,
    noam,
    piecewise_linear,
    step_decay,
)
from danlu.optim.sgd import SGD, sgd
from danlu.optim.wrapper import OptimizerWrapper

__all__ = [
    "EMA",
    "SGD",
    "AdaGrad",
    "Adam",
    "AdamW",
    "BaseOptimizer",
    "GradientAccumulation",
    "Lazy",
    "Lookahead",
    "OptimizerWrapper",
    "RMSProp",
    "Schedule",
    "adagrad",
    "adam",
    "as_lr_scheduler",
    "constant",
    "cosine",
    "cosine_restarts",
    "create_optimizer",
    "create_schedule",
    "exponential_decay",
    "join",
    "linear_decay",
    "linear_warmup",
    "noam",
    "optimizer_names",
    "piecewise_linear",
    "plot_schedule",
    "rmsprop",
    "schedule_names",
    "sgd",
    "step_decay",
    "touched_rows",
    "weight_decay_groups",
]
