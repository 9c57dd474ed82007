"""--threads: torch's CPU threads, from the flag, else $OMP_NUM_THREADS, else torch's own."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from danlu.data import TensorData
from danlu.errors import UsageError
from danlu.train.config import TrainConfig
from danlu.train.device import use_threads
from danlu.train.trainer import Trainer


@pytest.fixture(autouse=True)
def one_thread_afterwards(monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    yield
    torch.set_num_threads(1)  # what conftest gives every test


def test_a_positive_count_is_used_as_given() -> None:
    assert use_threads(2) == 2 and torch.get_num_threads() == 2


@pytest.mark.parametrize(("env", "threads"), [("3", 3), ("2,1", 2), (" 1 ", 1)])
def test_zero_means_omp_num_threads(monkeypatch, env: str, threads: int) -> None:
    monkeypatch.setenv("OMP_NUM_THREADS", env)
    assert use_threads(0) == threads and torch.get_num_threads() == threads


def test_zero_without_omp_num_threads_leaves_torch_as_it_is() -> None:
    torch.set_num_threads(2)
    assert use_threads(0) == 2 and torch.get_num_threads() == 2


@pytest.mark.parametrize("env", ["many", "0", "-1"])
def test_a_bad_omp_num_threads_names_the_value_and_the_fix(monkeypatch, env: str) -> None:
    monkeypatch.setenv("OMP_NUM_THREADS", env)
    with pytest.raises(UsageError, match=rf"OMP_NUM_THREADS='{env}' is not a positive number of "
                       "threads; set it to e.g. 2, unset it, or pass --threads N"):  # fmt: skip
        use_threads(0)


def test_negative_threads_are_refused_by_the_config() -> None:
    with pytest.raises(UsageError, match="--threads must be >= 0, got -1"):
        TrainConfig(threads=-1)


def test_the_trainer_sets_the_threads(tmp_path) -> None:
    x = torch.randn(8, 2)
    cfg = TrainConfig(epochs=1, device="cpu", quiet=True, threads=2)
    Trainer(nn.Linear(2, 1), lambda m, b: F.mse_loss(m(b[0]).squeeze(-1), b[1]),
            TensorData(x, x.sum(1)), cfg, tmp_path)  # fmt: skip
    assert torch.get_num_threads() == 2
