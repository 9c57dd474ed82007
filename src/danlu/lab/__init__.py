"""danlu.lab: the notes' claims as reproducible experiments with numbers, a plot and a verdict.

Each theme module (:mod:`.optimizers`, :mod:`.normalization`, ...) lists its claims in a
``CLAIMS`` tuple of :class:`Claim`; :data:`CLAIMS` is the one table of them all
(:mod:`.registry`). :func:`run_claims` runs claims into a folder (one JSON + PNG each,
resumable) and :func:`write_report` turns the folder into one HTML page.

The experiments import torch; this package's ``__init__`` imports nothing of its own (the
``danlu`` command imports :mod:`.commands` for its command table, on every run): the
claims' types, the table, the runner and the report load when first used (:pep:`562`).

Example:
    >>> from danlu.lab import CLAIMS, run_claims, write_report
    >>> records = run_claims(list(CLAIMS), quick=True, out="runs/lab")  # doctest: +SKIP
    >>> write_report("runs/lab")  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from danlu.lab.claim import NOTES, VERDICTS, Claim, Result, verdict_of

__all__ = [
    "CLAIMS",
    "NOTES",
    "THEMES",
    "VERDICTS",
    "Claim",
    "Result",
    "render_report",
    "run_claim",
    "run_claims",
    "verdict_of",
    "write_report",
]

# name -> the module that defines it, imported on first use
_LAZY = {"NOTES": "claim", "VERDICTS": "claim", "Claim": "claim", "Result": "claim",
         "verdict_of": "claim", "CLAIMS": "registry", "THEMES": "registry",
         "render_report": "report", "write_report": "report", "run_claim": "runner",
         "run_claims": "runner"}  # fmt: skip


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"danlu.lab.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'danlu.lab' has no attribute {name!r}")
