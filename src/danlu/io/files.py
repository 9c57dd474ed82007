"""Crash-safe file writes: atomic replace, JSON (no torch import).

Every write goes to a temporary file beside the target, is flushed and fsync'ed, then
renamed over the final name, and the folder is fsync'ed: a crash at any moment leaves the
old file or the complete new one, never half a file. A full disk raises
:class:`danlu.errors.DiskFull` (what could not be written, the space needed and free)
after the temporary file is deleted. Written files get the usual permissions (0666 less
the umask), whatever the writer (safetensors creates its files 0600).

Example:
    >>> write_json("run/config.json", {"lr": 0.1})  # doctest: +SKIP
    >>> atomic_write("run/notes.txt", lambda fh: fh.write(b"done"))  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from danlu.errors import DiskFull

__all__ = ["atomic_write", "disk_full", "fsync_file", "is_disk_full", "replacing", "write_json"]


def _read_umask() -> int:
    mask = os.umask(0)  # the only portable way to read it is to set it
    os.umask(mask)
    return mask


_FILE_MODE = 0o666 & ~_read_umask()


def is_disk_full(exc: BaseException | None) -> bool:
    """Whether ``exc``, or an exception it was raised from, says the disk is full: ENOSPC or
    EDQUOT, or a writer's own error whose text carries it (safetensors reports
    ``Os { code: 28, ... }``; torch.save's zip writer raises a RuntimeError from the
    OSError)."""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        text = str(exc)
        if "No space left on device" in text or "code: 28," in text:
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


def disk_full(path: Path, needed: int | None = None, at_least: int | None = None) -> DiskFull:
    """The :class:`DiskFull` error for ``path``, with the space free where it was going;
    ``needed``: the size to write if known, else ``at_least``: what was written before the
    disk filled up."""
    try:
        free: int | None = shutil.disk_usage(path.parent).free
    except OSError:
        free = None
    return DiskFull(str(path), needed, free, at_least=at_least)


@contextlib.contextmanager
def replacing(path: Path, size: int | None = None) -> Iterator[Path]:
    """Yield a temp path beside ``path``; on success rename it over ``path``, else delete it.

    The caller writes and fsyncs the temp file; the folder is fsynced after the rename.
    ``size`` (bytes, if known) goes into the message of a full disk.

    Raises:
        DiskFull: the disk filled up while writing; ``path`` is left as it was.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        yield tmp
        os.chmod(tmp, _FILE_MODE)
        os.replace(tmp, path)
    except Exception as exc:
        if is_disk_full(exc):
            written = tmp.stat().st_size if tmp.exists() else 0
            tmp.unlink(missing_ok=True)  # first: the space it took counts as free
            raise disk_full(path, size, at_least=written if size is None else None) from None
        raise
    finally:
        if tmp.exists():
            tmp.unlink()
    _fsync_dir(path.parent)


def atomic_write(
    path: str | Path, write: Callable[[IO[bytes]], None], size: int | None = None
) -> Path:
    """Write ``path`` via ``write(fileobj)`` on a temp file, fsync, then rename over it.

    ``size``: the bytes it will take, if known (for the message of a full disk).
    """
    path = Path(path)
    with replacing(path, size) as tmp, open(tmp, "wb") as fh:
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
    return atomic_write(path, lambda fh: fh.write(data), len(data))
