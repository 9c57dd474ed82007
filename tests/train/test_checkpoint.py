"""Atomic files and safe checkpoint loading (danlu.train.checkpoint)."""

from __future__ import annotations

import pickle

import pytest
import torch

from danlu.io import atomic_write
from danlu.train.checkpoint import (
    latest_checkpoint,
    list_checkpoints,
    load_checkpoint,
    load_safetensors,
    save_checkpoint,
    save_safetensors,
)


def test_atomic_write_keeps_the_old_file_when_writing_fails(tmp_path) -> None:
    path = tmp_path / "file.bin"
    atomic_write(path, lambda fh: fh.write(b"old"))

    def crash(fh) -> None:
        fh.write(b"half-written")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(path, crash)
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["file.bin"]  # no temp file left behind


def test_checkpoints_are_listed_in_step_order_and_pruned(tmp_path) -> None:
    for step in (5, 10, 15, 20):
        save_checkpoint(tmp_path, step, {"step": step, "w": torch.full((2,), float(step))}, keep=2)
    (tmp_path / ".step-00000025.pt.tmp-123").write_bytes(b"torn")  # a crash mid-write
    assert [p.name for p in list_checkpoints(tmp_path)] == ["step-00000015.pt", "step-00000020.pt"]
    latest = latest_checkpoint(tmp_path)
    assert latest is not None
    state = load_checkpoint(latest)
    assert state["step"] == 20 and torch.equal(state["w"], torch.full((2,), 20.0))


class Evil:
    def __reduce__(self):
        return (print, ("this must never run",))


def test_loading_refuses_pickled_objects(tmp_path) -> None:
    path = tmp_path / "step-00000001.pt"
    torch.save({"payload": Evil()}, path)
    with pytest.raises(pickle.UnpicklingError):
        load_checkpoint(path)


def test_safetensors_round_trip_with_metadata_and_tied_weights(tmp_path) -> None:
    w = torch.randn(3, 4)
    tensors = {"a.weight": w, "b.weight": w, "bias": torch.arange(3.0)}  # a and b share storage
    save_safetensors(tmp_path / "m.safetensors", tensors, {"task": "demo"})
    loaded = load_safetensors(tmp_path / "m.safetensors")
    assert set(loaded) == set(tensors)
    assert all(torch.equal(loaded[k], tensors[k]) for k in tensors)


def test_safetensors_accepts_views_of_a_larger_tensor(tmp_path) -> None:
    table = torch.randn(6, 3)
    tensors = {"head": table[:2], "tail": table[4:], "col": table[:, 1]}  # views, one strided
    save_safetensors(tmp_path / "v.safetensors", tensors)
    loaded = load_safetensors(tmp_path / "v.safetensors")
    assert all(torch.equal(loaded[k], tensors[k]) for k in tensors)
