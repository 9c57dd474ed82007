"""--resume: from the newest checkpoint that loads, and only with the run's options."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from danlu.data import TensorData
from danlu.errors import UsageError
from danlu.train.checkpoint import list_checkpoints, load_safetensors
from danlu.train.config import TrainConfig
from danlu.train.resume import RESUME_MAY_CHANGE, check_run_folder, config_changes
from danlu.train.trainer import Trainer


def data() -> TensorData:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(64, 5, generator=g)
    return TensorData(x, x @ torch.tensor([1.0, -2.0, 0.5, 0.0, 3.0]))


def mse(model: nn.Module, batch) -> torch.Tensor:
    x, y = batch
    return F.mse_loss(model(x).squeeze(-1), y)


def run(out: Path, hidden: int = 8, run_config: dict | None = None, **options) -> dict:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, hidden), nn.Tanh(), nn.Linear(hidden, 1))
    cfg = TrainConfig(**{"epochs": 4, "batch_size": 16, "quiet": True, "device": "cpu",
                         "checkpoint_every": 4, "keep_checkpoints": 4, **options})  # fmt: skip
    return Trainer(model, mse, data(), cfg, out, run_config=run_config).fit()


@pytest.fixture
def interrupted(tmp_path) -> Path:
    """A run folder holding checkpoints at steps 4, 8, 12 of a 16-step run."""
    full = tmp_path / "full"
    run(full)
    part = tmp_path / "part"
    (part / "checkpoints").mkdir(parents=True)
    for ckpt in list_checkpoints(full / "checkpoints")[:-1]:
        (part / "checkpoints" / ckpt.name).write_bytes(ckpt.read_bytes())
    return part


def test_a_truncated_newest_checkpoint_is_skipped_with_one_warning(tmp_path, interrupted,
                                                                   capsys) -> None:  # fmt: skip
    newest = interrupted / "checkpoints" / "step-00000012.pt"
    newest.write_bytes(newest.read_bytes()[:1000])
    run(interrupted, resume=True)
    err = capsys.readouterr().err.splitlines()
    assert err == [
        f"warning: {newest} is truncated (its end is missing: the write or copy was cut "
        "short); resuming from the older step-00000008.pt",
        f"resumed from {interrupted / 'checkpoints' / 'step-00000008.pt'} at step 8 of 16 "
        "(epoch 2, batch 4 of 4)",
    ]
    full, part = (load_safetensors(p / "model.safetensors") for p in (tmp_path / "full",
                                                                      interrupted))  # fmt: skip
    assert all(torch.equal(full[k], part[k]) for k in full)  # as if never interrupted


def test_no_usable_checkpoint_is_one_usage_error(interrupted) -> None:
    for ckpt in list_checkpoints(interrupted / "checkpoints"):
        ckpt.write_bytes(b"")
    with pytest.raises(
        UsageError,
        match=r"^--resume: no usable checkpoint in .*step-00000012\.pt "
        r"is empty; step-00000008\.pt is empty; step-00000004\.pt is empty",
    ):
        run(interrupted, resume=True)


def test_options_that_may_change_on_resume_are_accepted(interrupted, capsys) -> None:
    metrics = run(interrupted, resume=True, epochs=6, log_every=3, checkpoint_every=5,
                  keep_checkpoints=2, quiet=False, threads=1)  # fmt: skip
    assert metrics["steps"] == 24
    assert f"resumed from {interrupted / 'checkpoints' / 'step-00000012.pt'} at step 12 of 24" \
        in capsys.readouterr().err  # fmt: skip


def test_a_changed_engine_option_is_refused_naming_each_option(interrupted) -> None:
    with pytest.raises(UsageError) as err:
        run(interrupted, resume=True, lr=0.01, optimizer="sgd")
    message = str(err.value)
    assert message.startswith("--resume: options differ from the run in checkpoint ")
    assert "--lr (0.001 in the run, 0.01 now), --optimizer (adamw in the run, sgd now);" in message
    assert "may change only --epochs, --max-steps, --patience" in message
    assert message.endswith("pass the run's values, or --overwrite to start a new run")


def test_the_tasks_own_options_are_compared_when_it_passes_them(tmp_path) -> None:
    task = {"data": "wine.csv", "hidden": [8], "train": {"lr": 0.001, "epochs": 4}}
    run(tmp_path, run_config=task)
    changed = {**task, "hidden": [16], "train": {"lr": 0.001, "epochs": 9}}
    with pytest.raises(UsageError, match=r"from the run in checkpoint .*: --hidden \(8 in the "
                       r"run, 16 now\); a resumed run"):  # fmt: skip
        run(tmp_path, hidden=16, run_config=changed, resume=True)


def test_weights_that_do_not_fit_are_one_line_not_a_size_mismatch_traceback(interrupted) -> None:
    for ckpt in list_checkpoints(interrupted / "checkpoints"):  # as written by older versions
        state = torch.load(ckpt, weights_only=True)
        del state["config"]
        torch.save(state, ckpt)
    with pytest.raises(UsageError) as err:
        run(interrupted, hidden=16, resume=True)
    message = str(err.value)
    assert message.startswith("--resume: the model state in ")
    assert "does not fit this run (size mismatch for 0.weight: copying a param with shape " \
        "torch.Size([8, 5]) from checkpoint" in message  # fmt: skip
    assert message.endswith("resume with the run's data and options, or --overwrite to start a "
                            "new run") and "\n" not in message  # fmt: skip


def test_config_changes_ignore_what_may_change_and_what_one_side_lacks() -> None:
    saved = {"hidden": [64, 32], "dev": "", "amp": False, "train": {"epochs": 5, "lr": 0.1}}
    current = {"hidden": [], "dev": "d.txt", "amp": True, "new_option": 1,
               "train": {"epochs": 50, "lr": 0.1, "resume": True, "device": "cuda"}}  # fmt: skip
    assert config_changes(saved, current) == [
        "--hidden (64,32 in the run, '' now)", "--dev ('' in the run, d.txt now)",
        "--amp (off in the run, on now)",
    ]  # fmt: skip
    assert {"epochs", "max_steps", "device", "threads", "quiet", "out"} <= set(RESUME_MAY_CHANGE)


def test_check_run_folder_compares_with_config_json(tmp_path) -> None:
    check_run_folder(tmp_path, {"lr": 1})  # no config.json yet: nothing to compare
    (tmp_path / "config.json").write_text(json.dumps({"lr": 1, "epochs": 2}))
    check_run_folder(tmp_path, {"lr": 1, "epochs": 3})
    with pytest.raises(UsageError, match=r"in .*config\.json: --lr \(1 in the run, 2 now\)"):
        check_run_folder(tmp_path, {"lr": 2, "epochs": 2})
    (tmp_path / "config.json").write_text("{broken")
    with pytest.raises(UsageError, match=r"--resume: cannot read .*config\.json"):
        check_run_folder(tmp_path, {"lr": 1})
