"""The pictures of ``danlu vision eval``: a confusion matrix, misclassified images, and
what a spatial transformer does to its inputs (matplotlib, no pyplot: headless)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from danlu.train.run_log import save_figure

__all__ = ["draw_confusion", "draw_errors", "draw_warps"]


def _figure(width: float, height: float) -> Any:
    from matplotlib.figure import Figure  # imported when drawing: no pyplot, no global state

    return Figure(figsize=(width, height), layout="constrained")


def _show(ax: Any, image: Tensor) -> None:
    """One image ``(C, H, W)``, uint8 or float in [0, 1], without axes."""
    pixels = image.float() / 255 if image.dtype == torch.uint8 else image.float()
    if pixels.shape[0] == 1:
        ax.imshow(pixels[0].numpy(), cmap="gray", vmin=0.0, vmax=1.0)
    else:
        ax.imshow(pixels.permute(1, 2, 0).clamp(0, 1).numpy())
    ax.set_xticks([])
    ax.set_yticks([])


def draw_confusion(confusion: Tensor, classes: Sequence[str], path: str | Path, title: str
                   ) -> Path:  # fmt: skip
    """The confusion matrix ``C[true, predicted]`` ``(K, K)`` as a labelled heat map: each
    cell coloured by its share of the true class (row), annotated with its count."""
    k = len(classes)
    counts = confusion.long()
    shares = counts.double() / counts.sum(1, keepdim=True).clamp(min=1)
    side = min(max(3.0 + 0.55 * k, 5.0), 30.0)
    fig = _figure(side + 1.0, side)
    ax = fig.add_subplot()
    image = ax.imshow(shares.numpy(), cmap="Blues", vmin=0.0, vmax=1.0)
    ax.set_xticks(range(k), list(classes), rotation=45, ha="right")
    ax.set_yticks(range(k), list(classes))
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title, fontsize=10)
    if k <= 30:  # counts stay legible up to about 30 classes
        for i in range(k):
            for j in range(k):
                if counts[i, j]:
                    color = "white" if shares[i, j] > 0.5 else "black"
                    ax.text(j, i, str(int(counts[i, j])), ha="center", va="center",
                            fontsize=7, color=color)  # fmt: skip
    fig.colorbar(image, ax=ax, shrink=0.8, label="share of the true class")
    return save_figure(fig, path, dpi=110)


def draw_errors(pixels: Tensor, true: Tensor, pred: Tensor, probs: Tensor,
                classes: Sequence[str], path: str | Path, title: str) -> Path:  # fmt: skip
    """A grid of misclassified images ``(M, C, H, W)``, each titled ``true -> predicted`` and
    the predicted class's probability; an empty set draws a note instead."""
    m = len(pixels)
    cols = min(max(m, 1), 8)
    rows = max(math.ceil(m / cols), 1)
    fig = _figure(1.5 * cols + 0.5, 1.7 * rows + 0.6)
    fig.suptitle(title, fontsize=10)
    if m == 0:
        ax = fig.add_subplot()
        ax.text(0.5, 0.5, "no misclassified images", ha="center", va="center")
        ax.set_axis_off()
    for i in range(m):
        ax = fig.add_subplot(rows, cols, i + 1)
        _show(ax, pixels[i])
        ax.set_title(f"{classes[int(true[i])]} -> {classes[int(pred[i])]}\n"
                     f"p = {float(probs[i]):.2f}", fontsize=7)  # fmt: skip
    return save_figure(fig, path, dpi=110)


def draw_warps(inputs: Tensor, warped: Tensor, path: str | Path) -> Path:
    """Inputs ``(M, C, H, W)`` (top row) above what the spatial transformer made of them
    (bottom row, float in [0, 1])."""
    m = len(inputs)
    fig = _figure(1.4 * m + 0.8, 3.4)
    for i in range(m):
        for row, (images, label) in enumerate(((inputs, "input"), (warped, "transformed"))):
            ax = fig.add_subplot(2, m, row * m + i + 1)
            _show(ax, images[i])
            if i == 0:
                ax.set_ylabel(label, fontsize=9)
    fig.suptitle("spatial transformer: input (top) and its output (bottom)", fontsize=10)
    return save_figure(fig, path, dpi=110)
