"""Crash-safe file writes: atomic replace, JSON (no torch import).

Every write goes to a temporary file beside the target, is flushed and fsync'ed, then
renamed over the final name, and the folder is fsync'ed: a crash at any moment leaves the
old file or the complete new one, never half a file.

Example:
    >>> write_json("run/config.json", {"lr": 0.1})  # doctest: +SKIP
    >>> atomic_write("run/notes.txt", lambda fh: fh.write(b"done"))  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

__all__ = ["atomic_write", "fsync_file", "replacing", "write_json"]


@contextlib.contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """Yield a temp path beside ``path``; on success rename it over ``path``, else delete it.

    The caller writes and fsyncs the temp file; the folder is fsynced after the rename.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    _fsync_dir(path.parent)


def atomic_write(path: str | Path, write: Callable[[IO[bytes]], None]) -> Path:
    """Write ``path`` via ``write(fileobj)`` on a temp file, fsync, then rename over it."""
    path = Path(path)
    with replacing(path) as tmp, open(tmp, "wb") as fh:
        write(fh)
        fh.flush()
        os.fsync(fh.fileno())
    return path


def fsync_file(path: Path) -> None:
    """Flush a written file to disk."""
    with open(path, "rb") as fh:
        os.fsync(fh.fileno())


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # e.g. platforms without directory fds
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_json(path: str | Path, obj: Any) -> Path:
    """Atomically write ``obj`` as pretty UTF-8 JSON."""
    data = (json.dumps(obj, indent=2, ensure_ascii=False, sort_keys=False) + "\n").encode()
    return atomic_write(path, lambda fh: fh.write(data))
