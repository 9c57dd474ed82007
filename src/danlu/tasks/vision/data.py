"""The images of ``danlu vision``: IDX files or image folders, as one ``uint8`` tensor.

A set of labelled images is :class:`Images`: the pixels ``(N, C, H, W)`` ``uint8`` (one
tensor, never a float copy: batches are converted on the device) and a class index per
image. IDX images ``(N, H, W)`` get one channel; ``(N, C, H, W)`` with C = 1 or 3 is taken
as it is. IDX labels ``0..K-1`` are named by ``--class-names``, else by the digits
``"0"..."K-1"``; an image folder's classes are its sorted subfolder names
(:func:`danlu.data.images.read_image_folder`).

Dev and evaluation images must match the training images: an image folder is read at
their size and channels; an IDX file must have them; a folder's classes are looked up by
name, and a class the model does not know is refused, naming it.

Example:
    >>> train, dev = read_training(cfg)  # doctest: +SKIP
    >>> train.pixels.shape, train.classes[:3]  # doctest: +SKIP
    (torch.Size([54000, 1, 28, 28]), ('0', '1', '2'))
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from danlu.data.idx import read_idx_images_labels
from danlu.data.images import IMAGE_SUFFIXES, read_image_folder
from danlu.data.splits import train_val_split
from danlu.errors import DataError, UsageError
from danlu.tasks.vision.config import VisionTrainConfig

__all__ = ["Images", "channel_stats", "image_files", "read_for_model", "read_training"]


@dataclass(frozen=True)
class Images:
    """Labelled images in memory."""

    pixels: torch.Tensor  # (N, C, H, W) uint8
    labels: torch.Tensor  # (N,) int64, indices into classes
    classes: tuple[str, ...]
    source: str  # where they were read, for messages

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def shape(self) -> tuple[int, int, int]:
        """``(C, H, W)`` of every image."""
        c, h, w = self.pixels.shape[1:]
        return c, h, w

    def subset(self, indices: np.ndarray) -> Images:
        idx = torch.as_tensor(indices, dtype=torch.long)
        return Images(self.pixels[idx], self.labels[idx], self.classes, self.source)


def _shape_text(shape: Sequence[int]) -> str:
    return "x".join(map(str, shape))


def _read_idx(path: str, labels: str) -> tuple[np.ndarray, np.ndarray]:
    """IDX images as ``(N, C, H, W)`` and their labels as int64."""
    x, y = read_idx_images_labels(path, labels)
    if x.ndim == 3:
        x = x[:, None]  # (N, 1, H, W), a view
    elif not (x.ndim == 4 and x.shape[1] in (1, 3)):
        raise DataError(path, None, f"expected images (N, H, W) or (N, C, H, W) with C = 1 or 3, "
                        f"got {_shape_text(x.shape)}")  # fmt: skip
    if len(x) == 0:
        raise DataError(path, None, "holds no images")
    return x, y.astype(np.int64)


def _check_labels(labels: np.ndarray, count: int, source: str, how: str) -> None:
    if len(labels) and int(labels.max()) >= count:
        first = int(np.flatnonzero(labels >= count)[0])
        raise DataError(source, None, f"label {int(labels[first])} of image {first} is not one "
                        f"of the {count} classes 0..{count - 1} ({how})")  # fmt: skip


def _by_name(labels: np.ndarray, found: list[str], classes: tuple[str, ...], source: str
             ) -> np.ndarray:  # fmt: skip
    """Labels of an image folder (indices into ``found``) as indices into ``classes``."""
    unknown = [c for c in found if c not in classes]
    if unknown:
        raise DataError(source, None, f"class folder(s) {', '.join(unknown)} are not among the "
                        f"model's classes: {', '.join(classes)}")  # fmt: skip
    index = np.array([classes.index(c) for c in found], dtype=np.int64)
    return index[labels]


def _square(images: Images) -> Images:
    _, h, w = images.shape
    if h != w:
        raise UsageError(f"{images.source}: the images are {h}x{w} (height x width); the models "
                         "take square images: resize them, or pass --size N for an image "
                         "folder")  # fmt: skip
    return images


def read_for_model(
    path: str,
    labels: str,
    classes: tuple[str, ...],
    shape: tuple[int, ...],
    idx: tuple[np.ndarray, np.ndarray] | None = None,
) -> Images:
    """Images to run a model of these ``classes`` and ``(C, H, W)`` on (dev, eval): an
    image folder read at that size and channels, its classes looked up by name; an IDX
    file (``idx``: its arrays, when already read) checked against them."""
    c, h, w = shape
    if Path(path).is_dir():
        x, y, found = read_image_folder(path, size=(h, w), grayscale=c == 1)
        y = _by_name(y, found, classes, path)
    else:
        x, y = idx or _read_idx(path, labels)
        if tuple(x.shape[1:]) != tuple(shape):
            raise DataError(path, None, f"images are {_shape_text(x.shape[1:])} (C x H x W), "
                            f"the model takes {_shape_text(shape)}")  # fmt: skip
        _check_labels(y, len(classes), labels, f"{len(classes)} classes: {', '.join(classes)}")
    return Images(torch.from_numpy(np.ascontiguousarray(x)), torch.from_numpy(y), classes, path)


def read_training(cfg: VisionTrainConfig) -> tuple[Images, Images | None]:
    """The training images and the dev images (None: no dev); see the module docstring."""
    dev_idx = None  # an IDX dev set, read before the classes are known
    if cfg.dev and not Path(cfg.dev).is_dir():
        dev_idx = _read_idx(cfg.dev, cfg.dev_labels)
    if Path(cfg.train).is_dir():
        x, y, found = read_image_folder(cfg.train, size=cfg.size or None)
        classes = tuple(found)
    else:
        x, y = _read_idx(cfg.train, cfg.labels)
        if cfg.class_names:
            classes = cfg.class_names
            _check_labels(y, len(classes), cfg.labels, f"--class-names names {len(classes)}")
        else:  # the digits up to the largest label, of either set
            top = max(int(y.max()), int(dev_idx[1].max()) if dev_idx else 0)
            classes = tuple(str(k) for k in range(top + 1))
    if len(classes) < 2:
        raise DataError(cfg.train, None, f"one class only ({classes[0]}): a classifier needs "
                        "at least two")  # fmt: skip
    train = _square(Images(torch.from_numpy(np.ascontiguousarray(x)), torch.from_numpy(y),
                           classes, cfg.train))  # fmt: skip
    if cfg.dev:
        return train, read_for_model(cfg.dev, cfg.dev_labels, classes, train.shape, dev_idx)
    if cfg.dev_fraction == 0:
        return train, None
    if len(train) < 2:
        raise DataError(cfg.train, None, "one image only: nothing to hold out as dev images; "
                        "pass --dev-fraction 0")  # fmt: skip
    kept, held_out = train_val_split(len(train), cfg.dev_fraction, cfg.split_seed)
    return train.subset(kept), train.subset(held_out)


def channel_stats(pixels: torch.Tensor) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Mean and standard deviation of each channel of ``(N, C, H, W)`` ``uint8`` pixels,
    in units of 255 (``x / 255``), summed in float64 a chunk at a time (no float copy of
    the set). A channel that never varies gets std 1."""
    c = pixels.shape[1]
    total = torch.zeros(c, dtype=torch.float64)
    squares = torch.zeros(c, dtype=torch.float64)
    for chunk in pixels.split(4096):
        x = chunk.double()
        total += x.sum((0, 2, 3))
        squares += (x * x).sum((0, 2, 3))
    count = pixels.numel() // c
    mean = total / count
    std = (squares / count - mean**2).clamp(min=0).sqrt()
    std = torch.where(std > 1e-6, std, torch.full_like(std, 255.0))
    return tuple((mean / 255).tolist()), tuple((std / 255).tolist())


def _hidden(relative: Path) -> bool:
    return any(part.startswith(".") for part in relative.parts)


def image_files(paths: Sequence[str]) -> list[Path]:
    """The files to read: each path given, or every image under a folder (sorted).

    Raises:
        UsageError: a path that does not exist, or a folder without images.
    """
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*")
                           if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
                           and not _hidden(p.relative_to(path)))  # fmt: skip
            if not found:
                raise UsageError(f"{path}: a folder without images (looked for "
                                 f"{', '.join(IMAGE_SUFFIXES)} in it and below)")  # fmt: skip
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            raise UsageError(f"image not found: {path}")
    return files
