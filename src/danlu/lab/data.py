"""Where the lab finds the shared datasets, and what it says when they are not there.

Claims about real behaviour run on the datasets of ``../shared/data`` (THUCNews, ResumeNER,
MNIST, Tatoeba, COVID ...). They are looked for in ``$DANLU_DATA``, then in
``shared/data`` beside the current folder's parents, then beside the checkout danlu was
installed from. A claim whose data is missing raises :class:`DataMissing`; the runner
records it as ``skipped`` (with the path it looked for), not as a failure.

Example:
    >>> shared_data("mnist", "train-images-idx3-ubyte.gz")  # doctest: +SKIP
    PosixPath('/work/shared/data/mnist/train-images-idx3-ubyte.gz')
"""

from __future__ import annotations

import functools
import gzip
import math
import os
import struct
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

__all__ = ["DataMissing", "data_roots", "idx_head", "idx_images", "mnist_rows", "shared_data"]

# pixel mean and sd of MNIST's training images (x / 255)
MNIST_MEAN, MNIST_STD = 0.1307, 0.3081


class DataMissing(Exception):
    """A claim's dataset is not on this machine."""


def data_roots() -> list[Path]:
    """The folders searched for shared datasets, in order."""
    roots = []
    if os.environ.get("DANLU_DATA"):
        roots.append(Path(os.environ["DANLU_DATA"]))
    here = Path.cwd().resolve()
    roots += [p / "shared" / "data" for p in (here, *here.parents)]
    checkout = Path(__file__).resolve().parents[3]  # src/danlu/lab -> the checkout
    roots.append(checkout.parent / "shared" / "data")
    return list(dict.fromkeys(roots))


def shared_data(*parts: str) -> Path:
    """The path ``parts`` under the first data root that has it.

    Raises:
        DataMissing: no root has it.
    """
    for root in data_roots():
        path = root.joinpath(*parts)
        if path.exists():
            return path
    raise DataMissing(f"{'/'.join(parts)} not found under ../shared/data (or $DANLU_DATA)")


def idx_head(path: str | Path, n: int | None = None) -> np.ndarray:
    """The first ``n`` items (all when None) of a (gzipped) ``uint8`` IDX file, without
    inflating the rest.

    An IDX file is a 4-byte magic (0, 0, 0x08 for ``uint8``, the number of dimensions d),
    d big-endian 32-bit sizes, then the items row-major. Reading only the head keeps a
    subset of MNIST to milliseconds (the whole file takes a couple of seconds to inflate).
    (:func:`danlu.data.read_idx` reads and checks whole files for the tasks.)

    Returns:
        ``(min(n, N), *dims[1:])`` ``uint8``.
    """
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as fh:
        magic = fh.read(4)
        if len(magic) != 4 or magic[:3] != b"\x00\x00\x08":
            raise ValueError(f"{path}: not a uint8 IDX file (magic {magic!r})")
        dims = struct.unpack(f">{magic[3]}I", fh.read(4 * magic[3]))
        count = dims[0] if n is None else min(n, dims[0])
        size = math.prod(dims[1:])
        data = fh.read(count * size)
    if len(data) != count * size:
        raise ValueError(f"{path}: truncated, {len(data)} of {count * size} bytes")
    return np.frombuffer(bytearray(data), dtype=np.uint8).reshape(count, *dims[1:])  # writable


@functools.cache
def idx_images(name: str, n: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The first ``n`` (all when None) training images ``(n, 28, 28)`` ``uint8`` and labels
    ``(n,)`` ``int64`` of ``shared/data/<name>`` (``mnist`` or ``fashion-mnist``); cached:
    callers must not write into them."""
    x = idx_head(shared_data(name, "train-images-idx3-ubyte.gz"), n)
    y = idx_head(shared_data(name, "train-labels-idx1-ubyte.gz"), n).astype(np.int64)
    return x, y


def mnist_rows(start: int, n: int) -> tuple[Tensor, Tensor]:
    """MNIST training images ``start .. start+n`` as standardized rows ``(n, 784)``
    (float32) and their labels ``(n,)`` (int64)."""
    images, labels = idx_images("mnist", start + n)
    x = torch.from_numpy(images[start : start + n].reshape(n, -1).astype(np.float32) / 255.0)
    return (x - MNIST_MEAN) / MNIST_STD, torch.from_numpy(labels[start : start + n].copy())
