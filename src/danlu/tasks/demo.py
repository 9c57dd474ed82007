"""``danlu demo``: train every task on the small real data shipped inside the package.

Each entry of :data:`DEMOS` trains one model into ``OUT/<name>/`` (the usual run files)
and reports one headline metric. The summary is printed as a table and written to
``OUT/summary.md`` and ``OUT/summary.json``. Data sources and licenses:
``danlu/samples/README.md``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from danlu.errors import UsageError
from danlu.io import write_json
from danlu.tasks.demo_config import Demo, DemoConfig, sample_path
from danlu.tasks.tabular.demo import DEMOS as TABULAR_DEMOS
from danlu.tasks.tagging.demo import DEMOS as TAGGING_DEMOS
from danlu.tasks.text_classification.demo import DEMOS as TEXT_DEMOS
from danlu.tasks.translation.demo import DEMOS as TRANSLATION_DEMOS
from danlu.tasks.vision.demo import DEMOS as VISION_DEMOS

__all__ = ["DEMOS", "Demo", "run_demo", "sample_path"]


# The demos, in the order they run. Each task package contributes a DEMOS tuple.
DEMOS: tuple[Demo, ...] = (
    *TABULAR_DEMOS, *TEXT_DEMOS, *TAGGING_DEMOS, *TRANSLATION_DEMOS, *VISION_DEMOS,
)  # fmt: skip


def _table(rows: list[dict[str, Any]]) -> str:
    headers = ["task", "data", "metric", "value", "seconds"]
    cells = [[r["task"], r["data"], r["metric"], f"{r['value']:.4f}", f"{r['seconds']:.1f}"]
             for r in rows]  # fmt: skip
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(c) + " |" for c in cells]
    return "\n".join(lines)


def run_demo(cfg: DemoConfig) -> list[dict[str, Any]]:
    """Run the demos and write the report folder; returns one summary row per demo."""
    names = [d.name for d in DEMOS]
    unknown = [n for n in cfg.only if n not in names]
    if unknown:
        raise UsageError(f"unknown demo(s) {', '.join(unknown)}; valid: {', '.join(names)}")
    out = Path(cfg.out)
    rows = []
    t_all = time.perf_counter()
    for demo in DEMOS:
        if cfg.only and demo.name not in cfg.only:
            continue
        if not cfg.quiet:
            print(f"[demo] {demo.name}: {demo.task} on {demo.data} ...", file=sys.stderr)
        t0 = time.perf_counter()
        metrics = demo.run(out / demo.name, cfg.device)
        seconds = time.perf_counter() - t0
        rows.append({"name": demo.name, "task": demo.task, "data": demo.data,
                     "metric": demo.metric, "value": float(metrics[demo.metric]),
                     "seconds": round(seconds, 2), "run_folder": str(out / demo.name)})  # fmt: skip
    total = time.perf_counter() - t_all
    table = _table(rows)
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "summary.json", {"demos": rows, "total_seconds": round(total, 2)})
    (out / "summary.md").write_text(
        f"# danlu demo\n\n{table}\n\nTotal: {total:.1f} s. Run folders: {out}/<name>/\n",
        encoding="utf-8",
    )
    print(table)
    print(f"total {total:.1f} s; report: {out}/summary.md")
    return rows
