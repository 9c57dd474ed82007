"""Options of ``danlu demo`` (no torch import)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from danlu.config import option
from danlu.train.config import Device

__all__ = ["Demo", "DemoConfig", "sample_path"]


def sample_path(name: str) -> Path:
    """Path of a data file shipped in ``danlu/samples`` (sources: its README.md)."""
    path = Path(str(resources.files("danlu") / "samples" / name))
    if not path.is_file():
        raise FileNotFoundError(f"packaged sample {name!r} is missing from {path.parent}")
    return path


@dataclass(frozen=True)
class Demo:
    """One entry of ``danlu demo``: trains a model into ``run(out_dir, device)``."""

    name: str
    task: str
    data: str
    metric: str  # key of the returned metrics shown in the summary
    run: Callable[[Path, str], dict[str, Any]]  # (run folder, device) -> metrics


@dataclass(frozen=True)
class DemoConfig:
    """``danlu demo``: train every task on the small data shipped inside the package."""

    out: str = option("runs/demo", help="report folder: one run folder per demo + summary")
    device: Device = option("auto", help="where to train")
    only: tuple[str, ...] = option((), help="run only these demos (names as in the summary)")
    quiet: bool = option(False, help="print only the summary table")
