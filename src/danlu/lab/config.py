"""Options of ``danlu lab list|run|report`` (no torch import)."""

from __future__ import annotations

from dataclasses import dataclass

from danlu.config import option
from danlu.errors import UsageError
from danlu.train.config import THREADS_HELP

__all__ = ["LabListConfig", "LabReportConfig", "LabRunConfig"]


@dataclass(frozen=True)
class LabListConfig:
    """``danlu lab list``: every claim, its theme, its source notes and the quoted claim."""

    theme: str = option("", help="only the claims of this theme (e.g. optimizers)")


@dataclass(frozen=True)
class LabRunConfig:
    """``danlu lab run``: run claims as experiments, one JSON + PNG per claim in ``--out``.

    Claims already finished in ``--out`` in the same mode (quick or full) are skipped, so
    an interrupted run resumes; delete a claim's JSON to run it again.
    """

    claims: tuple[str, ...] = option((), help="claim ids (see danlu lab list)", positional=True)
    all: bool = option(False, help="run every claim")
    quick: bool = option(
        False, help="the small form of each experiment (seconds each): checks that it runs, "
        "its verdict carries no weight",
    )  # fmt: skip
    out: str = option("runs/lab", help="folder for the claims' JSON and PNG files")
    threads: int = option(0, help=THREADS_HELP)
    report: bool = option(True, help="write OUT/report.html when the claims are done")

    def __post_init__(self) -> None:
        if self.all == bool(self.claims):
            raise UsageError("name the claims to run (danlu lab list shows them) or pass --all, "
                             "not both" if self.all else "name the claims to run (danlu lab "
                             "list shows them) or pass --all")  # fmt: skip


@dataclass(frozen=True)
class LabReportConfig:
    """``danlu lab report``: the HTML page of a lab run folder (images embedded)."""

    folder: str = option(help="run folder of danlu lab run", positional=True)
    out: str = option("", help="where to write the page (default FOLDER/report.html)")
