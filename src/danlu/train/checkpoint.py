"""Crash-safe files: atomic writes, resumable checkpoints, safetensors weights.

A checkpoint is one file ``checkpoints/step-00000123.pt`` holding only tensors and plain
containers (model and optimizer state, scheduler state, RNG states, step and data-order
position). It is written to a temporary file in the same folder, flushed, fsync'ed and
renamed over the final name, then the folder is fsync'ed: a crash at any moment leaves
either the previous checkpoints or the complete new one, never half a file. Loading uses
``torch.load(weights_only=True)``, which refuses to unpickle arbitrary objects.

Final weights go to ``model.safetensors`` (no code runs on load).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any

import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

__all__ = [
    "atomic_write",
    "latest_checkpoint",
    "list_checkpoints",
    "load_checkpoint",
    "load_safetensors",
    "read_safetensors_metadata",
    "save_checkpoint",
    "save_safetensors",
    "write_json",
]

_NAME = re.compile(r"^step-(\d{8,})\.pt$")


@contextlib.contextmanager
def _replacing(path: Path) -> Iterator[Path]:
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
    with _replacing(path) as tmp, open(tmp, "wb") as fh:
        write(fh)
        fh.flush()
        os.fsync(fh.fileno())
    return path


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


def save_safetensors(
    path: str | Path, tensors: Mapping[str, torch.Tensor], metadata: Mapping[str, str] | None = None
) -> Path:
    """Atomically write tensors (moved to CPU) and string metadata to a safetensors file.

    The metadata is stored as one JSON string under the key ``danlu`` (sorted keys): the
    safetensors writer orders several metadata keys differently in every process, and a
    resumed run must write a file byte-for-byte equal to an uninterrupted one.
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
    packed = (
        {"danlu": json.dumps(dict(metadata), sort_keys=True, ensure_ascii=False)}
        if metadata
        else None
    )
    path = Path(path)
    with _replacing(path) as tmp:
        save_file(flat, str(tmp), metadata=packed)  # streamed to disk, no in-memory blob
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
    return path


def read_safetensors_metadata(path: str | Path) -> dict[str, str]:
    """The metadata written by :func:`save_safetensors` (empty if there is none).

    Raises:
        ValueError: the file is not a safetensors file.
    """
    try:
        with safe_open(str(path), framework="pt") as fh:
            raw = fh.metadata() or {}
    except Exception as exc:  # safetensors raises its own error types
        raise ValueError(f"{path}: not a safetensors file ({exc})") from None
    if "danlu" in raw:
        return dict(json.loads(raw["danlu"]))
    return dict(raw)


def load_safetensors(
    path: str | Path, device: str | torch.device = "cpu"
) -> dict[str, torch.Tensor]:
    """Read a safetensors file into a dict of tensors."""
    return load_file(str(path), device=str(device))


def checkpoint_path(folder: str | Path, step: int) -> Path:
    return Path(folder) / f"step-{step:08d}.pt"


def save_checkpoint(folder: str | Path, step: int, state: Mapping[str, Any], keep: int = 2) -> Path:
    """Atomically write ``state`` as the checkpoint of ``step``; keep the ``keep`` newest."""
    path = atomic_write(checkpoint_path(folder, step), lambda fh: torch.save(dict(state), fh))
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
    """The newest complete checkpoint, or ``None``."""
    found = list_checkpoints(folder)
    return found[-1] if found else None


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Load a checkpoint without unpickling arbitrary objects."""
    return torch.load(path, map_location=map_location, weights_only=True)
