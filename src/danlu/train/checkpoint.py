"""Crash-safe files: atomic writes, resumable checkpoints, safetensors weights.

Atomic writes and safetensors metadata come from :mod:`danlu.io` (no torch).
A checkpoint is one file ``checkpoints/step-00000123.pt`` holding only tensors and plain
containers (model and optimizer state, scheduler state, RNG states, step and data-order
position). It is written to a temporary file in the same folder, flushed, fsync'ed and
renamed over the final name, then the folder is fsync'ed: a crash at any moment leaves
either the previous checkpoints or the complete new one, never half a file. Loading uses
``torch.load(weights_only=True)``, which refuses to unpickle arbitrary objects.

A file can still be unusable where a checkpoint belongs (truncated by a copy that was cut
short, emptied by disk trouble, a pickle put there by hand). :func:`checkpoint_problem`
says so from the file's bytes without unpickling anything, :func:`read_checkpoint` loads a
checkpoint or raises :class:`CheckpointError` (one line: the file and what is wrong with
it), and :func:`newest_usable` walks back from the newest checkpoint to the first one
that loads: ``--resume`` continues from there.

Final weights go to ``model.safetensors`` (no code runs on load).

Example:
    >>> path, state, skipped = newest_usable("runs/a/checkpoints")  # doctest: +SKIP
    >>> skipped  # doctest: +SKIP
    [CheckpointError('runs/a/checkpoints/step-00000400.pt is truncated ...')]
"""

from __future__ import annotations

import pickle
import re
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from danlu.errors import UsageError
from danlu.io import atomic_write, fsync_file, pack_metadata, replacing

__all__ = [
    "CHECKPOINT_FORMAT",
    "CheckpointError",
    "checkpoint_problem",
    "latest_checkpoint",
    "list_checkpoints",
    "load_checkpoint",
    "load_safetensors",
    "newest_usable",
    "read_checkpoint",
    "save_checkpoint",
    "save_safetensors",
]

_NAME = re.compile(r"^step-(\d{8,})\.pt$")
CHECKPOINT_FORMAT = "danlu-checkpoint-1"  # the "format" entry of every checkpoint's dict
_NOT_DANLU = "is not a danlu checkpoint; it will not be unpickled (unpickling can run code)"
_ZIP_START = b"PK\x03\x04"  # torch.save writes a zip archive


class CheckpointError(UsageError):
    """A file where a checkpoint belongs cannot be used; the message names it and says why.

    Example:
        >>> str(CheckpointError(Path("c/step-00000010.pt"), "is empty"))
        'c/step-00000010.pt is empty'
    """

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"{path} {problem}")
        self.path, self.problem = path, problem


def save_safetensors(
    path: str | Path, tensors: Mapping[str, torch.Tensor], metadata: Mapping[str, str] | None = None
) -> Path:
    """Atomically write tensors (moved to CPU) and string metadata to a safetensors file.

    The metadata is packed by :func:`danlu.io.pack_metadata` (one sorted JSON
    key, so a resumed run writes a byte-identical file).
    """
    flat = {}
    seen: set[int] = set()
    for name, value in tensors.items():
        t = value.detach().to("cpu").contiguous()
        storage = t.untyped_storage()
        # safetensors refuses tensors that share storage (tied weights) or views of a
        # larger one; only those are copied, so saving a big model does not double memory
        if storage.data_ptr() in seen or storage.nbytes() != t.numel() * t.element_size():
            t = t.clone()
        seen.add(t.untyped_storage().data_ptr())
        flat[name] = t
    path = Path(path)
    with replacing(path) as tmp:
        # streamed to disk, no in-memory blob
        save_file(flat, str(tmp), metadata=pack_metadata(metadata))
        fsync_file(tmp)
    return path


def load_safetensors(
    path: str | Path, device: str | torch.device = "cpu"
) -> dict[str, torch.Tensor]:
    """Read a safetensors file into a dict of tensors."""
    return load_file(str(path), device=str(device))


def checkpoint_path(folder: str | Path, step: int) -> Path:
    return Path(folder) / f"step-{step:08d}.pt"


def tensor_bytes(obj: Any) -> int:
    """Bytes of the tensors in a nested state (dicts, lists, tuples): about what
    ``torch.save`` writes, for the message of a full disk."""
    if isinstance(obj, torch.Tensor):
        return obj.numel() * obj.element_size()
    if isinstance(obj, Mapping):
        return sum(tensor_bytes(v) for v in obj.values())
    if isinstance(obj, list | tuple):
        return sum(tensor_bytes(v) for v in obj)
    return 0


def save_checkpoint(folder: str | Path, step: int, state: Mapping[str, Any], keep: int = 2) -> Path:
    """Atomically write ``state`` as the checkpoint of ``step``; keep the ``keep`` newest.

    Raises:
        DiskFull: the disk filled up; the older checkpoints are untouched.
    """
    path = atomic_write(checkpoint_path(folder, step), lambda fh: torch.save(dict(state), fh),
                        size=tensor_bytes(state))  # fmt: skip
    for old in list_checkpoints(folder)[:-keep]:
        old.unlink(missing_ok=True)
    return path


def list_checkpoints(folder: str | Path) -> list[Path]:
    """Complete checkpoints in ``folder``, oldest first (temp files are ignored)."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    found = [p for p in folder.iterdir() if _NAME.match(p.name)]
    return sorted(found, key=lambda p: int(_NAME.match(p.name).group(1)))  # type: ignore[union-attr]


def latest_checkpoint(folder: str | Path) -> Path | None:
    """The newest checkpoint that looks complete (:func:`checkpoint_problem`), or ``None``."""
    found = [p for p in list_checkpoints(folder) if checkpoint_problem(p) is None]
    return found[-1] if found else None


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Load a checkpoint without unpickling arbitrary objects (torch's errors pass through;
    :func:`read_checkpoint` turns them into one line)."""
    return torch.load(path, map_location=map_location, weights_only=True)


def checkpoint_problem(path: str | Path) -> str | None:
    """What is wrong with the file ``path`` as a checkpoint, judged from its bytes without
    unpickling anything (it reads the zip directory at the end), or None if it looks complete.

    Example:
        >>> checkpoint_problem("runs/a/checkpoints/step-00000010.pt")  # doctest: +SKIP
        'is truncated (its end is missing: the write or copy was cut short)'
    """
    path = Path(path)
    try:
        if path.stat().st_size == 0:
            return "is empty"
        if not zipfile.is_zipfile(path):
            with open(path, "rb") as fh:
                start = fh.read(len(_ZIP_START))
            if start == _ZIP_START:
                return "is truncated (its end is missing: the write or copy was cut short)"
            return _NOT_DANLU
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (OSError, zipfile.BadZipFile) as exc:
        return f"cannot be read ({type(exc).__name__}: {exc})"
    if not any(name.endswith("/data.pkl") for name in names):
        return _NOT_DANLU
    return None


def read_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Load the danlu checkpoint ``path`` (nothing is unpickled but tensors and containers).

    Raises:
        CheckpointError: the file is empty, truncated, damaged, or not a danlu checkpoint
            (a pickle, another program's file); the message is one line naming it.

    Example:
        >>> state = read_checkpoint("runs/a/checkpoints/step-00000200.pt")  # doctest: +SKIP
        >>> state["train_state"]["step"]  # doctest: +SKIP
        200
    """
    path = Path(path)
    problem = checkpoint_problem(path)
    if problem is None:
        try:
            state = load_checkpoint(path, map_location)
        except torch.cuda.OutOfMemoryError:
            raise
        except pickle.UnpicklingError:  # weights_only refused an object (torch's text would
            problem = _NOT_DANLU  # advise turning that safety off)
        except (RuntimeError, EOFError, ValueError, KeyError, OSError, zipfile.BadZipFile) as exc:
            problem = f"is damaged ({type(exc).__name__} while loading it)"
        else:
            if isinstance(state, dict) and state.get("format") == CHECKPOINT_FORMAT:
                return state
            problem = _NOT_DANLU
    raise CheckpointError(path, problem)


def newest_usable(
    folder: str | Path, map_location: str | torch.device = "cpu"
) -> tuple[Path, dict[str, Any], list[CheckpointError]]:
    """The newest checkpoint in ``folder`` that loads, its state, and the errors of the newer
    files passed over (newest first) on the way back to it.

    Raises:
        UsageError: ``folder`` holds no checkpoint, or none of them loads (one line naming
            each file and its problem).
    """
    folder = Path(folder)
    skipped: list[CheckpointError] = []
    for path in reversed(list_checkpoints(folder)):
        try:
            return path, read_checkpoint(path, map_location), skipped
        except CheckpointError as exc:
            skipped.append(exc)
    if not skipped:
        raise UsageError(f"--resume: no checkpoint in {folder}; run once with --checkpoint-every N")
    problems = "; ".join(f"{e.path.name} {e.problem}" for e in skipped)
    raise UsageError(f"--resume: no usable checkpoint in {folder}: {problems}; start the run "
                     "again with --overwrite (or put the run's own checkpoints back)")  # fmt: skip
