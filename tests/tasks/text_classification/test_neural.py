"""``danlu supervised -model textcnn``: the learning rate given is the one used, and the
same seed gives the same network."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from danlu.cli import main
from danlu.tasks.text_classification.config import SupervisedConfig


def _train(data: Path, prefix: Path, *extra: str) -> Path:
    # -batch 8: 25 steps an epoch, so the Trainer logs the learning rate (every 10 steps)
    assert main(["supervised", "-input", str(data), "-output", str(prefix), "-model",
                 "textcnn", "-dim", "8", "-epoch", "1", "-batch", "8", "-thread", "1",
                 "-verbose", "0", *extra]) == 0  # fmt: skip
    return Path(f"{prefix}.safetensors")


def _logged_lrs(prefix: Path) -> set[float]:
    lines = Path(f"{prefix}.run/metrics.jsonl").read_text(encoding="utf-8").splitlines()
    return {row["lr"] for row in map(json.loads, lines) if "lr" in row}


def test_the_learning_rate_defaults_by_model() -> None:
    assert SupervisedConfig(input="t", output="m").lr == 0.1
    assert SupervisedConfig(input="t", output="m", model="textcnn").lr == 1e-3
    # what is given is kept, whatever the model: 0.1 is not read as "not given"
    assert SupervisedConfig(input="t", output="m", model="textcnn", lr=0.1).lr == 0.1


@pytest.mark.parametrize(("given", "used"), [((), 1e-3), (("-lr", "0.1"), 0.1)])
def test_a_network_trains_at_the_learning_rate_given(toy_data, tmp_path, given, used) -> None:
    prefix = tmp_path / "cnn"
    _train(toy_data, prefix, *given)
    assert _logged_lrs(prefix) == {used}


def test_the_same_seed_gives_the_same_network(toy_data, tmp_path) -> None:
    from danlu.train.checkpoint import load_safetensors

    runs = [load_safetensors(_train(toy_data, tmp_path / f"run{i}", "-seed", seed))
            for i, seed in enumerate(("1", "1", "2"))]  # fmt: skip
    assert runs[0].keys() == runs[1].keys()
    assert all(runs[0][k].equal(runs[1][k]) for k in runs[0])
    assert not all(runs[0][k].equal(runs[2][k]) for k in runs[0])


def test_a_network_refuses_a_fasttext_only_loss_before_reading_data(tmp_path, capsys) -> None:
    args = ["supervised", "-input", str(tmp_path / "missing.txt"), "-output",
            str(tmp_path / "m"), "-model", "textrnn", "-loss", "hs"]  # fmt: skip
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "-model textrnn trains with -loss softmax, ova or zlpr, not hs" in err
