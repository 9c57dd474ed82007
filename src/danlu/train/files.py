"""Crash-safe file writes and safetensors files of numpy arrays (no torch import).

Every write goes to a temporary file beside the target, is flushed and fsync'ed, then
renamed over the final name, and the folder is fsync'ed: a crash at any moment leaves the
old file or the complete new one, never half a file.

safetensors metadata is stored as one JSON string under the key ``danlu`` with sorted
keys: the safetensors writer orders several metadata keys differently in every process,
and a resumed run must write a file byte-for-byte equal to an uninterrupted one.

Example:
    >>> arrays = {"w": np.zeros(3, np.float32)}
    >>> save_arrays("w.safetensors", arrays, {"format": "x"})  # doctest: +SKIP
    >>> read_safetensors_metadata("w.safetensors")  # doctest: +SKIP
    {'format': 'x'}
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any

import numpy as np

__all__ = [
    "atomic_write",
    "fsync_file",
    "load_arrays",
    "pack_metadata",
    "read_safetensors_metadata",
    "replacing",
    "save_arrays",
    "write_json",
]


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


def pack_metadata(metadata: Mapping[str, str] | None) -> dict[str, str] | None:
    """String metadata as safetensors stores it for danlu: ``{"danlu": sorted JSON}``."""
    if not metadata:
        return None
    return {"danlu": json.dumps(dict(metadata), sort_keys=True, ensure_ascii=False)}


def read_safetensors_metadata(path: str | Path) -> dict[str, str]:
    """The metadata of a safetensors file written by danlu (empty if there is none).

    Raises:
        ValueError: the file is not a safetensors file.
    """
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="numpy") as fh:
            raw = fh.metadata() or {}
    except Exception as exc:  # safetensors raises its own error types
        raise ValueError(f"{path}: not a safetensors file ({exc})") from None
    if "danlu" in raw:
        return dict(json.loads(raw["danlu"]))
    return dict(raw)


def save_arrays(
    path: str | Path, arrays: Mapping[str, np.ndarray], metadata: Mapping[str, str] | None = None
) -> Path:
    """Atomically write numpy arrays and string metadata to a safetensors file."""
    from safetensors.numpy import save_file

    flat = {name: np.ascontiguousarray(a) for name, a in arrays.items()}
    path = Path(path)
    with replacing(path) as tmp:
        save_file(flat, str(tmp), metadata=pack_metadata(metadata))
        fsync_file(tmp)
    return path


def load_arrays(path: str | Path) -> dict[str, np.ndarray]:
    """Read a safetensors file into a dict of numpy arrays."""
    from safetensors.numpy import load_file

    return load_file(str(path))
