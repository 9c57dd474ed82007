"""UTF-8 lines of files and standard input: a bad byte is named with its line."""

from __future__ import annotations

import io
import os
import sys

import pytest

from danlu.errors import DataError
from danlu.io.text import decode_utf8, stdin_batches, utf8_lines


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


def test_stdin_batches_answer_what_has_arrived(monkeypatch) -> None:
    """A line whose writer waits for its answer is a batch of its own (the co-process case
    of ``test_fasttext_cli.test_predict_reads_stdin_line_by_line``); 5,000 lines waiting in
    a pipe come in batches of up to 4,096; a bad line further on comes after the good ones
    before it."""
    r, w = os.pipe()
    with os.fdopen(r, encoding="utf-8") as stdin:
        monkeypatch.setattr(sys, "stdin", stdin)
        os.write(w, b"one\n")
        batches = stdin_batches(4096)
        assert next(batches) == ["one"]  # nothing else has arrived: answered at once
        os.write(w, b"line\n" * 5000)  # 25 KB: within the pipe's buffer
        os.close(w)
        assert [len(b) for b in batches] == [4096, 904]
    r, w = os.pipe()
    with os.fdopen(r, encoding="utf-8") as stdin:
        monkeypatch.setattr(sys, "stdin", stdin)
        os.write(w, b"ok\n" * 3 + b"\xe9\n")
        os.close(w)
        batches = stdin_batches(4096)
        assert next(batches) == ["ok"] * 3
        with pytest.raises(DataError, match=r"^<stdin>:4: not UTF-8 text \(byte 0xE9"):
            next(batches)
