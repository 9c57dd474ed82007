"""Claiming a run folder (``--out DIR``) for one training run (no torch import).

Before any data is read, a training command claims its folder:

- ``DIR`` must be a folder or not exist yet; a file there, or a file where one of its
  parent folders should be, is refused (:func:`check_output_folder`);
- a folder that holds an earlier run (any of :data:`RUN_FILES`, ``checkpoints/``,
  ``fold-*/``) is refused unless the run continues it (``--resume``) or replaces it
  (``--overwrite``, which first deletes what the earlier run wrote, and nothing else);
- one run at a time: the folder is locked (``fcntl.flock`` on ``DIR/.danlu.lock``, which
  holds the owner's PID) for as long as the run lasts; a second run on the same folder is
  refused, naming that PID. The lock goes with the process, so a killed run never leaves
  a stale one behind.

Every refusal is a :class:`~danlu.errors.UsageError`: one line, exit status 2.

Example:
    >>> with claim_run_folder("runs/a", resume=False, overwrite=False):  # doctest: +SKIP
    ...     train(...)  # writes runs/a/config.json, metrics.jsonl, ...
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from danlu.errors import UsageError

__all__ = [
    "LOCK_NAME",
    "RUN_FILES",
    "check_output_file",
    "check_output_folder",
    "claim_run_folder",
    "earlier_run",
]

# What a danlu run writes into its folder (files, then folders; fold-* are the folds of a
# cross-validation); --overwrite deletes these and nothing else.
RUN_FILES = ("config.json", "metrics.jsonl", "metrics.json", "model.safetensors",
             "curves.png", "inspect.png")  # fmt: skip
RUN_FOLDERS = ("checkpoints", "fold-*")
LOCK_NAME = ".danlu.lock"


def _first_file_on_the_way(path: Path) -> Path | None:
    """The first of ``path``'s parents (or ``path`` itself) that exists and is not a folder."""
    for part in (*reversed(path.parents), path):
        if part.exists() and not part.is_dir():
            return part
        if not part.exists():
            return None
    return None


def check_output_folder(path: str | Path, flag: str = "--out") -> Path:
    """``path`` as a folder a run can create or use, checked before any work is done.

    Raises:
        UsageError: ``path`` or one of its parents is a file.
    """
    p = Path(path)
    blocker = _first_file_on_the_way(p.absolute())
    if blocker is not None:
        where = "is a file" if blocker == p.absolute() else f"cannot be made: {blocker} is a file"
        raise UsageError(f"{flag} {path} {where}; {flag} names a folder for the run's files")
    return p


def check_output_file(path: str | Path, flag: str = "-output") -> Path:
    """``path`` as a file that can be written later (its folder creatable, itself no folder).

    Raises:
        UsageError: ``path`` is a folder, or one of its parent folders is a file.
    """
    p = Path(path)
    if p.is_dir():
        raise UsageError(f"{flag}: {path} is a folder; name a file to write")
    blocker = _first_file_on_the_way(p.absolute().parent)
    if blocker is not None:
        raise UsageError(f"{flag}: cannot write {path}: {blocker} is a file, not a folder")
    return p


def earlier_run(folder: Path) -> list[str]:
    """The names of what an earlier run wrote in ``folder`` (empty: none)."""
    if not folder.is_dir():
        return []
    found = [name for name in RUN_FILES if (folder / name).exists()]
    for pattern in RUN_FOLDERS:
        found += sorted(p.name + "/" for p in folder.glob(pattern) if p.is_dir())
    return found


def _clear(folder: Path) -> None:
    for name in RUN_FILES:
        (folder / name).unlink(missing_ok=True)
    for pattern in RUN_FOLDERS:
        for sub in folder.glob(pattern):
            if sub.is_dir():
                shutil.rmtree(sub)


@contextlib.contextmanager
def _locked(folder: Path, flag: str) -> Iterator[None]:
    import fcntl  # POSIX; see claim_run_folder for other systems

    fd = os.open(folder / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            raise UsageError(f"{folder} is in use by another danlu run (PID {holder}); wait "
                             f"for it to finish or choose another {flag}") from None  # fmt: skip
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock


@contextlib.contextmanager
def claim_run_folder(
    path: str | Path, *, resume: bool, overwrite: bool, main: bool = True, flag: str = "--out"
) -> Iterator[Path]:
    """Check, lock and prepare the run folder ``path`` for one run (module docstring).

    Args:
        resume: the run continues the one in the folder (``--resume``).
        overwrite: the run replaces the one in the folder (``--overwrite``).
        main: False in torchrun processes of rank > 0: they only check the path (rank 0
            holds the lock and writes the files).
        flag: how the user named the folder, for the messages (``-output`` for a model
            prefix's run folder).

    Raises:
        UsageError: the path cannot be a folder, holds another run, or is in use.
    """
    folder = check_output_folder(path, flag)
    if not main:
        yield folder
        return
    folder.mkdir(parents=True, exist_ok=True)
    lock = _locked(folder, flag) if hasattr(os, "pread") else contextlib.nullcontext()
    with lock:
        found = earlier_run(folder)
        if found and not resume:
            if not overwrite:
                shown = ", ".join(found[:4]) + (", ..." if len(found) > 4 else "")
                raise UsageError(f"{folder} already holds a run ({shown}); pass --resume to "
                                 "continue it, --overwrite to replace it, or choose another "
                                 f"{flag}")  # fmt: skip
            _clear(folder)
        yield folder
