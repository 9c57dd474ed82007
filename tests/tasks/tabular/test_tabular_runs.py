"""Tabular runs: old model files, reproducibility, resuming a cross-validation, patience."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.conftest import REPO, run_danlu

from danlu.errors import UsageError
from danlu.tasks.demo import sample_path
from danlu.tasks.tabular.config import TabularPredictConfig, TabularTrainConfig
from danlu.tasks.tabular.predict import predict_tabular
from danlu.tasks.tabular.train import train_tabular
from danlu.train.checkpoint import load_safetensors
from danlu.train.config import TrainConfig

WINE = str(sample_path("wine.csv"))
FIXTURES = REPO / "tests" / "fixtures" / "models_v0"


def quick(**train) -> TrainConfig:
    return TrainConfig(**{"epochs": 3, "batch_size": 16, "lr": 3e-3, "quiet": True,
                          "device": "cpu", **train})  # fmt: skip


@pytest.mark.parametrize("name", ["tabular", "tabular_cls"])
def test_model_files_written_before_the_restructuring_predict_the_same(tmp_path, name) -> None:
    """Files of danlu 91c2458 (metadata written by hand then) load and predict as then."""
    out = tmp_path / "pred.csv"
    cfg = TabularPredictConfig(model=str(FIXTURES / f"{name}.safetensors"),
                               data=str(FIXTURES / "wine_probe.csv"), out=str(out),
                               device="cpu")  # fmt: skip
    predict_tabular(cfg)
    expected = (FIXTURES / f"{name}_expected.csv").read_text(encoding="utf-8")
    assert out.read_text(encoding="utf-8") == expected


def test_same_seed_same_weights(tmp_path) -> None:
    def weights(run: str, seed: int) -> dict:
        cfg = TabularTrainConfig(data=WINE, target="cultivar", hidden=(8,), out=str(tmp_path / run),
                                 train=quick(seed=seed))  # fmt: skip
        train_tabular(cfg)
        return load_safetensors(tmp_path / run / "model.safetensors")

    a, b, c = weights("a", 1), weights("b", 1), weights("c", 2)
    assert all((a[k] == b[k]).all() for k in a)
    assert any((a[k] != c[k]).any() for k in a if a[k].is_floating_point())


def test_patience_without_validation_data_names_the_fix(tmp_path) -> None:
    cfg = TabularTrainConfig(data=WINE, target="alcohol", val_fraction=0.0, out=str(tmp_path),
                             train=quick(early_stop_metric="val_loss", patience=2))  # fmt: skip
    with pytest.raises(UsageError, match="--patience needs validation data: set --val-fraction"):
        train_tabular(cfg)


def cv(out: Path, **train) -> TabularTrainConfig:
    return TabularTrainConfig(data=WINE, target="alcohol", hidden=(4,), folds=2, out=str(out),
                              train=quick(early_stop_metric="val_loss", **train))  # fmt: skip


def test_resuming_a_cross_validation_skips_finished_folds(tmp_path) -> None:
    first = train_tabular(cv(tmp_path, checkpoint_every=5))
    fold = tmp_path / "fold-2" / "metrics.json"
    before = fold.stat().st_mtime_ns
    again = train_tabular(cv(tmp_path, checkpoint_every=5, resume=True))
    assert fold.stat().st_mtime_ns == before  # finished folds are read, not trained again
    assert again["per_fold"] == first["per_fold"]


def test_resume_with_nothing_to_resume_is_refused(tmp_path) -> None:
    with pytest.raises(UsageError, match="--resume: nothing to resume"):
        train_tabular(cv(tmp_path / "cv", resume=True))
    with pytest.raises(UsageError, match="--resume: no checkpoint in"):
        train_tabular(TabularTrainConfig(data=WINE, target="alcohol", out=str(tmp_path / "one"),
                                         train=quick(resume=True)))  # fmt: skip


def test_cross_validation_lines_name_their_fold(tmp_path) -> None:
    proc = run_danlu(
        "tabular",
        "train",
        "--data",
        WINE,
        "--target",
        "alcohol",
        "--hidden",
        "4",
        "--folds",
        "2",
        "--epochs",
        "2",
        "--out",
        str(tmp_path / "cv"),
        check=True,
    )
    evals = [ln for ln in proc.stderr.splitlines() if " epoch " in ln and "val_loss" in ln]
    assert [ln.split(":")[0] for ln in evals] == ["fold 1/2"] * 2 + ["fold 2/2"] * 2


def test_predict_takes_threads(tmp_path) -> None:
    out = tmp_path / "pred.csv"
    proc = run_danlu("tabular", "predict", "--model", str(FIXTURES / "tabular.safetensors"),
                     "--data", str(FIXTURES / "wine_probe.csv"), "--out", str(out),
                     "--threads", "1", check=True)  # fmt: skip
    assert proc.returncode == 0
    assert out.read_text() == (FIXTURES / "tabular_expected.csv").read_text()
