"""A cursor over the bytes of a binary file, whose every failure is one line naming the byte.

Example:
    >>> r = Cursor(bytearray(b"\\x01\\x00\\x00\\x00"), "m.bin")
    >>> r.take("<i", "a count")
    (1,)
"""

from __future__ import annotations

import mmap
import struct
from typing import Any, BinaryIO

import numpy as np

from danlu.errors import UsageError

__all__ = ["Cursor"]


class Cursor:
    """The bytes of a file and a position in them; a read past the end, or of a value that
    cannot be there, raises one UsageError naming the file, the offset and what was
    expected."""

    def __init__(
        self, data: bytes | bytearray | mmap.mmap, name: str, file: BinaryIO | None = None
    ) -> None:
        """``file``: the open file ``data`` maps, from which :meth:`array` reads straight
        into new arrays (no second copy through the map)."""
        self.data, self.name, self.pos, self.file = data, name, 0, file

    def error(self, expected: str, found: str, at: int | None = None) -> UsageError:
        where = self.pos if at is None else at
        return UsageError(f"{self.name}: byte {where}: expected {expected}, found {found}")

    def need(self, size: int, what: str) -> None:
        left = len(self.data) - self.pos
        if size > left:
            found = (
                f"only {left} bytes before the end of the file" if left else "the end of the file"
            )
            raise self.error(what, f"{found} (truncated?)")

    def take(self, fmt: struct.Struct | str, what: str) -> tuple[Any, ...]:
        fmt = fmt if isinstance(fmt, struct.Struct) else struct.Struct(fmt)
        self.need(fmt.size, what)
        values = fmt.unpack_from(self.data, self.pos)
        self.pos += fmt.size
        return values

    def flag(self, what: str) -> bool:
        (value,) = self.take("<B", f"{what} (a bool)")
        if value > 1:
            raise self.error(f"{what} (a bool, 0 or 1)", str(value), self.pos - 1)
        return bool(value)

    def array(self, dtype: str, shape: tuple[int, ...], what: str) -> np.ndarray:
        """A copy of the next ``prod(shape)`` items: writable, aligned, and independent of
        the buffer (a memory map can then be closed)."""
        count = int(np.prod(shape, dtype=np.int64))
        size = count * np.dtype(dtype).itemsize
        self.need(size, f"{what} ({size} bytes)")
        if self.file is None:
            out = np.frombuffer(self.data, dtype, count, self.pos).reshape(shape).copy()
        else:
            out = np.empty(shape, dtype)
            self.file.seek(self.pos)
            if self.file.readinto(memoryview(out).cast("B")) != size:
                raise self.error(f"{what} ({size} bytes)", "fewer bytes (changed while read?)")
        self.pos += size
        return out
