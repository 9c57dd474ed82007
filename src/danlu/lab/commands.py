"""``danlu lab list|run|report`` (handlers import the experiments, and torch, when they run;
the configs are imported when one of these commands is chosen)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from danlu.errors import UsageError
from danlu.tasks.command import Command

if TYPE_CHECKING:
    from danlu.lab.config import LabListConfig, LabReportConfig, LabRunConfig

__all__ = ["COMMANDS"]

_CONFIG = "danlu.lab.config"  # imported when one of these commands is chosen


def _list(cfg: LabListConfig) -> int:
    from danlu.lab.registry import CLAIMS, THEMES

    if cfg.theme and cfg.theme not in THEMES:
        raise UsageError(f"unknown theme {cfg.theme!r}; valid: {', '.join(THEMES)}")
    for i, claim in enumerate(CLAIMS.values(), 1):
        if not cfg.theme or claim.theme == cfg.theme:
            quote = claim.quote if len(claim.quote) <= 60 else claim.quote[:58] + "…"
            print(f"{i:>3}  {claim.id:<36} {claim.theme:<16} {','.join(claim.sources):<8} {quote}")
    return 0


def _run(cfg: LabRunConfig) -> int:
    from danlu.lab.registry import CLAIMS
    from danlu.lab.report import write_report
    from danlu.lab.runner import find_claims, run_claims
    from danlu.train.device import use_threads

    ids = list(CLAIMS) if cfg.all else list(cfg.claims)
    find_claims(ids)  # unknown ids: one line, before anything runs
    use_threads(cfg.threads)
    records = run_claims(ids, cfg.quick, cfg.out, progress=sys.stderr.isatty())
    for r in records:
        print(f"{r['id']:<36} {r['verdict']:<10} {r.get('seconds', 0):7.1f} s")
    errors = [r["id"] for r in records if r["verdict"] == "error"]
    if cfg.report:
        print(f"wrote {write_report(cfg.out)}", file=sys.stderr)
    if errors:
        print(f"danlu lab run: {len(errors)} experiment(s) failed: {', '.join(errors)} "
              f"(tracebacks in {Path(cfg.out)}/ID.json)", file=sys.stderr)  # fmt: skip
        return 1
    return 0


def _report(cfg: LabReportConfig) -> int:
    from danlu.lab.report import write_report

    if not Path(cfg.folder).is_dir():
        raise UsageError(f"{cfg.folder} is not a folder; pass the --out folder of danlu lab run")
    print(f"wrote {write_report(cfg.folder, cfg.out or None)}", file=sys.stderr)
    return 0


COMMANDS: tuple[Command, ...] = (
    Command(("lab", "list"), f"{_CONFIG}:LabListConfig", _list,
            "the notes' claims the lab can test"),
    Command(("lab", "run"), f"{_CONFIG}:LabRunConfig", _run,
            "run claims as experiments: numbers, a figure and a verdict each"),
    Command(("lab", "report"), f"{_CONFIG}:LabReportConfig", _report,
            "one HTML page of a lab run: verdict table, then each claim"),
)  # fmt: skip
