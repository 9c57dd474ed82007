"""Options of ``danlu demo`` (no torch import)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from danlu.config import option

__all__ = ["DemoConfig"]


@dataclass(frozen=True)
class DemoConfig:
    """``danlu demo``: train every task on the small data shipped inside the package."""

    out: str = option("runs/demo", help="report folder: one run folder per demo + summary")
    device: Literal["auto", "cpu", "cuda"] = option("auto", help="where to train")
    only: tuple[str, ...] = option((), help="run only these demos (names as in the summary)")
    quiet: bool = option(False, help="print only the summary table")
