"""Image folders: ``root/<class>/*.png|jpg|jpeg`` read into one ``uint8`` array.

The layout torchvision's ``ImageFolder`` reads::

    root/cat/001.png
    root/cat/002.jpg
    root/dog/a.jpeg

Classes are the sorted names of the subfolders of ``root`` (label ``i`` is ``classes[i]``);
inside a class the files are read in sorted order. Only files directly in a class folder
with one of :data:`IMAGE_SUFFIXES` (any case) count; hidden files and folders (``.name``)
and files in ``root`` itself are ignored. EXIF orientation tags are not applied (as in
torchvision).

Channels: ``grayscale=True`` converts every image to one channel (Pillow's ``L``:
``0.299 R + 0.587 G + 0.114 B``), ``False`` to three (``RGB``; an alpha channel is
dropped). ``None`` gives one channel if every image is grayscale (modes ``1``, ``L``,
``LA``), else three. 16-bit and float images are refused.

All images must have one size ``H x W``: with ``size`` they are resized to it (bilinear;
an image already that size is left untouched, pixel for pixel); without, the first image
whose size differs from the first file's is named in the error. The images are read in two
passes (the headers, then the pixels) so that the result is allocated once, as
``(N, C, H, W)`` ``uint8``: a numpy array like :func:`danlu.data.idx.read_idx`'s, shared
with torch by ``torch.from_numpy``.

Pillow is needed only here, and imported when :func:`read_image_folder` runs.

Example:
    >>> images, labels, classes = read_image_folder("flowers", size=(64, 64))  # doctest: +SKIP
    >>> images.shape, images.dtype, labels.dtype, classes                      # doctest: +SKIP
    ((3670, 3, 64, 64), dtype('uint8'), dtype('int64'), ['daisy', 'rose', ...])
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from danlu.errors import DataError, UsageError

__all__ = ["IMAGE_SUFFIXES", "ImageSet", "list_image_folder", "read_image_folder", "read_images"]

IMAGE_SUFFIXES: tuple[str, ...] = (".png", ".jpg", ".jpeg")
_GRAY_MODES = frozenset({"1", "L", "LA"})
_REFUSED_MODES = ("I", "F")  # 32-bit int / float, and every "I;16..." variant


class ImageSet(NamedTuple):
    """What :func:`read_image_folder` returns (unpacks as ``images, labels, classes``)."""

    images: np.ndarray  # (N, C, H, W) uint8
    labels: np.ndarray  # (N,) int64, indices into classes
    classes: list[str]  # sorted class folder names


def _size_arg(size: int | tuple[int, int] | None) -> tuple[int, int] | None:
    """``size`` as ``(height, width)``, checked."""
    if size is None:
        return None
    hw = (size, size) if isinstance(size, int) else tuple(size)
    if len(hw) != 2 or not all(isinstance(v, int) and v > 0 for v in hw):
        raise UsageError(f"size must be a positive int or (height, width) of positive ints, "
                         f"got {size!r}")  # fmt: skip
    return hw  # type: ignore[return-value]


def _visible(path: Path) -> bool:
    return not path.name.startswith(".")


def list_image_folder(root: str | Path) -> tuple[list[str], list[tuple[Path, int]]]:
    """The classes of ``root`` and every ``(file, label)``, in reading order.

    Raises:
        UsageError: ``root`` is not a folder.
        DataError: ``root`` has no class folders, or a class folder has no images.
    """
    top = Path(root)
    if not top.is_dir():
        raise UsageError(f"image folder not found: {top} (expected root/<class>/*.png|jpg)")
    classes = sorted(d.name for d in top.iterdir() if d.is_dir() and _visible(d))
    if not classes:
        raise DataError(str(top), None, "no class folders: expected root/<class>/<image> "
                        f"with images ending in {', '.join(IMAGE_SUFFIXES)}")  # fmt: skip
    files: list[tuple[Path, int]] = []
    for label, name in enumerate(classes):
        found = sorted(f for f in (top / name).iterdir() if f.is_file() and _visible(f)
                       and f.suffix.lower() in IMAGE_SUFFIXES)  # fmt: skip
        if not found:
            suffixes = ", ".join(IMAGE_SUFFIXES)
            raise DataError(str(top / name), None, "class folder without images: every class "
                            f"needs at least one file ending in {suffixes}")  # fmt: skip
        files.extend((f, label) for f in found)
    return classes, files


def _pillow() -> Any:
    try:
        from PIL import Image
    except ImportError:
        raise UsageError("reading image folders needs Pillow: pip install Pillow") from None
    return Image


def _open(image_module: Any, path: Path) -> Any:
    """Open ``path`` lazily (header only) or raise one line naming it."""
    try:
        im = image_module.open(path)
    except Exception as exc:  # Pillow's decoders raise many types for a broken file
        raise DataError(str(path), None, f"not a readable image ({type(exc).__name__}: "
                        f"{exc})") from None  # fmt: skip
    if im.mode.startswith(_REFUSED_MODES):
        im.close()
        raise DataError(str(path), None, f"image mode {im.mode} (16-bit, 32-bit or float) is "
                        "not supported; save it as 8-bit grayscale or RGB")  # fmt: skip
    return im


def read_image_folder(
    root: str | Path,
    size: int | tuple[int, int] | None = None,
    grayscale: bool | None = None,
) -> ImageSet:
    """Read ``root/<class>/*.png|jpg|jpeg`` into ``(N, C, H, W)`` ``uint8`` (module docstring).

    Args:
        root: the folder of class folders.
        size: resize every image to ``(height, width)`` (an int: square); None: every image
            must already have the first image's size.
        grayscale: True: 1 channel; False: 3 (RGB); None: 1 if every image is grayscale.

    Returns:
        :class:`ImageSet` ``(images, labels, classes)``: ``images`` ``(N, C, H, W)`` uint8,
        ``labels`` ``(N,)`` int64 in ``0 .. len(classes) - 1``, ``classes`` sorted.

    Raises:
        UsageError: Pillow is not installed, ``root`` is not a folder, or ``size`` is invalid.
        DataError: one line naming the folder or file: no class folders, a class without
            images, an unreadable image, an unsupported mode, or (without ``size``) the
            first image whose size differs, with the size expected.
    """
    hw = _size_arg(size)
    classes, files = list_image_folder(root)
    image_module = _pillow()

    # pass 1: headers only (Pillow decodes pixels on load) -> modes and sizes
    modes: list[str] = []
    expected: tuple[int, int] | None = hw
    first = files[0][0]
    for path, _ in files:
        with _open(image_module, path) as im:
            modes.append(im.mode)
            width, height = im.size
        if expected is None:
            expected = (height, width)
        elif hw is None and (height, width) != expected:
            raise DataError(
                str(path), None,
                f"image is {height}x{width} (height x width), expected {expected[0]}x{expected[1]} "
                f"like {first.parent.name}/{first.name}; pass size=(H, W) to resize them all",
            )  # fmt: skip
    assert expected is not None  # files is never empty
    if grayscale is None:
        grayscale = all(m in _GRAY_MODES for m in modes)

    # pass 2: pixels, straight into the one array
    images = read_images([path for path, _ in files], expected, grayscale)
    labels = np.fromiter((label for _, label in files), dtype=np.int64, count=len(files))
    return ImageSet(images, labels, classes)


def read_images(paths: Sequence[str | Path], size: tuple[int, int], grayscale: bool) -> np.ndarray:
    """Read image files into one ``(N, C, H, W)`` ``uint8`` array, in the order given.

    Each image is converted to ``L`` (``grayscale``, C = 1) or ``RGB`` (C = 3) and resized
    (bilinear) to ``size = (height, width)`` unless it already has that size.

    Raises:
        UsageError: Pillow is not installed.
        DataError: a file that is missing or not a readable 8-bit image, named.

    Example:
        >>> x = read_images(["a.png", "b.jpg"], (28, 28), grayscale=True)  # doctest: +SKIP
        >>> x.shape, x.dtype  # doctest: +SKIP
        ((2, 1, 28, 28), dtype('uint8'))
    """
    image_module = _pillow()
    h, w = _size_arg(size)  # type: ignore[misc]
    images = np.empty((len(paths), 1 if grayscale else 3, h, w), dtype=np.uint8)
    for i, path in enumerate(paths):
        with _open(image_module, Path(path)) as im:  # a missing file or bad header: named
            try:
                im = im.convert("L" if grayscale else "RGB")  # decodes: a truncated file fails
                if im.size != (w, h):
                    im = im.resize((w, h), image_module.Resampling.BILINEAR)
                pixels = np.asarray(im)  # (H, W) or (H, W, 3)
            except Exception as exc:  # Pillow's decoders raise many types for a broken file
                raise DataError(str(path), None, f"not a readable image ({type(exc).__name__}: "
                                f"{exc})") from None  # fmt: skip
        images[i] = pixels[None] if grayscale else pixels.transpose(2, 0, 1)
    return images
