"""Text lines from bytes, UTF-8 or one clear error (no torch import).

Files and standard input are read as bytes and decoded one line at a time, so a line that
is not UTF-8 (a GBK file, a stray Latin-1 byte) is reported with its line number and the
byte, instead of a traceback or a line of ``�``. Commands that answer standard input line
by line (``predict -``, ``tag predict``, ``seg cut``) take it in :func:`stdin_batches`:
what has arrived is answered together, so a piped file runs as fast as the file by name
while a typed line, or one from a program waiting for the answer, is answered at once.

Example:
    >>> list(utf8_lines(io.BytesIO("你好\\nworld\\n".encode()), "<stdin>"))
    ['你好', 'world']
"""

from __future__ import annotations

import io
import os
import select
import sys
from collections import deque
from collections.abc import Iterable, Iterator
from itertools import islice

from danlu.errors import DataError

__all__ = ["decode_utf8", "stdin_batches", "stdin_is_terminal", "stdin_lines", "utf8_lines"]

READ_SIZE = 1 << 20  # bytes of input read at once (a pipe gives at most its 64 KiB)


def decode_utf8(raw: bytes, name: str, first_line: int = 1) -> str:
    """``raw`` (a whole file, or one line numbered ``first_line``) decoded as UTF-8.

    Raises:
        DataError: ``name:LINE: not UTF-8 text (byte 0xE9 at byte 3 of the line); ...``,
            the line and byte of the first undecodable byte.
    """
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line_start = raw.rfind(b"\n", 0, exc.start) + 1
        line = first_line + raw.count(b"\n", 0, exc.start)
        raise DataError(
            name, line, f"not UTF-8 text (byte 0x{raw[exc.start]:02X} at byte "
            f"{exc.start - line_start + 1} of the line); convert it, e.g. iconv -f GBK -t UTF-8",
        ) from None  # fmt: skip


def utf8_lines(raw_lines: Iterable[bytes], name: str, keep_ends: bool = False) -> Iterator[str]:
    """Each line of ``raw_lines`` (a binary file, ``sys.stdin.buffer``) decoded as UTF-8.

    A leading byte-order mark is dropped; the line ending too, unless ``keep_ends``.

    Raises:
        DataError: a line that is not UTF-8 (:func:`decode_utf8`).
    """
    for number, raw in enumerate(raw_lines, 1):
        text = decode_utf8(raw, name, number)
        if number == 1:
            text = text.removeprefix("\ufeff")
        yield text if keep_ends else text.rstrip("\r\n")


def stdin_lines() -> Iterator[str]:
    """The lines of standard input, decoded by :func:`utf8_lines` (named ``<stdin>``)."""
    stream = getattr(sys.stdin, "buffer", None)
    if stream is None:  # replaced by a text stream (tests): encode it back
        stream = io.BytesIO(sys.stdin.read().encode("utf-8", "surrogateescape"))
    return utf8_lines(stream, "<stdin>")


def stdin_is_terminal() -> bool:
    """Whether a person types the input (answer each line at once) rather than a pipe."""
    try:
        return sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False


class _Arrived:
    """The raw lines of a file descriptor, read as they arrive.

    Each ``os.read`` returns what is there (up to ``READ_SIZE``): a chunk of a file or of a
    full pipe, or the one line a person or a waiting program has written. ``ready`` holds
    the complete lines read and not yet taken.
    """

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.ready: deque[bytes] = deque()

    def waiting(self) -> bool:
        """Whether taking the next line may wait for input (none is read or readable)."""
        if self.ready:
            return False
        try:
            readable, _, _ = select.select([self.fd], [], [], 0)
        except (OSError, ValueError):  # no select on this kind of file here
            return True
        return not readable

    def __iter__(self) -> Iterator[bytes]:
        partial: list[bytes] = []  # the start of a line whose end has not arrived
        while True:
            while self.ready:
                yield self.ready.popleft()
            chunk = os.read(self.fd, READ_SIZE)
            if not chunk:  # end of input
                break
            *done, rest = chunk.split(b"\n")
            if done:
                done[0] = b"".join([*partial, done[0]])
                partial.clear()
                self.ready.extend(done)
            if rest:
                partial.append(rest)
        if partial:
            yield b"".join(partial)


def stdin_batches(size: int = 256) -> Iterator[list[str]]:
    """The lines of standard input in batches: each holds what has arrived (at most
    ``size`` lines), so a file or a busy pipe is predicted in batches as fast as a file
    given by name, and a line typed, or written by a program that waits for its answer,
    is answered at once.

    Lines are decoded by :func:`utf8_lines`: a byte that is not UTF-8 is a
    :class:`~danlu.errors.DataError` naming the line (``<stdin>:LINE``) and the byte; the
    lines before it still come as a batch first.
    """
    try:
        fd = sys.stdin.fileno()
    except (AttributeError, ValueError, io.UnsupportedOperation):  # replaced (tests)
        lines = iter(stdin_lines())
        step = 1 if stdin_is_terminal() else size
        while batch := list(islice(lines, step)):
            yield batch
        return
    arrived = _Arrived(fd)
    batch: list[str] = []
    try:
        for line in utf8_lines(arrived, "<stdin>"):
            batch.append(line)
            if len(batch) >= size or arrived.waiting():  # answer before waiting for more
                yield batch
                batch = []
    except DataError:
        if batch:  # the good lines before the bad one are answered first
            yield batch
        raise
    if batch:
        yield batch
