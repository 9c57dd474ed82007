"""``danlu vision distort``: a randomly rotated, scaled and shifted copy of an IDX image set.

The spatial transformer paper (Jaderberg et al. 2015, section 4.1) tests its claim, that a
CNN cannot undo a rotation or a scale change but a learned warp in front of it can, on
MNIST distorted per image: rotated by up to ±45°, scaled by 0.7–1.2 and moved, the 28×28
digit placed on a 42×42 canvas. This command builds such a set from any IDX file, at the
images' own size (a digit scaled up or moved may then lose its edge pixels, as a
photographed object near the frame does) or, with ``canvas``, centred on a larger blank
square first, as in the paper. Each image gets one fixed draw, seeded; the labels are
copied unchanged.

Example:
    >>> from danlu.errors import UsageError
from danlu.tasks.vision.config import VisionDistortConfig
    >>> cfg = VisionDistortConfig(data="train-images-idx3-ubyte.gz",
    ...                           labels="train-labels-idx1-ubyte.gz", out="rts")  # doctest: +SKIP
    >>> distort_files(cfg)  # doctest: +SKIP
    {'images': 'rts/images-idx3-ubyte.gz', 'labels': 'rts/labels-idx1-ubyte.gz', 'count': 60000}
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from danlu.data.augment import affine
from danlu.data.idx import read_idx_images_labels, write_idx
from danlu.errors import UsageError
from danlu.tasks.vision.config import VisionDistortConfig

__all__ = ["IMAGES_FILE", "LABELS_FILE", "centre_on_canvas", "distort", "distort_files"]

IMAGES_FILE, LABELS_FILE = "images-idx3-ubyte.gz", "labels-idx1-ubyte.gz"


def distort(pixels: Tensor, rotate: float, scale: tuple[float, float], shift: float, seed: int,
            chunk: int = 4096) -> Tensor:  # fmt: skip
    """Each image of ``pixels`` ``(N, C, H, W)`` (uint8) rotated by ``U[-rotate, rotate]``
    degrees, scaled by ``U[scale]`` and shifted by ``U[-shift, shift]`` of the side along
    each axis; the draws come from one CPU generator seeded by ``seed``, all before any
    image is warped, so the result depends on ``seed`` alone (not on ``chunk``)."""
    n = pixels.shape[0]
    gen = torch.Generator().manual_seed(seed)
    angle = (torch.rand(n, generator=gen, dtype=torch.float64) * 2 - 1) * rotate  # (N,)
    factor = scale[0] + torch.rand(n, generator=gen, dtype=torch.float64) * (scale[1] - scale[0])
    offset = (torch.rand(n, 2, generator=gen, dtype=torch.float64) * 2 - 1) * shift  # (N, 2)
    parts = [affine(pixels[i : i + chunk], angle[i : i + chunk].float(),
                    offset[i : i + chunk].float(), factor[i : i + chunk].float())
             for i in range(0, n, chunk)]  # fmt: skip
    return torch.cat(parts) if parts else pixels.clone()


def centre_on_canvas(pixels: Tensor, side: int) -> Tensor:
    """``(N, C, H, W)`` images centred on a blank ``side x side`` canvas (``side`` 0 or the
    images' own size: unchanged); the extra column or row of an odd margin goes right/below."""
    h, w = pixels.shape[-2:]
    if side == 0 or side == h == w:
        return pixels
    if side < max(h, w):
        raise UsageError(f"--canvas {side} is smaller than the {h} x {w} images; use 0 or a "
                         f"side of at least {max(h, w)}")  # fmt: skip
    top, left = (side - h) // 2, (side - w) // 2
    return F.pad(pixels, (left, side - w - left, top, side - h - top))  # zeros around


def distort_files(cfg: VisionDistortConfig) -> dict[str, object]:
    """Write the distorted images and their labels into ``cfg.out``; return what was written."""
    x, y = read_idx_images_labels(cfg.data, cfg.labels)
    pixels = torch.from_numpy(np.ascontiguousarray(x))
    flat = pixels.dim() == 3  # (N, H, W): warp as one channel, write back without it
    placed = centre_on_canvas(pixels[:, None] if flat else pixels, cfg.canvas)
    warped = distort(placed, cfg.rotate,
                     (cfg.scale_min, cfg.scale_max), cfg.shift, cfg.seed)  # fmt: skip
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    images = write_idx(out / IMAGES_FILE, (warped[:, 0] if flat else warped).numpy())
    labels = write_idx(out / LABELS_FILE, y)
    return {"images": str(images), "labels": str(labels), "count": len(y)}
