"""IDX files (the MNIST / Fashion-MNIST layout), gzip-compressed or raw.

An IDX file is a header and then the array, C order, big-endian::

    bytes 0-1   0x00 0x00
    byte  2     the type code: 0x08 unsigned byte (the only one read here; 0x09 int8,
                0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64 are refused)
    byte  3     the number of dimensions, ndim >= 1
    then        ndim big-endian uint32 sizes d_1 ... d_ndim
    then        d_1 * ... * d_ndim values

so a file holds exactly ``4 + 4 * ndim + prod(d)`` bytes (after decompression); a file of
another length is refused with one line giving the bytes expected and the bytes found.
Whether a file is gzip is read from its first two bytes (0x1f 0x8b), not from its name.

:func:`read_idx` returns a **numpy** ``uint8`` array, not a torch tensor: reading needs no
torch, and ``torch.from_numpy(a)`` shares the array's memory (the array is allocated here,
so it is writable and the conversion does not warn). The whole set lives in that one
``uint8`` array (MNIST's 60,000 training images: 47 MB); a float copy is made a batch at a
time by whoever trains on it.

Example:
    >>> x, y = read_idx_images_labels("train-images-idx3-ubyte.gz",
    ...                               "train-labels-idx1-ubyte.gz")  # doctest: +SKIP
    >>> x.shape, x.dtype, y.shape                                    # doctest: +SKIP
    ((60000, 28, 28), dtype('uint8'), (60000,))
    >>> images = torch.from_numpy(x)[:, None]  # (N, 1, 28, 28), no copy  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import gzip
import math
import struct
import zlib
from pathlib import Path
from typing import IO

import numpy as np

from danlu.errors import DataError, UsageError
from danlu.io.files import atomic_write

__all__ = ["IDX_TYPES", "read_idx", "read_idx_images_labels", "write_idx"]

# type code -> the element type it stands for; only 0x08 is read (see read_idx)
IDX_TYPES: dict[int, str] = {
    0x08: "uint8",
    0x09: "int8",
    0x0B: "int16",
    0x0C: "int32",
    0x0D: "float32",
    0x0E: "float64",
}
_SUPPORTED = 0x08
_GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1 << 20


def _shape_text(dims: tuple[int, ...]) -> str:
    return "x".join(str(d) for d in dims)


def _read_fully(fh: IO[bytes], out: memoryview) -> int:
    """Read into ``out`` until it is full or the stream ends; the number of bytes read."""
    got = 0
    while got < len(out):
        n = fh.readinto(out[got:])  # type: ignore[attr-defined]
        if not n:
            break
        got += n
    return got


def _rest(fh: IO[bytes]) -> int:
    """The number of bytes left in the stream (read and dropped in chunks)."""
    extra = 0
    while chunk := fh.read(_CHUNK):
        extra += len(chunk)
    return extra


def _read_stream(fh: IO[bytes], name: str) -> np.ndarray:
    head = fh.read(4)
    if len(head) < 4:
        raise DataError(name, None, f"expected at least 4 bytes (the IDX header), got "
                        f"{len(head)} bytes: the file is truncated or empty")  # fmt: skip
    zero0, zero1, code, ndim = head
    if zero0 or zero1 or ndim == 0:
        raise DataError(
            name, None,
            f"bad magic number 0x{head.hex()}: an IDX file starts with 0x00 0x00, a type code "
            "(0x08: uint8) and the number of dimensions (>= 1), e.g. 0x00000803 for MNIST "
            "images",
        )  # fmt: skip
    if code != _SUPPORTED:
        what = IDX_TYPES.get(code, "not an IDX type")
        raise DataError(name, None, f"IDX type code 0x{code:02x} ({what}) is not supported; "
                        "valid: 0x08 (uint8)")  # fmt: skip
    header_bytes = 4 + 4 * ndim
    raw_dims = fh.read(4 * ndim)
    if len(raw_dims) < 4 * ndim:
        got = 4 + len(raw_dims) + _rest(fh)
        raise DataError(name, None, f"expected at least {header_bytes} bytes (the header of a "
                        f"{ndim}-dimensional IDX file), got {got} bytes: the file is "
                        "truncated")  # fmt: skip
    dims = struct.unpack(f">{ndim}I", raw_dims)
    count = math.prod(dims)  # Python ints: no overflow
    expected = header_bytes + count
    out = np.empty(count, dtype=np.uint8)  # the one copy of the data
    got = header_bytes + _read_fully(fh, memoryview(out))
    if got == expected:
        got += _rest(fh)
    if got != expected:
        problem = "truncated" if got < expected else "longer than its header says"
        raise DataError(
            name, None,
            f"expected {expected} bytes ({header_bytes}-byte header + {_shape_text(dims)} "
            f"uint8), got {got} bytes: the file is {problem}",
        )  # fmt: skip
    return out.reshape(dims)


def read_idx(path: str | Path) -> np.ndarray:
    """Read an IDX file (``.gz`` or raw) into one ``uint8`` array of the header's shape.

    Args:
        path: the file; gzip is detected from its first bytes.

    Returns:
        ``np.ndarray`` of dtype ``uint8`` and shape ``(d_1, ..., d_ndim)``, writable,
        C-contiguous (e.g. MNIST images ``(60000, 28, 28)``, labels ``(60000,)``).

    Raises:
        DataError: one line naming the file: missing, not gzip-decodable, a bad magic
            number, a type code other than 0x08 (the code is named), or a length other
            than ``4 + 4 * ndim + prod(dims)`` (expected and actual bytes).

    Example:
        >>> write_idx("/tmp/x.idx", np.arange(6, dtype=np.uint8).reshape(2, 3))  # doctest: +SKIP
        >>> read_idx("/tmp/x.idx").tolist()                                       # doctest: +SKIP
        [[0, 1, 2], [3, 4, 5]]
    """
    p = Path(path)
    name = str(p)
    try:
        with contextlib.ExitStack() as stack:
            fh: IO[bytes] = stack.enter_context(open(p, "rb"))
            if fh.read(2) == _GZIP_MAGIC:
                fh.seek(0)
                fh = stack.enter_context(gzip.GzipFile(fileobj=fh, mode="rb"))
            else:
                fh.seek(0)
            return _read_stream(fh, name)
    except FileNotFoundError:
        raise DataError(name, None, "file not found") from None
    except IsADirectoryError:
        raise DataError(name, None, "is a folder; expected an IDX file") from None
    except EOFError:
        raise DataError(name, None, "the gzip stream ends early: the file is truncated "
                        "(download it again)") from None  # fmt: skip
    except (gzip.BadGzipFile, zlib.error) as exc:
        raise DataError(name, None, f"not a valid gzip file ({exc})") from None


def read_idx_images_labels(images: str | Path, labels: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Read an IDX image file and its label file, checking that they belong together.

    Args:
        images: e.g. ``train-images-idx3-ubyte.gz``: ``(N, H, W)`` (any ``ndim >= 2``).
        labels: e.g. ``train-labels-idx1-ubyte.gz``: ``(N,)``.

    Returns:
        ``(images, labels)``: ``uint8`` arrays ``(N, H, W)`` and ``(N,)``.

    Raises:
        DataError: either file is unreadable (see :func:`read_idx`), the images are not at
            least 2-dimensional, the labels not 1-dimensional, or the counts differ.
    """
    x = read_idx(images)
    y = read_idx(labels)
    if x.ndim < 2:
        raise DataError(str(images), None, f"expected images (N, H, W), got a "
                        f"{x.ndim}-dimensional array {_shape_text(x.shape)}: is this the "
                        "label file?")  # fmt: skip
    if y.ndim != 1:
        raise DataError(str(labels), None, f"expected labels (N,), got a {y.ndim}-dimensional "
                        f"array {_shape_text(y.shape)}: is this the image file?")  # fmt: skip
    if len(x) != len(y):
        raise DataError(str(labels), None, f"{len(y)} labels, but {images} holds {len(x)} "
                        "images; the two files must come from the same set")  # fmt: skip
    return x, y


def write_idx(path: str | Path, array: np.ndarray) -> Path:
    """Write a ``uint8`` array as an IDX file, gzip-compressed when ``path`` ends in ``.gz``.

    The write is atomic (:func:`danlu.io.files.atomic_write`); the gzip header carries no
    file name or time, so equal arrays give equal files.

    Raises:
        UsageError: ``array`` is not ``uint8``, has no dimensions or more than 255, or a
            dimension does not fit in 32 bits.
    """
    a = np.asarray(array)  # not ascontiguousarray: it turns a 0-d array into 1-d
    if a.dtype != np.uint8:
        raise UsageError(f"write_idx writes uint8 arrays only, got {a.dtype}; convert with "
                         ".astype(np.uint8) after checking the range")  # fmt: skip
    if not 1 <= a.ndim <= 255 or any(d >= 2**32 for d in a.shape):
        raise UsageError(f"an IDX file holds 1 to 255 dimensions of < 2**32 each, got shape "
                         f"{a.shape}")  # fmt: skip
    data = bytes([0, 0, _SUPPORTED, a.ndim]) + struct.pack(f">{a.ndim}I", *a.shape)
    data += a.tobytes()  # C order, whatever a's layout
    if str(path).endswith(".gz"):
        data = gzip.compress(data, mtime=0)
    return atomic_write(path, lambda fh: fh.write(data), len(data))
