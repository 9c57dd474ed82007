"""Learning-rate schedules: pure functions from the step t (0, 1, 2, ...) to a multiplier.

Each factory below returns a ``Schedule = Callable[[int], float]``; the learning rate at
step t is ``base_lr * schedule(t)``. Schedules compose with :func:`join` and reach a
``torch.optim`` optimizer through one adapter, :func:`as_lr_scheduler` (a ``LambdaLR``, so
``scheduler.state_dict()`` resumes the standard way: rebuild the schedule, load the dict).

==================  ============================================================
constant            c
step_decay          γ^⌊t / step_size⌋                        (StepLR)
exponential_decay   γ^t                                      (ExponentialLR)
linear_warmup       start + (1 - start)·min(t, w)/w
linear_decay        1 - (1 - m)·min(t, T)/T
cosine              m + (1 - m)·(1 + cos(π·min(t, T)/T))/2   (CosineAnnealingLR)
cosine_restarts     cosine over cycles of T_0, T_0·T_mult, T_0·T_mult², ...
                    (CosineAnnealingWarmRestarts); maxima 1 at each restart
noam                d^-0.5 · min(t^-0.5, t·w^-1.5), t ≥ 1; peak at t = w
piecewise_linear    linear between (step, value) knots, flat outside
join                schedule i runs on t - boundaries[i-1] from boundaries[i-1] on
==================  ============================================================

Example:
    >>> warm_cos = join([linear_warmup(100), cosine(900)], boundaries=[100])
    >>> warm_cos(0), warm_cos(100), round(warm_cos(550), 3), warm_cos(1000)
    (0.0, 1.0, 0.5, 0.0)
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Callable, Mapping, Sequence

from torch.optim import Optimizer
from torch.optim.lr_scheduler import LambdaLR

__all__ = [
    "Schedule",
    "as_lr_scheduler",
    "constant",
    "cosine",
    "cosine_restarts",
    "exponential_decay",
    "join",
    "linear_decay",
    "linear_warmup",
    "noam",
    "piecewise_linear",
    "step_decay",
]

Schedule = Callable[[int], float]


def _positive_int(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"Invalid {name}: {value!r} (must be an integer >= 1)")


def constant(value: float = 1.0) -> Schedule:
    """The multiplier ``value`` at every step."""
    return lambda step: value


def step_decay(step_size: int, gamma: float = 0.1) -> Schedule:
    """γ^⌊t / step_size⌋: multiply by γ every ``step_size`` steps (``StepLR``)."""
    _positive_int("step_size", step_size)
    return lambda step: gamma ** (step // step_size)


def exponential_decay(gamma: float) -> Schedule:
    """γ^t: multiply by γ every step (``ExponentialLR``)."""
    if not gamma > 0:
        raise ValueError(f"Invalid gamma: {gamma} (must be > 0)")
    return lambda step: gamma**step


def linear_warmup(warmup: int, start: float = 0.0) -> Schedule:
    """Rise linearly from ``start`` at t = 0 to 1 at t = ``warmup``, then stay at 1."""
    _positive_int("warmup", warmup)
    return lambda step: start + (1.0 - start) * min(step, warmup) / warmup


def linear_decay(total_steps: int, min_value: float = 0.0) -> Schedule:
    """Fall linearly from 1 at t = 0 to ``min_value`` at t = ``total_steps``, then stay."""
    _positive_int("total_steps", total_steps)
    return lambda step: 1.0 - (1.0 - min_value) * min(step, total_steps) / total_steps


def cosine(total_steps: int, min_value: float = 0.0) -> Schedule:
    """Half a cosine from 1 at t = 0 to ``min_value`` at t = ``total_steps``, then flat.

    ``CosineAnnealingLR(T_max=total_steps, eta_min=min_value·base_lr)`` in closed form.
    """
    _positive_int("total_steps", total_steps)

    def schedule(step: int) -> float:
        progress = min(step, total_steps) / total_steps
        return min_value + (1.0 - min_value) * (1.0 + math.cos(math.pi * progress)) / 2.0

    return schedule


def cosine_restarts(T_0: int, T_mult: int = 1, min_value: float = 0.0) -> Schedule:
    """Cosine annealing with warm restarts (SGDR), as ``CosineAnnealingWarmRestarts``.

    Cycle i lasts T_i = T_0·T_multⁱ steps; inside it, with T_cur steps since its start,

        η_t / η = m + (1 - m)·(1 + cos(π·T_cur / T_i)) / 2

    so the multiplier is 1 at the restarts t = 0, T_0, T_0(1 + T_mult), ... and falls
    toward ``min_value`` m just before each.

    Reference: Loshchilov & Hutter, "SGDR: Stochastic Gradient Descent with Warm
    Restarts", ICLR 2017.
    """
    _positive_int("T_0", T_0)
    _positive_int("T_mult", T_mult)

    def schedule(step: int) -> float:
        if T_mult == 1:
            t_cur, t_i = step % T_0, T_0
        else:  # walk the cycles (log many): exact integers, no floating-point log
            t_cur, t_i = step, T_0
            while t_cur >= t_i:
                t_cur -= t_i
                t_i *= T_mult
        return min_value + (1.0 - min_value) * (1.0 + math.cos(math.pi * t_cur / t_i)) / 2.0

    return schedule


def noam(d_model: int, warmup: int) -> Schedule:
    """The Transformer schedule: d_model^-0.5 · min(t^-0.5, t·warmup^-1.5), with t ≥ 1.

    Linear rise for ``warmup`` steps, then decay as 1/√t; step 0 is treated as step 1.
    Use it with a base learning rate of about 1 (the paper's factor).

    Reference: Vaswani et al., "Attention Is All You Need", NeurIPS 2017, eq. (3).
    """
    _positive_int("d_model", d_model)
    _positive_int("warmup", warmup)

    def schedule(step: int) -> float:
        step = max(step, 1)
        return d_model**-0.5 * min(step**-0.5, step * warmup**-1.5)

    return schedule


def piecewise_linear(points: Mapping[int, float]) -> Schedule:
    """Interpolate linearly between knots ``{step: value}``; hold the end values outside.

    ``piecewise_linear({0: 0.0, 1000: 1.0, 2000: 0.1})`` warms up over 1000 steps, then
    decays to 0.1 at step 2000 and stays there.
    """
    if not points:
        raise ValueError("Invalid piecewise_linear points: {} (need at least one knot)")
    knots = sorted((int(s), float(v)) for s, v in points.items())
    steps = [s for s, _ in knots]
    values = [v for _, v in knots]

    def schedule(step: int) -> float:
        i = bisect.bisect_right(steps, step)
        if i == 0:
            return values[0]
        if i == len(steps):
            return values[-1]
        s0, s1, v0, v1 = steps[i - 1], steps[i], values[i - 1], values[i]
        return v0 + (v1 - v0) * (step - s0) / (s1 - s0)

    return schedule


def join(schedules: Sequence[Schedule], boundaries: Sequence[int]) -> Schedule:
    """Run ``schedules[i]`` from ``boundaries[i-1]`` on, restarting its step count at 0.

    Args:
        schedules: n schedules.
        boundaries: n - 1 strictly increasing steps where the next schedule takes over.

    Example:
        >>> s = join([linear_warmup(10), cosine(90)], [10])
        >>> s(5), s(10)
        (0.5, 1.0)
    """
    if len(boundaries) != len(schedules) - 1:
        raise ValueError(
            f"Invalid join: {len(schedules)} schedules need {len(schedules) - 1} boundaries, "
            f"got {len(boundaries)}"
        )
    bounds = [int(b) for b in boundaries]
    if any(b < 0 for b in bounds) or any(a >= b for a, b in itertools.pairwise(bounds)):
        raise ValueError(f"Invalid join boundaries: {list(boundaries)} (must increase, >= 0)")
    parts = list(schedules)
    starts = [0, *bounds]

    def schedule(step: int) -> float:
        i = bisect.bisect_right(bounds, step)
        return parts[i](step - starts[i])

    return schedule


def as_lr_scheduler(
    optimizer: Optimizer, schedule: Schedule | Sequence[Schedule], last_epoch: int = -1
) -> LambdaLR:
    """Drive ``optimizer``'s learning rate(s) with ``schedule``: lr = initial_lr·schedule(t).

    Call ``scheduler.step()`` after each ``optimizer.step()``. One schedule per param group
    may be given. Resuming: rebuild the same schedule, then ``load_state_dict``.

    Example:
        >>> import torch
        >>> opt = torch.optim.SGD(torch.nn.Linear(2, 1).parameters(), lr=0.1)
        >>> sched = as_lr_scheduler(opt, cosine(100))
        >>> opt.param_groups[0]["lr"]
        0.1
    """
    lambdas = list(schedule) if isinstance(schedule, Sequence) else schedule
    return LambdaLR(optimizer, lambdas, last_epoch=last_epoch)
