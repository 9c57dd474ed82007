"""Atomic files and safe checkpoint loading (danlu.train.checkpoint)."""

from __future__ import annotations

import pickle

import pytest
import torch

from danlu.errors import UsageError
from danlu.io import atomic_write
from danlu.train.checkpoint import (
    CHECKPOINT_FORMAT,
    CheckpointError,
    checkpoint_problem,
    latest_checkpoint,
    list_checkpoints,
    load_checkpoint,
    load_safetensors,
    newest_usable,
    read_checkpoint,
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


# ------------------------------------------------ unusable files where a checkpoint belongs
def danlu_state(step: int) -> dict:
    return {"format": CHECKPOINT_FORMAT, "step": step, "w": torch.full((64,), float(step))}


def test_a_truncated_empty_or_foreign_file_is_named_with_its_problem(tmp_path) -> None:
    good = save_checkpoint(tmp_path, 1, danlu_state(1))
    cut = tmp_path / "step-00000002.pt"
    cut.write_bytes(good.read_bytes()[:400])  # killed mid-copy: the zip directory is gone
    empty = tmp_path / "step-00000003.pt"
    empty.write_bytes(b"")
    plain = tmp_path / "step-00000004.pt"
    plain.write_bytes(pickle.dumps({"step": 4}))
    assert checkpoint_problem(good) is None
    assert checkpoint_problem(cut) == (
        "is truncated (its end is missing: the write or copy was cut short)"
    )
    assert checkpoint_problem(empty) == "is empty"
    for path in (cut, empty, plain):
        with pytest.raises(CheckpointError) as err:
            read_checkpoint(path)
        assert str(err.value).startswith(f"{path} is ")
    assert str(err.value) == (
        f"{plain} is not a danlu checkpoint; it will not be unpickled (unpickling can run code)"
    )
    assert latest_checkpoint(tmp_path) == good  # the query skips what cannot be a checkpoint


def test_a_torch_pickle_is_refused_without_advising_to_disable_the_safety(tmp_path, capsys) -> None:
    path = tmp_path / "step-00000001.pt"
    torch.save({"payload": Evil()}, path)
    assert checkpoint_problem(path) is None  # a zip like any torch.save file...
    with pytest.raises(CheckpointError) as err:
        read_checkpoint(path)  # ...refused by the safe loader, nothing run
    assert "is not a danlu checkpoint; it will not be unpickled" in str(err.value)
    assert "weights_only" not in str(err.value)
    assert "this must never run" not in capsys.readouterr().out
    torch.save({"w": torch.ones(2)}, path)  # tensors, but not written by danlu
    with pytest.raises(CheckpointError, match="is not a danlu checkpoint"):
        read_checkpoint(path)


def test_newest_usable_walks_back_to_the_newest_checkpoint_that_loads(tmp_path) -> None:
    for step in (10, 20, 30):
        save_checkpoint(tmp_path, step, danlu_state(step), keep=5)
    (tmp_path / "step-00000030.pt").write_bytes(b"")
    (tmp_path / "step-00000040.pt").write_bytes(pickle.dumps("not a checkpoint"))
    path, state, skipped = newest_usable(tmp_path)
    assert path.name == "step-00000020.pt" and state["step"] == 20
    assert [(e.path.name, e.problem.split(";")[0]) for e in skipped] == [
        ("step-00000040.pt", "is not a danlu checkpoint"),
        ("step-00000030.pt", "is empty"),
    ]


def test_newest_usable_with_nothing_usable_is_one_line(tmp_path) -> None:
    with pytest.raises(UsageError, match=r"^--resume: no checkpoint in .*--checkpoint-every N$"):
        newest_usable(tmp_path)
    (tmp_path / "step-00000005.pt").write_bytes(b"")
    (tmp_path / "step-00000009.pt").write_bytes(b"PK\x03\x04 and then nothing")
    with pytest.raises(UsageError) as err:
        newest_usable(tmp_path)
    message = str(err.value)
    assert "\n" not in message
    assert message == (
        f"--resume: no usable checkpoint in {tmp_path}: step-00000009.pt is truncated (its end "
        "is missing: the write or copy was cut short); step-00000005.pt is empty; start the "
        "run again with --overwrite (or put the run's own checkpoints back)"
    )
