"""UTF-8 lines of files and standard input: a bad byte is named with its line."""

from __future__ import annotations

import io

import pytest

from danlu.errors import DataError
from danlu.io.text import decode_utf8, utf8_lines


def test_lines_are_decoded_one_by_one() -> None:
    raw = io.BytesIO("\ufeff第一行\r\nsecond\nlast".encode())
    assert list(utf8_lines(raw, "<stdin>")) == ["第一行", "second", "last"]


def test_a_bad_line_names_its_number_and_byte() -> None:
    raw = io.BytesIO("好\nok\n".encode() + "中国".encode("gbk") + b"\n")
    lines = utf8_lines(raw, "<stdin>")
    assert next(lines) == "好" and next(lines) == "ok"
    with pytest.raises(DataError, match=r"^<stdin>:3: not UTF-8 text \(byte 0xD6 at byte 1 of"):
        next(lines)


def test_a_whole_file_names_the_line_of_its_first_bad_byte() -> None:
    raw = b"a\nb\n" + b"xy\xe9z\n"
    with pytest.raises(DataError, match=r"^f\.txt:3: not UTF-8 text \(byte 0xE9 at byte 3 "):
        decode_utf8(raw, "f.txt")
