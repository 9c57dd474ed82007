"""The lab's figure helpers: grouped seed bars and the palette PNG."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from danlu.lab.plots import compact_png, panels, save_compact, seed_bars


def test_seed_bars_draw_each_mean_as_a_bar_and_each_seed_as_a_dot() -> None:
    _, (ax,) = panels(1)
    series = {"a": [[1.0, 3.0], [2.0, 2.0, 5.0]], "b": [[0.5], [4.0, 6.0]]}
    seed_bars(ax, series, width=0.4)
    bars = ax.patches
    assert [round(p.get_height(), 6) for p in bars] == [2.0, 3.0, 0.5, 5.0]
    centres = [round(p.get_x() + p.get_width() / 2, 6) for p in bars]
    assert centres == [-0.2, 0.8, 0.2, 1.2]  # group g centred on x = g
    dots = [(x, y) for line in ax.lines for x, y in zip(*line.get_data(), strict=True)]
    assert len(dots) == 2 + 3 + 1 + 2 and (0.2, 0.5) in [(round(x, 6), y) for x, y in dots]
    assert [t.get_text() for t in ax.legend().get_texts()] == ["a", "b"]


def test_save_compact_writes_a_palette_png(tmp_path) -> None:
    fig, (ax,) = panels(1)
    ax.plot([0, 1, 2], [2, 0, 1])
    path = save_compact(fig, tmp_path / "f.png")
    with Image.open(path) as image:
        assert image.mode == "P" and image.size == (420, 320)
    with pytest.raises(OSError):
        compact_png(b"not a png")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    assert len(compact_png(buffer.getvalue())) < len(buffer.getvalue())
