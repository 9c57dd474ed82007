"""Reading CSV tables with errors that name the file, line and column.

Example:
    >>> table = read_csv("covid.train.csv")                       # doctest: +SKIP
    >>> x = table.numeric(["cli", "ili"])                          # doctest: +SKIP
    >>> table.index_of("tested_positive")   # duplicated name: its last occurrence
"""

from __future__ import annotations

import csv
import math
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from danlu.errors import DataError, UsageError
from danlu.io.text import utf8_lines

__all__ = ["Table", "read_csv"]


@dataclass
class Table:
    """A CSV file held as strings, with the line number of every row.

    ``header`` is the file's header as written; ``columns`` makes repeated names unique
    the way pandas does (``cli``, ``cli.1``, ``cli.2``).
    """

    path: str
    header: list[str]
    columns: list[str]
    rows: list[list[str]]
    lines: list[int]  # 1-based line number of each row in the file
    # read_csv(defer_errors=True): the first broken line (rows holds the lines before it)
    error: DataError | None = None

    def check(self) -> None:
        """Raise the error of the first broken line, if reading stopped at one."""
        if self.error is not None:
            raise self.error

    def __len__(self) -> int:
        return len(self.rows)

    def index_of(self, name: str, *, note: bool = True) -> int:
        """Index of column ``name``: a unique name, a pandas-style ``name.N``, or a
        repeated header name, which means its *last* occurrence (targets come last)."""
        positions = [i for i, h in enumerate(self.header) if h == name]
        if len(positions) > 1:
            if note:
                print(
                    f"note: column {name!r} appears {len(positions)} times in {self.path}; "
                    f"using the last one (column {positions[-1] + 1}, also named "
                    f"{self.columns[positions[-1]]!r})",
                    file=sys.stderr,
                )
            return positions[-1]
        if name in self.columns:
            return self.columns.index(name)
        shown = ", ".join(self.columns[:12]) + (", ..." if len(self.columns) > 12 else "")
        raise UsageError(f"{self.path}: no column {name!r}; columns are: {shown}")

    def indices_of(self, name: str) -> list[int]:
        """Every column called ``name`` (all repeats), or the one unique ``name.N``."""
        positions = [i for i, h in enumerate(self.header) if h == name]
        return positions or [self.index_of(name)]

    def column(self, index: int) -> list[str]:
        """The strings of one column (after :meth:`check`)."""
        self.check()
        return [row[index] for row in self.rows]

    def numeric(self, indices: list[int]) -> np.ndarray:
        """The given columns as a float64 matrix ``(rows, len(indices))``.

        Raises:
            DataError: naming the line and column of the first value that is empty, not
                a number, or NaN/inf; else the broken line reading stopped at (it comes
                later in the file), so the first bad line is the one reported.
        """
        out = np.empty((len(self.rows), len(indices)), dtype=np.float64)
        for r, row in enumerate(self.rows):
            for c, j in enumerate(indices):
                out[r, c] = self._number(row[j], r, j)
        self.check()
        return out

    def _number(self, text: str, r: int, j: int) -> float:
        value = text.strip()
        try:
            x = float(value)
        except ValueError:
            what = "empty value" if not value else f"non-numeric value {value!r}"
            raise DataError(
                self.path,
                self.lines[r],
                f"{what}; valid: a number (fill missing values, or drop the column with "
                f"--drop {self.columns[j]})",
                column=self.columns[j],
            ) from None
        if not math.isfinite(x):
            raise DataError(
                self.path, self.lines[r], f"value {value!r} is not a finite number",
                column=self.columns[j],
            )  # fmt: skip
        return x


def _unique(header: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for name in header:
        if name in seen:
            seen[name] += 1
            out.append(f"{name}.{seen[name]}")
        else:
            seen[name] = 0
            out.append(name)
    return out


def _until_error(lines: Iterator[str], failed: list[DataError]) -> Iterator[str]:
    """``lines`` up to the first one that is not UTF-8, whose error goes into ``failed``."""
    try:
        yield from lines
    except DataError as exc:
        failed.append(exc)


def read_csv(path: str | Path, *, delimiter: str = ",", defer_errors: bool = False) -> Table:
    """Read a CSV file with a header row; blank lines are skipped.

    Args:
        defer_errors: instead of raising at a broken line (wrong number of fields, not
            UTF-8, malformed quoting), keep the rows before it and the error in
            ``Table.error``; :meth:`Table.numeric` then reports a bad value above it
            first. Callers that parse numbers pass True, so the first bad line is the one
            reported.

    Raises:
        UsageError: the file is missing or empty.
        DataError: a row has the wrong number of fields, or the file is not UTF-8
            (unless ``defer_errors``).
    """
    p = Path(path)
    if not p.is_file():
        raise UsageError(f"data file not found: {p}")
    header: list[str] | None = None
    rows: list[list[str]] = []
    lines: list[int] = []
    failed: list[DataError] = []
    with open(p, "rb") as fh:
        reader = csv.reader(_until_error(utf8_lines(fh, str(p), keep_ends=True), failed),
                            delimiter=delimiter)  # fmt: skip
        try:
            for fields in reader:
                line = reader.line_num
                if not fields or all(not f.strip() for f in fields):
                    continue
                if header is None:
                    header = [f.strip() for f in fields]
                    continue
                if len(fields) != len(header):
                    failed.append(DataError(
                        str(p), line,
                        f"expected {len(header)} fields (as in the header), found {len(fields)}",
                    ))  # fmt: skip
                    break
                rows.append(fields)
                lines.append(line)
        except csv.Error as exc:
            failed.append(DataError(str(p), reader.line_num, f"malformed CSV: {exc}"))
    error = failed[0] if failed else None
    if error is not None and (not defer_errors or header is None):
        raise error
    if header is None:
        raise UsageError(f"{p}: the file is empty; expected a header row and data rows")
    if not rows and error is None:
        raise UsageError(f"{p}: the file has a header but no data rows")
    return Table(str(p), header, _unique(header), rows, lines, error)
