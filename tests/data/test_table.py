"""CSV reading with file/line/column errors (danlu.data.table)."""

from __future__ import annotations

import numpy as np
import pytest

from danlu.data.table import read_csv
from danlu.errors import DataError, UsageError


def write(tmp_path, text: str | bytes, name: str = "t.csv"):
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_reads_numbers_and_skips_blank_lines(tmp_path) -> None:
    table = read_csv(write(tmp_path, "a,b,y\n1,2,3\n\n4,5.5,6\n"))
    assert table.columns == ["a", "b", "y"] and table.lines == [2, 4]
    np.testing.assert_array_equal(table.numeric([0, 1]), [[1.0, 2.0], [4.0, 5.5]])


def test_repeated_header_names(tmp_path) -> None:
    table = read_csv(write(tmp_path, "id,x,y,x,y\n1,2,3,4,5\n"))
    assert table.columns == ["id", "x", "y", "x.1", "y.1"]
    assert table.index_of("y", note=False) == 4  # a repeated name means its last copy
    assert table.index_of("x.1") == 3 and table.indices_of("x") == [1, 3]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a,b\n1,2\n3\n", "t.csv:3: expected 2 fields (as in the header), found 1"),
        ("a,b\n1,2\n3,4,5\n", "t.csv:3: expected 2 fields (as in the header), found 3"),
        ("a,b\n1,2\n3,abc\n", "t.csv:3: column 'b': non-numeric value 'abc'"),
        ("a,b\n1,\n", "t.csv:2: column 'b': empty value; valid: a number"),
        ("a,b\n1,nan\n", "t.csv:2: column 'b': value 'nan' is not a finite number"),
    ],
)
def test_malformed_rows_name_file_line_and_column(tmp_path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(DataError) as err:
        read_csv(path).numeric([0, 1])
    assert str(err.value).endswith(message.split(": ", 1)[1]) or message in str(err.value)
    assert str(path) in str(err.value)


def test_not_utf8_names_the_line(tmp_path) -> None:
    path = write(tmp_path, "a,b\n1,2\n3,\xe9t\xe9\n".encode("latin-1"))
    with pytest.raises(DataError, match=r"t\.csv:3: not UTF-8 text"):
        read_csv(path)


@pytest.mark.parametrize(
    ("text", "message"), [("", "the file is empty"), ("a,b\n", "no data rows")]
)
def test_empty_files(tmp_path, text: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        read_csv(write(tmp_path, text))


def test_unknown_column_lists_columns(tmp_path) -> None:
    table = read_csv(write(tmp_path, "a,b\n1,2\n"))
    with pytest.raises(UsageError, match="no column 'c'; columns are: a, b"):
        table.index_of("c")
