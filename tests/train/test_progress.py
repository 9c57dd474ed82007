"""What a run shows while it trains when stderr is not a terminal: lines, with a label."""

from __future__ import annotations

import re

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import danlu.train.progress as progress
from danlu.data import TensorData
from danlu.train.config import TrainConfig
from danlu.train.progress import Progress, duration
from danlu.train.trainer import Trainer


def fit(tmp_path, **options) -> None:
    """4 steps in 2 epochs, labelled ``fold 2/5``."""
    torch.manual_seed(0)
    x = torch.randn(64, 5)
    cfg = TrainConfig(**{"epochs": 2, "batch_size": 32, "device": "cpu", **options})
    Trainer(nn.Linear(5, 1), lambda m, b: F.mse_loss(m(b[0]).squeeze(-1), b[1]),
            TensorData(x, x.sum(1)), cfg, tmp_path, evaluate=lambda m: {"val_loss": 0.5},
            label="fold 2/5").fit()  # fmt: skip


def test_lines_every_interval_with_step_epoch_loss_rate_and_eta(tmp_path, monkeypatch,
                                                                 capsys) -> None:  # fmt: skip
    monkeypatch.setattr(progress, "PROGRESS_SECONDS", 0.0)  # a line after every step
    fit(tmp_path)
    lines = capsys.readouterr().err.splitlines()
    number = r"[0-9.e+-]+"
    pattern = (rf"fold 2/5: step (\d)/4 \((\d+)%\) epoch (\d)/2 loss {number} \d+ samples/s "
               r"ETA \d+s")  # fmt: skip
    steps = [re.fullmatch(pattern, ln).groups() for ln in lines if "samples/s" in ln]
    assert steps == [("1", "25", "1"), ("2", "50", "1"), ("3", "75", "2"), ("4", "100", "2")]
    evals = [ln for ln in lines if "val_loss" in ln]
    assert evals == [
        "fold 2/5: step 2 epoch 1: val_loss 0.5",
        "fold 2/5: step 4 epoch 2: val_loss 0.5",
    ]


def test_no_progress_line_before_the_interval_and_none_when_quiet(tmp_path, capsys) -> None:
    fit(tmp_path / "a")  # far shorter than PROGRESS_SECONDS: evaluation lines only
    assert "samples/s" not in capsys.readouterr().err
    fit(tmp_path / "b", quiet=True)
    assert capsys.readouterr().err == ""


def test_notes_print_even_when_quiet_but_only_on_the_main_process(capsys) -> None:
    Progress("fold 1/3", quiet=True).note("resumed from x", warning=False)
    Progress("fold 1/3", quiet=True).note("x is empty", warning=True)
    Progress("", quiet=False, main=False).note("rank 1 says nothing")
    assert capsys.readouterr().err.splitlines() == [
        "fold 1/3: resumed from x", "warning: fold 1/3: x is empty",
    ]  # fmt: skip


@pytest.mark.parametrize(("seconds", "shown"), [(0, "0s"), (59.4, "59s"), (185, "3m05s"),
                                                (7620, "2h07m")])  # fmt: skip
def test_duration(seconds: float, shown: str) -> None:
    assert duration(seconds) == shown
