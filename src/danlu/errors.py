"""Exceptions shared by every layer of danlu.

A :class:`UsageError` is raised for anything the *user* got wrong (a bad flag value,
a missing file, a malformed CSV row). The CLI turns it into one line on stderr and exit
status 2, with no traceback. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

__all__ = ["DataError", "TrainingDiverged", "UsageError"]


class UsageError(Exception):
    """The user asked for something invalid; the message says what, and what is valid."""


class DataError(UsageError):
    """A data file is malformed. The message names the file, line and column."""

    def __init__(
        self, path: str, line: int | None, message: str, column: str | None = None
    ) -> None:
        where = str(path) if line is None else f"{path}:{line}"
        if column is not None:
            where += f": column {column!r}"
        super().__init__(f"{where}: {message}")
        self.path = str(path)
        self.line = line
        self.column = column


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite; training stopped before any bad weights were saved."""
