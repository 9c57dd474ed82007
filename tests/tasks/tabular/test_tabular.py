"""``danlu tabular train|predict`` on the shipped Wine sample and on the course's COVID data."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import torch
from tests.conftest import run_danlu

from danlu.errors import DataError
from danlu.tasks.demo import sample_path
from danlu.tasks.tabular.config import TabularPredictConfig, TabularTrainConfig
from danlu.tasks.tabular.model import load_model
from danlu.tasks.tabular.predict import predict_tabular
from danlu.tasks.tabular.train import load_tabular, train_tabular
from danlu.train.config import TrainConfig

WINE = str(sample_path("wine.csv"))
RUN_FILES = ("config.json", "metrics.jsonl", "metrics.json", "model.safetensors", "curves.png")


def quick(**train) -> TrainConfig:
    return TrainConfig(**{"epochs": 40, "batch_size": 16, "lr": 3e-3, "quiet": True,
                          "device": "cpu", "early_stop_metric": "val_loss", **train})  # fmt: skip


def test_classification_on_wine_writes_a_complete_run(tmp_path) -> None:
    cfg = TabularTrainConfig(data=WINE, target="cultivar", task="classification", hidden=(16,),
                             out=str(tmp_path), train=quick())  # fmt: skip
    metrics = train_tabular(cfg)
    assert metrics["task"] == "classification" and metrics["val_accuracy"] >= 0.9
    for name in RUN_FILES:
        assert (tmp_path / name).is_file(), name
    saved = json.loads((tmp_path / "config.json").read_text())
    assert saved["hidden"] == [16] and saved["train"]["epochs"] == 40
    model = load_model(tmp_path)
    assert model.spec.classes == ("1", "2", "3") and len(model.spec.features) == 13


def test_logistic_regression_is_one_linear_layer(tmp_path) -> None:
    cfg = TabularTrainConfig(data=WINE, target="cultivar", task="classification", hidden=(),
                             out=str(tmp_path), train=quick())  # fmt: skip
    assert train_tabular(cfg)["val_accuracy"] >= 0.9
    linear = [m for m in load_model(tmp_path).modules() if isinstance(m, torch.nn.Linear)]
    assert len(linear) == 1 and linear[0].weight.shape == (3, 13)


def test_l1_drives_weights_to_zero(tmp_path) -> None:
    def weights(l1: float) -> torch.Tensor:
        out = tmp_path / f"l1-{l1}"
        cfg = TabularTrainConfig(data=WINE, target="alcohol", hidden=(), l1=l1, out=str(out),
                                 train=quick(epochs=30))  # fmt: skip
        train_tabular(cfg)
        return load_model(out).mlp.layers[0].weight.detach().abs()

    sparse, dense = weights(0.05), weights(0.0)
    assert int((sparse < 0.01).sum()) >= 4 > int((dense < 0.01).sum())  # L1 zeroes features
    assert float(sparse.sum()) < float(dense.sum())


def test_kfold_reports_mean_and_std_and_refits(tmp_path) -> None:
    cfg = TabularTrainConfig(data=WINE, target="alcohol", hidden=(8,), folds=3, out=str(tmp_path),
                             train=quick(epochs=15))  # fmt: skip
    metrics = train_tabular(cfg)
    on_disk = json.loads((tmp_path / "metrics.json").read_text())
    assert on_disk["folds"] == 3 and len(on_disk["per_fold"]) == 3
    values = [f["val_mse"] for f in on_disk["per_fold"]]
    assert on_disk["cv_val_mse_mean"] == pytest.approx(sum(values) / 3)
    assert on_disk["cv_val_mse_std"] > 0 and metrics["refit_steps"] >= 1
    for k in (1, 2, 3):
        assert (tmp_path / f"fold-{k}" / "model.safetensors").is_file()
    for name in RUN_FILES:
        assert (tmp_path / name).is_file(), name


def test_predict_writes_csv_and_scores_a_labelled_file(tmp_path) -> None:
    run = tmp_path / "run"
    train_tabular(TabularTrainConfig(data=WINE, target="cultivar", task="classification",
                                     hidden=(16,), out=str(run), train=quick()))  # fmt: skip
    preds = tmp_path / "preds.csv"
    result = predict_tabular(TabularPredictConfig(model=str(run), data=WINE, out=str(preds)))
    rows = list(csv.DictReader(preds.open()))
    assert len(rows) == 178 == result["rows"]
    assert set(rows[0]) == {"cultivar", "prediction", "p_1", "p_2", "p_3"}
    assert all(abs(sum(float(r[f"p_{c}"]) for c in "123") - 1) < 1e-4 for r in rows)
    assert result["accuracy"] >= 0.9


def test_malformed_csv_via_cli_names_file_line_and_column(tmp_path) -> None:
    bad = tmp_path / "bad.csv"
    lines = Path(WINE).read_text().splitlines()
    lines[5] = lines[5].replace("2.43", "two", 1) if "2.43" in lines[5] else "x" + lines[5][1:]
    bad.write_text("\n".join(lines) + "\n")
    proc = run_danlu("tabular", "train", "--data", str(bad), "--target", "cultivar",
                     "--out", str(tmp_path / "run"), "--epochs", "1")  # fmt: skip
    assert proc.returncode == 2
    assert f"{bad}:6: column " in proc.stderr and "non-numeric value" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_config_file_drives_the_cli(tmp_path) -> None:
    conf = tmp_path / "run.toml"
    conf.write_text(f'data = "{WINE}"\ntarget = "cultivar"\ntask = "classification"\n'
                    'hidden = [8]\nepochs = 3\n')  # fmt: skip
    out = tmp_path / "run"
    proc = run_danlu("--version")
    assert proc.returncode == 0
    proc = run_danlu("tabular", "train", "--config", str(conf), "--epochs", "2", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("config: ")
    saved = json.loads((out / "config.json").read_text())
    assert saved["hidden"] == [8] and saved["train"]["epochs"] == 2  # the flag overrides the file
    assert json.loads((out / "metrics.json").read_text())["epochs"] == 2


def test_nan_via_cli_stops_with_status_1(tmp_path) -> None:
    proc = run_danlu("tabular", "train", "--data", WINE, "--target", "proline", "--lr", "1e30",
                     "--optimizer", "sgd", "--epochs", "5", "--checkpoint-every", "1",
                     "--out", str(tmp_path), "--quiet")  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    assert "training stopped: loss became" in proc.stderr and "at step" in proc.stderr
    assert "last good checkpoint" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "model.safetensors").exists()


@pytest.mark.slow
def test_covid_five_fold_cv_mse_is_below_one(shared_data: Path, tmp_path) -> None:
    """The course's HW1 data: 5-fold CV MSE of the README's command stays under 1.0."""
    cfg = TabularTrainConfig(
        data=str(shared_data / "covid-hw1" / "covid.train.csv"),
        target="tested_positive",
        drop=("id",),
        folds=5,
        hidden=(512, 128),
        out=str(tmp_path),
        train=TrainConfig(
            epochs=300,
            batch_size=64,
            lr=1e-3,
            weight_decay=0.05,
            patience=50,
            early_stop_metric="val_loss",
            quiet=True,
            device="cpu",
        ),
    )
    metrics = train_tabular(cfg)
    assert metrics["rows"] == 2699 and len(metrics["per_fold"]) == 5
    assert metrics["cv_val_mse_mean"] < 1.0
    # the refit model predicts the training file about as well as the folds did on held-out rows
    result = predict_tabular(TabularPredictConfig(model=str(tmp_path), data=cfg.data,
                                                  out=str(tmp_path / "p.csv")))  # fmt: skip
    assert result["mse"] < 1.0


@pytest.mark.parametrize(
    ("below", "task"),
    [("7,8\n", "auto"), ("7,8,9,10\n", "regression"), (b"7,\xe9t\xe9,9\n", "auto")],
)
def test_the_first_bad_line_is_reported(tmp_path, below, task) -> None:
    """A bad value on line 3 is reported before a broken line (fields, encoding) below it."""
    text = "a,b,y\n1,2,3\n4,oops,6\n1,2,3\n"
    path = tmp_path / "t.csv"
    path.write_bytes(text.encode() + (below if isinstance(below, bytes) else below.encode()))
    cfg = TabularTrainConfig(data=str(path), target="y", task=task, out=str(tmp_path / "run"))
    with pytest.raises(DataError, match=r"t\.csv:3: column 'b': non-numeric value 'oops'"):
        load_tabular(cfg)
