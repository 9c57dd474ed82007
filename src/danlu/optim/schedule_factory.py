"""Schedules by name, for ``--schedule`` flags: one explicit table, warm-up added uniformly.

``create_schedule(name, total_steps=..., warmup=..., **params)`` returns the schedule
``join([linear_warmup(warmup), base], [warmup])`` (just ``base`` when ``warmup == 0``),
where ``base`` is built from the table below and runs for ``total_steps - warmup`` steps.

=================  ===============================  ========================================
name               keyword parameters (default)     base schedule
=================  ===============================  ========================================
constant           value (1.0)                      :func:`constant`
step               step_size (required), gamma      :func:`step_decay`
                   (0.1)
exponential        gamma (required)                 :func:`exponential_decay`
linear             min_value (0.0)                  :func:`linear_decay` over the steps left
cosine             min_value (0.0)                  :func:`cosine` over the steps left
cosine_restarts    T_0 (required), T_mult (1),      :func:`cosine_restarts`
                   min_value (0.0)
noam               d_model (required)               :func:`noam` (uses ``warmup`` itself,
                                                    which must be >= 1; no extra warm-up)
piecewise_linear   points (required): a mapping     :func:`piecewise_linear`
                   or a string "0:0,1000:1,2000:0.1"
=================  ===============================  ========================================

Example:
    >>> s = create_schedule("cosine_restarts", total_steps=1000, warmup=50, T_0=100, T_mult=2)
    >>> s(0), s(50), s(150)
    (0.0, 1.0, 1.0)
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any

from danlu import names
from danlu.errors import UsageError
from danlu.optim.schedules import (
    Schedule,
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

__all__ = ["SCHEDULES", "create_schedule", "parse_points", "schedule_names"]


def parse_points(text: str) -> dict[int, float]:
    """Parse ``"0:0,1000:1,2000:0.1"`` into ``{0: 0.0, 1000: 1.0, 2000: 0.1}``."""
    points: dict[int, float] = {}
    for item in text.split(","):
        step, sep, value = item.strip().partition(":")
        try:
            if not sep:
                raise ValueError
            points[int(step)] = float(value)
        except ValueError:
            raise UsageError(
                f"invalid piecewise_linear point {item.strip()!r} in {text!r}; "
                f"write STEP:VALUE pairs separated by commas, e.g. '0:0,1000:1,2000:0.1'"
            ) from None
    return points


def _with_warmup(warmup: int, base: Schedule) -> Schedule:
    return base if warmup == 0 else join([linear_warmup(warmup), base], [warmup])


def _piecewise(total: int, warmup: int, points: Mapping[int, float] | str) -> Schedule:
    points = parse_points(points) if isinstance(points, str) else points
    return _with_warmup(warmup, piecewise_linear(points))


# name -> factory(total_steps, warmup, **params). Decaying schedules run over the steps
# left after warm-up; noam has its own warm-up.
SCHEDULES: dict[str, Callable[..., Schedule]] = names.implement(names.SCHEDULES, {
    "constant": lambda total, warmup, value=1.0: _with_warmup(warmup, constant(value)),
    "step": lambda total, warmup, step_size, gamma=0.1: _with_warmup(
        warmup, step_decay(step_size, gamma)
    ),
    "exponential": lambda total, warmup, gamma: _with_warmup(warmup, exponential_decay(gamma)),
    "linear": lambda total, warmup, min_value=0.0: _with_warmup(
        warmup, linear_decay(total - warmup, min_value)
    ),
    "cosine": lambda total, warmup, min_value=0.0: _with_warmup(
        warmup, cosine(total - warmup, min_value)
    ),
    "cosine_restarts": lambda total, warmup, T_0, T_mult=1, min_value=0.0: _with_warmup(
        warmup, cosine_restarts(T_0, T_mult, min_value)
    ),
    "noam": lambda total, warmup, d_model: noam(d_model, warmup),
    "piecewise_linear": _piecewise,
}, "schedules")  # fmt: skip


def schedule_names() -> list[str]:
    """Names accepted by :func:`create_schedule` (:func:`danlu.names.schedule_names`)."""
    return names.schedule_names()


def _check_params(name: str, factory: Callable[..., Schedule], params: dict[str, Any]) -> None:
    signature = list(inspect.signature(factory).parameters.values())[2:]  # the **params
    accepted = [p.name for p in signature]
    unknown = sorted(set(params) - set(accepted))
    if unknown:
        raise UsageError(
            f"schedule {name!r} does not take {', '.join(unknown)}; it takes: {', '.join(accepted)}"
        )
    missing = [p.name for p in signature if p.default is p.empty and p.name not in params]
    if missing:
        raise UsageError(f"schedule {name!r} needs {', '.join(missing)}")


def create_schedule(
    name: str, *, total_steps: int, warmup: int = 0, **params: Any
) -> Callable[[int], float]:
    """Build the schedule ``name`` with a linear warm-up of ``warmup`` steps.

    Args:
        name: one of :func:`schedule_names`.
        total_steps: length of the run, warm-up included.
        warmup: steps of linear warm-up from 0 to 1 (0: none).
        **params: the schedule's keyword parameters (see the module table).

    Returns:
        ``Callable[[int], float]``: step -> learning-rate multiplier.

    Raises:
        UsageError: unknown name (the message lists the valid ones), unknown or missing
            parameter.
        ValueError: invalid values (negative steps, T_0 < 1, ...).
    """
    try:
        factory = SCHEDULES[name]
    except KeyError:
        raise UsageError(f"unknown schedule {name!r}; valid: {', '.join(SCHEDULES)}") from None
    _check_params(name, factory, params)
    if isinstance(total_steps, bool) or not isinstance(total_steps, int) or total_steps < 1:
        raise ValueError(f"Invalid total_steps: {total_steps!r} (must be an integer >= 1)")
    if isinstance(warmup, bool) or not isinstance(warmup, int) or not 0 <= warmup < total_steps:
        raise ValueError(
            f"Invalid warmup: {warmup!r} (must be an integer in [0, total_steps={total_steps}))"
        )
    return factory(total_steps, warmup, **params)
