"""Summaries the lab's verdicts rest on: mean and sample sd over seeds, "in at least k of n".

Example:
    >>> mean_sd([1.0, 2.0, 3.0])
    (2.0, 1.0)
    >>> pm([1.0, 2.0, 3.0]), pm([0.25, 0.5], ".3f", ".2g")
    ('2 ± 1', '0.375 ± 0.18')
    >>> at_least([True, True, True, True, False], 0.8), at_least([True, False], 0.8)
    (True, False)
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence

__all__ = ["at_least", "mean_sd", "pm", "sample_sd"]


def mean_sd(values: Sequence[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (``n - 1``; 0 for a single value)."""
    values = [float(v) for v in values]
    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else 0.0


def sample_sd(values: Sequence[float]) -> float:
    """Sample standard deviation (``n - 1``; 0 for a single value)."""
    return mean_sd(values)[1]


def pm(values: Sequence[float], fmt: str = ".3g", sd_fmt: str | None = None) -> str:
    """``"mean ± sd"`` over seeds, the mean in ``fmt`` and the sd in ``sd_fmt`` (``fmt``)."""
    mean, sd = mean_sd(values)
    return f"{mean:{fmt}} ± {sd:{sd_fmt or fmt}}"


def at_least(flags: Sequence[bool], share: float = 0.8) -> bool:
    """Whether at least ``ceil(share * n)`` of the ``n`` flags hold: 4 of 5 seeds for 0.8,
    3 of 3, 1 of 1 in a quick run; never for no flags."""
    return len(flags) > 0 and sum(map(bool, flags)) >= math.ceil(share * len(flags) - 1e-9)
