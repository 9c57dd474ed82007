"""Crash-safe files: atomic writes, resumable checkpoints, safetensors weights.

Atomic writes and safetensors metadata come from :mod:`danlu.io` (no torch).
A checkpoint is one file ``checkpoints/step-00000123.pt`` holding only tensors and plain
containers (model and optimizer state, scheduler state, RNG states, step and data-order
position). It is written to a temporary file in the same folder, flushed, fsync'ed and
renamed over the final name, then the folder is fsync'ed: a crash at any moment leaves
either the previous checkpoints or the complete new one, never half a file. Loading uses
``torch.load(weights_only=True)``, which refuses to unpickle arbitrary objects.

Final weights go to ``model.safetensors`` (no code runs on load).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from danlu.io import atomic_write, fsync_file, pack_metadata, replacing

__all__ = [
    "latest_checkpoint",
    "list_checkpoints",
    "load_checkpoint",
    "load_safetensors",
    "save_checkpoint",
    "save_safetensors",
]

_NAME = re.compile(r"^step-(\d{8,})\.pt$")


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
