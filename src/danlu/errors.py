"""Exceptions shared by every layer of danlu.

A :class:`UsageError` is raised for anything the *user* got wrong (a bad flag value,
a missing file, a malformed CSV row). The CLI turns it into one line on stderr and exit
status 2, with no traceback. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

__all__ = ["DataError", "DiskFull", "TrainingDiverged", "UsageError"]


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


class DiskFull(OSError):
    """A file could not be written because its disk is full (or over quota).

    The half-written file is gone and the file it was to replace is intact; the CLI prints
    the message on one line and exits with status 1.
    """

    def __init__(
        self, path: str, needed: int | None, free: int | None, at_least: int | None = None
    ) -> None:
        parts = [f"could not write {path}: no space left on its disk"]
        if needed is not None:
            parts.append(f"{_size(needed)} needed")
        elif at_least:
            parts.append(f"more than {_size(at_least)} needed")
        if free is not None:
            parts.append(f"{_size(free)} free")
        super().__init__(28, ", ".join(parts) + "; free some space and run again")
        self.path, self.needed, self.free = path, needed, free

    def __str__(self) -> str:
        return str(self.strerror)


def _size(n: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1000  # type: ignore[assignment]
    raise AssertionError("unreachable")
