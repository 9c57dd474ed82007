"""Draw a learning-rate schedule to an image file (for ``danlu schedule plot``)."""

from __future__ import annotations

import os
from collections.abc import Callable

__all__ = ["plot_schedule"]


def plot_schedule(
    schedule: Callable[[int], float],
    steps: int,
    path: str | os.PathLike[str],
    title: str | None = None,
) -> None:
    """Plot ``schedule(t)`` for t = 0 .. steps-1 and save it to ``path`` (format from suffix).

    Uses ``matplotlib.figure.Figure`` directly (no pyplot), so it works headless and leaves
    the global backend alone.

    Example:
        >>> from danlu.optim import create_schedule
        >>> s = create_schedule("cosine_restarts", total_steps=1000, T_0=100, T_mult=2)
        >>> plot_schedule(s, 1000, "lr.png", title="cosine_restarts")  # doctest: +SKIP
    """
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"Invalid steps: {steps!r} (must be an integer >= 1)")
    from matplotlib.figure import Figure  # imported here: `import danlu.optim` stays light

    xs = list(range(steps))
    ys = [schedule(t) for t in xs]
    fig = Figure(figsize=(7, 3.5), layout="constrained")
    ax = fig.add_subplot()
    ax.plot(xs, ys, linewidth=1.5)
    ax.set_xlabel("step")
    ax.set_ylabel("learning-rate multiplier")
    ax.set_xlim(0, max(steps - 1, 1))
    ax.set_ylim(bottom=min(0.0, min(ys)))
    ax.grid(alpha=0.3)
    if title:
        ax.set_title(title)
    fig.savefig(path, dpi=120)
