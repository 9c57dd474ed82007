"""Figures of the lab's experiments: matplotlib without pyplot (no GUI, no global state).

Every claim draws one figure with one or a few panels; labels are English so that no CJK
font is needed.

Example:
    >>> fig, (ax,) = panels(1)
    >>> _ = ax.plot([0, 1], [1, 0])
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from danlu.io import atomic_write

__all__ = ["compact_png", "panels", "save_compact", "seed_bars"]


def panels(
    n: int, *, width: float = 4.2, height: float = 3.2, rows: int = 1
) -> tuple[Any, list[Any]]:
    """A figure of ``n`` panels in ``rows`` rows and the flat list of their axes."""
    from matplotlib.figure import Figure

    cols = -(-n // rows)
    fig = Figure(figsize=(width * cols, height * rows), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False).ravel().tolist()
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig, axes[:n]


def seed_bars(ax: Any, series: dict[str, list[list[float]]], width: float = 0.38) -> None:
    """Grouped bars: for each label of ``series`` one bar per group at the mean of that
    group's seeds, side by side within a group, with every seed drawn as a black dot.

    ``series[label][g]`` holds the per-seed values of group ``g``; the caller sets the ticks
    (group ``g`` is centred on ``x = g``).
    """
    k = len(series)
    for i, (label, groups) in enumerate(series.items()):
        xs = [g + (i - (k - 1) / 2) * width for g in range(len(groups))]
        ax.bar(xs, [sum(v) / len(v) for v in groups], width=width, alpha=0.7, label=label)
        for x, v in zip(xs, groups, strict=True):
            ax.plot([x] * len(v), v, "k.", ms=4)


def compact_png(data: bytes, colors: int = 256) -> bytes:
    """``data`` (a PNG) re-encoded with an adaptive palette of ``colors``: line plots lose
    nothing visible and shrink about threefold, which keeps a report of fifty figures small.
    """
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        palette = image.convert("RGB").quantize(colors=colors, method=Image.Quantize.MEDIANCUT)
    out = io.BytesIO()
    palette.save(out, format="PNG", optimize=True)
    return out.getvalue()


def save_compact(fig: Any, path: str | Path, dpi: int = 100) -> Path:
    """Render ``fig`` to a palette PNG at ``path`` (atomically)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, dpi=dpi, format="png")
    data = compact_png(buffer.getvalue())
    return atomic_write(path, lambda fh: fh.write(data), len(data))
