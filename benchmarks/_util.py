"""Shared helpers for benchmark scripts: timing and Markdown tables.

Every ``bench_*.py`` module defines ``run(quick: bool = False) -> str`` that returns a
Markdown section (``## title``, the reference it compares against, a table with a ratio
column). ``run_all.py`` collects the sections into BENCHMARKS.md. Times are medians of
repeated runs measured in the same process as the reference, so ratios stay meaningful on
shared, noisy machines.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path


def time_fn(fn: Callable[[], object], *, warmup: int = 3, repeat: int = 20) -> float:
    """Median wall-clock seconds of ``fn()`` over ``repeat`` calls after ``warmup`` calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def interleaved(
    fns: dict[str, Callable[[], object]], *, warmup: int = 3, repeat: int = 20
) -> dict[str, float]:
    """Median seconds per function, calling them in turn so machine noise hits all alike."""
    for _ in range(warmup):
        for fn in fns.values():
            fn()
    times: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    return {k: statistics.median(v) for k, v in times.items()}


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Render a GitHub-flavoured Markdown table; floats get 4 significant digits."""

    def cell(x: object) -> str:
        if isinstance(x, float):
            return f"{x:.4g}"
        return str(x)

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(x) for x in row) + " |" for row in rows]
    return "\n".join(lines)


def train_once(folder: Path, key: list[str], cmd: list[str], threads: int, tag: str) -> dict:
    """Run the training command ``cmd`` (``python -m danlu ...`` writing into ``folder``)
    unless ``folder`` holds a finished run stamped with the same ``key``; return the run's
    record: the key, threads, wall minutes, peak RSS (``/usr/bin/time``) and the command.
    The stamp is ``folder/bench_command.json``, so an interrupted benchmark resumes."""
    stamp = folder / "bench_command.json"
    if (folder / "metrics.json").is_file() and stamp.is_file():
        record = json.loads(stamp.read_text())
        if record["flags"] == key:
            return record
    print(f"[{tag}] {' '.join(cmd)}", flush=True)
    t0 = time.perf_counter()
    proc = subprocess.run(
        ["/usr/bin/time", "-f", "%M", *cmd, "--overwrite"], capture_output=True, text=True
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.stderr[-2000:]}")
    record = {
        "flags": key,
        "threads": threads,
        "minutes": (time.perf_counter() - t0) / 60,
        "peak_mb": int(proc.stderr.strip().splitlines()[-1]) / 1024,
        "command": " ".join(["danlu", *cmd[3:]]),  # cmd is python -m danlu ...
    }
    stamp.write_text(json.dumps(record, indent=1))
    return record
