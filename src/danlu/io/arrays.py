"""safetensors files of numpy arrays with string metadata (no torch import).

danlu's metadata is stored as one JSON string under the key ``danlu`` with sorted keys:
the safetensors writer orders several metadata keys differently in every process, and a
resumed run must write a file byte-for-byte equal to an uninterrupted one. Files are
written atomically (:func:`danlu.io.files.replacing`). Loading reads arrays and strings;
it executes nothing.

Example:
    >>> arrays = {"w": np.zeros(3, np.float32)}
    >>> save_arrays("w.safetensors", arrays, {"format": "x"})  # doctest: +SKIP
    >>> read_safetensors_metadata("w.safetensors")  # doctest: +SKIP
    {'format': 'x'}
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from danlu.io.files import fsync_file, replacing

__all__ = ["load_arrays", "pack_metadata", "read_safetensors_metadata", "save_arrays"]


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
    with replacing(path, sum(a.nbytes for a in flat.values())) as tmp:
        save_file(flat, str(tmp), metadata=pack_metadata(metadata))
        fsync_file(tmp)
    return path


def load_arrays(path: str | Path) -> dict[str, np.ndarray]:
    """Read a safetensors file into a dict of numpy arrays."""
    from safetensors.numpy import load_file

    return load_file(str(path))
