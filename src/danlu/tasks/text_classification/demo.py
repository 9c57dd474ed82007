"""The text classification task's entries in ``danlu demo``."""

from __future__ import annotations

from danlu.tasks.demo_config import Demo

__all__ = ["DEMOS"]

DEMOS: tuple[Demo, ...] = ()
