"""``danlu demo``: train every task on the small real data shipped inside the package.

Each entry of :data:`DEMOS` trains one model into ``OUT/<name>/`` (the usual run files)
and reports one headline metric. The summary is printed as a table and written to
``OUT/summary.md`` and ``OUT/summary.json``. Data sources and licenses:
``danlu/samples/README.md``.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from danlu.errors import UsageError
from danlu.tasks.demo_config import DemoConfig
from danlu.train.checkpoint import write_json
from danlu.train.config import TrainConfig

__all__ = ["DEMOS", "Demo", "run_demo", "sample_path"]


def sample_path(name: str) -> Path:
    """Path of a data file shipped in ``danlu/samples``."""
    path = Path(str(resources.files("danlu") / "samples" / name))
    if not path.is_file():
        raise FileNotFoundError(f"packaged sample {name!r} is missing from {path.parent}")
    return path


@dataclass(frozen=True)
class Demo:
    name: str
    task: str
    data: str
    metric: str  # key of the run's metrics.json shown in the summary
    run: Callable[[Path, str], dict[str, Any]]  # (run folder, device) -> metrics


def _tabular(
    target: str, task: str, hidden: tuple[int, ...], **train: Any
) -> Callable[[Path, str], dict]:
    def run(out: Path, device: str) -> dict[str, Any]:
        from danlu.tasks.tabular.config import TabularTrainConfig
        from danlu.tasks.tabular.train import train_tabular

        cfg = TabularTrainConfig(
            data=str(sample_path("wine.csv")),
            target=target,
            task=task,
            out=str(out),
            hidden=hidden,
            val_fraction=0.25,
            train=TrainConfig(device=device, quiet=True, early_stop_metric="val_loss", **train),
        )
        return train_tabular(cfg)

    return run


# The demos, in the order they run; later tasks add theirs here.
DEMOS: tuple[Demo, ...] = (
    Demo(
        "tabular-classification",
        "tabular classification (MLP, softmax CE)",
        "UCI Wine, 178 rows: cultivar",
        "val_accuracy",
        _tabular("cultivar", "classification", (32,), epochs=60, batch_size=16, lr=3e-3),
    ),
    Demo(
        "tabular-regression",
        "tabular regression (MLP, MSE)",
        "UCI Wine, 178 rows: alcohol %",
        "val_r2",
        _tabular(
            "alcohol", "regression", (32,), epochs=80, batch_size=16, lr=3e-3, weight_decay=1e-2
        ),
    ),
)


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
