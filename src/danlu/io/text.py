"""Text lines from bytes, UTF-8 or one clear error (no torch import).

Files and standard input are read as bytes and decoded one line at a time, so a line that
is not UTF-8 (a GBK file, a stray Latin-1 byte) is reported with its line number and the
byte, instead of a traceback or a line of ``�``.

Example:
    >>> list(utf8_lines(io.BytesIO("你好\\nworld\\n".encode()), "<stdin>"))
    ['你好', 'world']
"""

from __future__ import annotations

import io
import sys
from collections.abc import Iterable, Iterator

from danlu.errors import DataError

__all__ = ["decode_utf8", "stdin_is_terminal", "stdin_lines", "utf8_lines"]


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
