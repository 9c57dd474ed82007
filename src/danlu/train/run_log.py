"""The files every run writes: ``metrics.jsonl``, ``metrics.json`` and ``curves.png``.

``metrics.jsonl`` holds one JSON object per log event, appended and flushed as it happens::

    {"event": "train", "step": 10, "epoch": 0, "loss": 0.53, "lr": 0.001, "elapsed": 0.4}
    {"event": "eval", "step": 50, "epoch": 0, "val_loss": 0.41, "val_mse": 0.41, ...}

``metrics.json`` is the final summary that scripts read. ``curves.png`` plots the training
loss and every evaluation metric against the step. Every file goes through
:mod:`danlu.io`: a full disk raises :class:`~danlu.errors.DiskFull` (one line), and the
summary and the plots are written atomically (a crash leaves the old file or the new one).

Example:
    >>> log = RunLog("runs/a")  # doctest: +SKIP
    >>> log.log("train", 10, loss=0.53)  # doctest: +SKIP
    >>> plot_curves(log.events, "runs/a/curves.png", x_label="epoch")  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from danlu.io import atomic_write, write_json
from danlu.io.files import disk_full, is_disk_full

__all__ = ["RunLog", "plot_curves", "plot_inspection", "plot_runs", "read_events", "save_figure"]


def _clean(value: Any) -> Any:
    """JSON-safe numbers: NaN/inf become strings rather than invalid JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def read_events(path: str | Path) -> list[dict[str, Any]]:
    """Parse ``metrics.jsonl``; a torn last line (crash mid-write) is ignored."""
    events = []
    p = Path(path)
    if not p.exists():
        return events
    for line in p.read_text(encoding="utf-8").splitlines():
        try:
            events.append(json.loads(line))
        except json.JSONDecodeError:
            break
    return events


@contextlib.contextmanager
def _writing(path: Path) -> Iterator[None]:
    """Turn a full disk while appending to ``path`` into :class:`~danlu.errors.DiskFull`."""
    try:
        yield
    except OSError as exc:
        if is_disk_full(exc):
            raise disk_full(path) from None
        raise


def save_figure(fig: Any, path: str | Path, dpi: int = 110) -> Path:
    """Render a matplotlib figure (format from the file's suffix, png by default) and write
    it atomically through :func:`danlu.io.atomic_write`.

    Example:
        >>> save_figure(fig, "runs/a/curves.png")  # doctest: +SKIP
    """
    path = Path(path)
    buffer = io.BytesIO()
    fig.savefig(buffer, dpi=dpi, format=path.suffix.lstrip(".").lower() or "png")
    data = buffer.getvalue()
    return atomic_write(path, lambda fh: fh.write(data), len(data))


class RunLog:
    """Appends events to ``metrics.jsonl`` and writes the summary files of a run folder.

    Args:
        out: the run folder.
        enabled: False on non-zero ranks under torchrun (only rank 0 writes).
        resume_step: when resuming, events after this step (written before the crash,
            after the checkpoint) are dropped so the log matches an uninterrupted run.
    """

    def __init__(self, out: str | Path, enabled: bool = True, resume_step: int | None = None):
        self.out = Path(out)
        self.enabled = enabled
        self.path = self.out / "metrics.jsonl"
        self.events: list[dict[str, Any]] = []
        self._t0 = time.perf_counter()
        if not enabled:
            return
        self.out.mkdir(parents=True, exist_ok=True)
        if resume_step is not None:
            self.events = [e for e in read_events(self.path) if e.get("step", 0) <= resume_step]
            kept = "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in self.events)
            data = kept.encode()
            atomic_write(self.path, lambda fh: fh.write(data), len(data))
        else:
            atomic_write(self.path, lambda fh: None, 0)
        self._fh = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 (closed in close())

    def log(self, event: str, step: int, **values: Any) -> dict[str, Any]:
        """Record one event (``train``, ``eval``, ``checkpoint``, ...) at ``step``.

        Raises:
            DiskFull: ``metrics.jsonl`` could not grow (a torn last line is ignored when
                it is read back, :func:`read_events`).
        """
        record = {"event": event, "step": step}
        record.update({k: _clean(v) for k, v in values.items()})
        record["elapsed"] = round(time.perf_counter() - self._t0, 4)
        if self.enabled:
            self.events.append(record)
            with _writing(self.path):
                self._fh.write(json.dumps(record, ensure_ascii=False) + "\n")
                self._fh.flush()
        return record

    def write_summary(self, metrics: dict[str, Any]) -> None:
        """Write ``metrics.json`` (final metrics) and ``curves.png``."""
        if not self.enabled:
            return
        write_json(self.out / "metrics.json", {k: _clean(v) for k, v in metrics.items()})
        plot_curves(self.events, self.out / "curves.png")
        if any(e["event"] == "inspect" for e in self.events):
            plot_inspection(self.events, self.out / "inspect.png")

    def close(self) -> None:
        if self.enabled and not self._fh.closed:
            with _writing(self.path):
                self._fh.close()


def plot_curves(
    events: list[dict[str, Any]],
    path: str | Path,
    title: str | None = None,
    *,
    x_label: str = "step",
) -> None:
    """Training loss and each evaluation metric against the events' ``step`` values, one
    panel each; ``x_label`` names what those count (e.g. ``"epoch"`` when a trainer logs
    one event per epoch under ``step``).

    Example:
        >>> plot_curves(read_events("runs/a/metrics.jsonl"), "runs/a/curves.png")  # doctest: +SKIP
    """
    plot_runs({"": events}, path, title, x_label=x_label)


def _series(events: list[dict[str, Any]]) -> dict[str, tuple[list[int], list[float]]]:
    series: dict[str, tuple[list[int], list[float]]] = defaultdict(lambda: ([], []))
    for e in events:
        kind = e.get("event")
        if kind not in ("train", "eval"):
            continue
        for key, value in e.items():
            if key in ("event", "step", "epoch", "elapsed", "lr", "samples_per_s"):
                continue
            if isinstance(value, bool) or not isinstance(value, int | float):
                continue
            name = "train_loss" if (kind == "train" and key == "loss") else key
            xs, ys = series[name]
            xs.append(e["step"])
            ys.append(float(value))
    return series


def plot_runs(
    runs: dict[str, list[dict[str, Any]]],
    path: str | Path,
    title: str | None = None,
    *,
    x_label: str = "step",
) -> None:
    """Like :func:`plot_curves` for several runs (e.g. the folds of a cross-validation):
    one panel per metric, one line per run, labelled by the dict key.

    Example:
        >>> plot_runs({"fold 1": events1, "fold 2": events2}, "cv.png")  # doctest: +SKIP
    """
    from matplotlib.figure import Figure  # no pyplot: no GUI backend, safe in threads

    per_run = {label: _series(events) for label, events in runs.items()}
    names = sorted(
        {n for s in per_run.values() for n in s},
        key=lambda n: (n != "train_loss", n != "val_loss", n),  # the losses first
    )
    n = max(1, len(names))
    cols = min(3, n)
    rows = math.ceil(n / cols)
    fig = Figure(figsize=(4.2 * cols, 3.2 * rows), layout="constrained")
    for i, name in enumerate(names):
        ax = fig.add_subplot(rows, cols, i + 1)
        all_y: list[float] = []
        for label, series in per_run.items():
            if name not in series:
                continue
            xs, ys = series[name]
            all_y += ys
            ax.plot(xs, ys, marker="o" if len(xs) < 30 else None, markersize=3, label=label or None)
        ax.set_title(name)
        ax.set_xlabel(x_label)
        ax.grid(alpha=0.3)
        if "loss" in name and all_y and min(all_y) > 0 and max(all_y) / min(all_y) > 50:
            ax.set_yscale("log")
        if len(runs) > 1 and i == 0:
            ax.legend(fontsize="small")
    if not names:
        ax = fig.add_subplot(1, 1, 1)
        ax.text(0.5, 0.5, "no metrics logged", ha="center", va="center")
    if title:
        fig.suptitle(title)
    save_figure(fig, path)


def plot_inspection(events: list[dict[str, Any]], path: str | Path) -> None:
    """``--inspect`` events: gradient norm per weight (log scale), saturated and dead
    fractions per activation layer, against the step. Vanishing gradients show as the
    first layers' norms lying decades below the last layers'."""
    from matplotlib.figure import Figure

    panels = [("grad_norm", "gradient norm ‖∂L/∂W‖"), ("saturated", "saturated fraction"),
              ("dead", "dead ReLU fraction")]  # fmt: skip
    inspect = [e for e in events if e.get("event") == "inspect"]
    shown = [(key, title) for key, title in panels if any(e.get(key) for e in inspect)]
    fig = Figure(figsize=(4.6 * max(1, len(shown)), 3.4), layout="constrained")
    for i, (key, title) in enumerate(shown):
        ax = fig.add_subplot(1, len(shown), i + 1)
        layers = list(dict.fromkeys(name for e in inspect for name in e.get(key, {})))
        for name in layers:
            points = [(e["step"], e[key][name]) for e in inspect if name in e.get(key, {})]
            ax.plot([p[0] for p in points], [p[1] for p in points], label=name)
        if key == "grad_norm":
            ax.set_yscale("log")
        ax.set_title(title)
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
        ax.legend(fontsize="x-small")
    save_figure(fig, path)
