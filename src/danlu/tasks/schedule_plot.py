"""``danlu schedule plot``: draw any learning-rate schedule of :mod:`danlu.optim`.

Example::

    danlu schedule plot --name cosine_restarts --steps 1000 --T-0 100 --T-mult 2 \\
        --warmup 50 --out lr.png
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from danlu.config import option
from danlu.errors import UsageError
from danlu.names import SCHEDULES, describe

__all__ = ["SchedulePlotConfig", "plot_named_schedule"]

# Optional schedule parameters: passed on only when given.
_PARAMS = ("T_0", "T_mult", "step_size", "gamma", "min_value", "d_model", "points", "value")


@dataclass(frozen=True)
class SchedulePlotConfig:
    """Options of ``danlu schedule plot``."""

    name: str = option(help=f"the schedule: {describe(SCHEDULES)}")
    steps: int = option(1000, help="steps to draw (also the schedule's total_steps)")
    warmup: int = option(0, help="linear warm-up steps in front of the schedule")
    out: str = option("lr.png", help="PNG file to write")
    T_0: int | None = option(None, help="cosine_restarts: length of the first cycle")
    T_mult: int | None = option(None, help="cosine_restarts: cycle length multiplier")
    step_size: int | None = option(None, help="step: decay every this many steps")
    gamma: float | None = option(None, help="step/exponential: decay factor")
    min_value: float | None = option(None, help="linear/cosine/cosine_restarts: floor")
    d_model: int | None = option(None, help="noam: model width")
    points: str | None = option(None, help="piecewise_linear: e.g. '0:0,1000:1,2000:0.1'")
    value: float | None = option(None, help="constant: the multiplier")

    def __post_init__(self) -> None:
        if self.name not in SCHEDULES:
            raise UsageError(f"unknown schedule {self.name!r}; valid: {', '.join(SCHEDULES)}")
        if self.steps < 1:
            raise UsageError(f"--steps must be >= 1, got {self.steps}")


def plot_named_schedule(cfg: SchedulePlotConfig) -> dict[str, Any]:
    """Build the schedule, write the plot; return where its maxima and minima fall."""
    from danlu.optim import create_schedule, plot_schedule

    params = {k: getattr(cfg, k) for k in _PARAMS if getattr(cfg, k) is not None}
    try:
        schedule = create_schedule(cfg.name, total_steps=cfg.steps, warmup=cfg.warmup, **params)
    except ValueError as exc:
        raise UsageError(f"schedule {cfg.name!r}: {exc}") from None
    shown = ", ".join(f"{k}={v}" for k, v in params.items())
    title = f"{cfg.name}({shown})" + (f" + warmup {cfg.warmup}" if cfg.warmup else "")
    plot_schedule(schedule, cfg.steps, cfg.out, title=title)
    values = [schedule(s) for s in range(cfg.steps)]
    peak = max(values)
    return {
        "out": cfg.out,
        "max": peak,
        "min": min(values),
        "argmax": [s for s, v in enumerate(values) if v == peak][:10],
    }
