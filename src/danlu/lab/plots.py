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

__all__ = ["compact_png", "panels", "save_compact"]


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
