"""A task's model file: ``RUN_DIR/model.safetensors`` and the spec in its metadata (no torch).

Each torch task stores what rebuilds its model as a frozen dataclass in the file's string
metadata (:func:`danlu.io.to_metadata`) beside ``danlu_task: <task>``. These two functions
find that file and read the spec back, refusing a file of another task by its name.

Example:
    >>> path = find_model_file("runs/mnist", "danlu vision train")  # doctest: +SKIP
    >>> spec = read_spec(path, VisionSpec, "vision", "danlu vision train")  # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

from danlu.errors import UsageError
from danlu.io import from_metadata, read_safetensors_metadata

__all__ = ["find_model_file", "read_spec"]

S = TypeVar("S")


def find_model_file(run_dir: str | Path, writer: str) -> Path:
    """``run_dir/model.safetensors``, or ``run_dir`` itself when it names a ``.safetensors``
    file; ``writer`` is the command that writes it, for the message.

    Raises:
        UsageError: the file does not exist.
    """
    path = Path(run_dir)
    if path.is_dir() or not path.name.endswith(".safetensors"):
        path = path / "model.safetensors"
    if not path.is_file():
        raise UsageError(f"no model found: {path} does not exist (pass a run folder written "
                         f"by {writer})")  # fmt: skip
    return path


def read_spec(path: Path, cls: type[S], task: str, writer: str) -> S:
    """The ``cls`` spec in the metadata of ``path``, a file whose ``danlu_task`` is ``task``.

    Raises:
        UsageError: not a safetensors file, a file of another task (named) or of none, or a
            spec field that is missing or does not parse (named).
    """
    try:
        meta = read_safetensors_metadata(path)
        if meta.get("danlu_task") != task:
            what = meta.get("danlu_task") or meta.get("format")
            kind = f"a danlu {what!r} model" if what else "a file without danlu_task metadata"
            raise UsageError(f"{path}: this is {kind}, not a {task} model; pass a run folder "
                             f"written by {writer}")  # fmt: skip
        return from_metadata(cls, meta, source=str(path))
    except ValueError as exc:  # not safetensors, or a field that does not parse
        raise UsageError(str(exc)) from None
