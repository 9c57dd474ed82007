"""``danlu tabular train``: regression or classification on a CSV table.

From the notes: the linear model y = b + w·x, sums of sigmoids/ReLUs (an MLP), MSE/MAE
losses, softmax + cross-entropy, logistic regression, mini-batches and epochs, and the
usual remedies for overfitting (validation split, K-fold cross-validation, dropout,
weight decay, L1, early stopping).
"""

from __future__ import annotations

import dataclasses
import json
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from danlu.config import config_to_dict
from danlu.data.feature_selection import select_top_k
from danlu.data.splits import kfold, train_val_split
from danlu.data.standardize import Standardizer
from danlu.data.table import read_csv
from danlu.data.tensor_data import TensorData
from danlu.errors import UsageError
from danlu.io import write_json
from danlu.metrics import classification_metrics, regression_metrics
from danlu.names import implement
from danlu.tasks.tabular.config import LOSSES, TabularTrainConfig
from danlu.tasks.tabular.model import ModelSpec, TabularModel, model_metadata
from danlu.train.config import TrainConfig
from danlu.train.distributed import DistInfo
from danlu.train.launch import training_run
from danlu.train.run_log import plot_runs, read_events
from danlu.train.seed import seed_everything
from danlu.train.trainer import Trainer

__all__ = ["TabularData", "load_tabular", "train_tabular"]

# how a user of `danlu tabular train` gives validation data (the Trainer's hint)
_VALIDATION_HINT = "set --val-fraction or --folds"


@dataclass
class TabularData:
    """Features and target of a CSV table, ready for training."""

    x: np.ndarray  # (N, F) float64
    y: np.ndarray  # (N,) float64 for regression, int64 class index for classification
    task: str
    features: tuple[str, ...]
    target: str
    classes: tuple[str, ...]


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _class_order(values: list[str]) -> list[str]:
    unique = sorted(set(values))
    if all(_is_number(v) for v in unique):
        unique.sort(key=float)
    return unique


def load_tabular(cfg: TabularTrainConfig) -> TabularData:
    """Read ``cfg.data``, pick target and feature columns, parse numbers (line-numbered errors)."""
    table = read_csv(cfg.data, defer_errors=True)
    target_idx = table.index_of(cfg.target)
    dropped = {target_idx}
    for name in cfg.drop:
        dropped.update(table.indices_of(name))
    if cfg.features:
        feature_idx = [table.index_of(n, note=False) for n in cfg.features]
        overlap = [table.columns[i] for i in feature_idx if i in dropped]
        if overlap:
            raise UsageError(f"--features lists dropped or target columns: {', '.join(overlap)}")
    else:
        feature_idx = [i for i in range(len(table.columns)) if i not in dropped]
    if not feature_idx:
        raise UsageError(f"{cfg.data}: no feature columns left after --drop and --target")

    # numbers first (the target too when it must be one): the first bad line of the file
    # is the one reported (Table.numeric), before the target's strings are read
    must_be_numbers = feature_idx + ([target_idx] if cfg.task == "regression" else [])
    x = table.numeric(must_be_numbers)[:, : len(feature_idx)]
    raw_target = [v.strip() for v in table.column(target_idx)]
    task = cfg.task
    if task == "auto":
        numeric = all(_is_number(v) for v in raw_target)
        task = "classification" if (cfg.loss == "ce" or not numeric) else "regression"
    if task == "classification":
        classes = _class_order(raw_target)
        if len(classes) < 2:
            raise UsageError(f"{cfg.data}: target {cfg.target!r} has one class only: {classes}")
        index = {c: i for i, c in enumerate(classes)}
        y = np.array([index[v] for v in raw_target], dtype=np.int64)
    else:
        classes = []
        y = table.numeric([target_idx])[:, 0]
    features = tuple(table.columns[i] for i in feature_idx)
    return TabularData(x, y, task, features, table.columns[target_idx], tuple(classes))


_LOSSES = implement(LOSSES, {"mse": F.mse_loss, "mae": F.l1_loss, "ce": F.cross_entropy},
                    "tabular losses")  # fmt: skip


def _make_loss(cfg: TabularTrainConfig, task: str):
    """The batch-mean loss named by ``--loss`` (auto: ce to classify, mse to regress)."""
    name = cfg.loss if cfg.loss != "auto" else ("ce" if task == "classification" else "mse")
    if task == "classification" and name != "ce":  # a non-numeric target with --loss mse/mae
        raise UsageError(f"--loss {name} is for regression; classification uses --loss ce")
    return _LOSSES[name]


def _evaluate_fn(data: TabularData, idx: np.ndarray, base_loss):
    """Validation metrics on rows ``idx``: ``val_loss`` plus task metrics, prefixed ``val_``."""
    x = torch.as_tensor(data.x[idx], dtype=torch.float32)
    y = torch.as_tensor(data.y[idx])
    if data.task == "regression":
        y = y.float()

    def evaluate(model: nn.Module) -> dict[str, float]:
        device = next(model.parameters()).device
        out = torch.cat([model(xb.to(device)).float().cpu() for xb in x.split(4096)])
        metrics = {"val_loss": float(base_loss(out, y))}
        if data.task == "regression":
            scores = regression_metrics(out, y)
        else:
            scores = classification_metrics(out.argmax(-1), y, len(data.classes))
        metrics.update({f"val_{k}": v for k, v in scores.items()})
        return metrics

    return evaluate


def _fit_one(
    cfg: TabularTrainConfig,
    data: TabularData,
    train_idx: np.ndarray,
    val_idx: np.ndarray | None,
    out: Path,
    train_cfg: TrainConfig,
    label: str = "",
) -> dict[str, Any]:
    """Train one model on ``train_idx`` (statistics from those rows only) into ``out``."""
    seed_everything(train_cfg.seed)
    columns = np.arange(len(data.features))
    if cfg.select:
        if cfg.select > len(columns):
            raise UsageError(f"--select {cfg.select} exceeds the {len(columns)} feature columns")
        columns = select_top_k(data.x[train_idx], data.y[train_idx], data.task, cfg.select)
    features = tuple(data.features[i] for i in columns)
    spec = ModelSpec(
        data.task, features, data.target, data.classes, cfg.hidden, cfg.activation, cfg.dropout
    )
    model = TabularModel(spec)
    data = dataclasses.replace(data, x=data.x[:, columns], features=features)
    xs = Standardizer.fit(data.x[train_idx])
    if data.task == "regression":
        ys = Standardizer.fit(data.y[train_idx][:, None])
        model.set_statistics(xs.mean, xs.std, float(ys.mean[0]), float(ys.std[0]))
    else:
        model.set_statistics(xs.mean, xs.std)
    x = torch.as_tensor(data.x[train_idx], dtype=torch.float32)
    y = torch.as_tensor(data.y[train_idx])
    y = y.float() if data.task == "regression" else y

    base_loss = _make_loss(cfg, data.task)
    l1 = cfg.l1

    def loss_fn(m: nn.Module, batch: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        xb, yb = batch
        loss = base_loss(m(xb), yb)
        if l1 > 0:
            weights = (m.module if hasattr(m, "module") else m).weight_matrices()
            loss = loss + l1 * sum(w.abs().sum() for w in weights)
        return loss

    evaluate = _evaluate_fn(data, val_idx, base_loss) if val_idx is not None else None
    trainer = Trainer(
        model, loss_fn, TensorData(x, y), train_cfg, out, evaluate=evaluate,
        model_metadata=model_metadata(spec), validation_hint=_VALIDATION_HINT,
        run_config=cfg, label=label,  # label: which fold a line is about
    )  # fmt: skip
    return trainer.fit()


def _resume_if_started(tc: TrainConfig, out: Path) -> TrainConfig:
    """``--resume`` for one part of a cross-validation: a part that had not started yet
    (no checkpoint in its folder) starts fresh."""
    if tc.resume and Trainer.resumable(out) is None:
        return dataclasses.replace(tc, resume=False)
    return tc


def train_tabular(cfg: TabularTrainConfig) -> dict[str, Any]:
    """Train (optionally K-fold) and write the run folder; return the final metrics."""
    with training_run(cfg.out, cfg.train, run_config=cfg) as dist:
        return _train(cfg, dist)


def _train(cfg: TabularTrainConfig, dist: DistInfo) -> dict[str, Any]:
    out = Path(cfg.out)
    data = load_tabular(cfg)
    if dist.is_main:
        out.mkdir(parents=True, exist_ok=True)
        write_json(out / "config.json", config_to_dict(cfg))
    n = len(data.y)
    if not cfg.folds:
        if cfg.val_fraction > 0:
            train_idx, val_idx = train_val_split(n, cfg.val_fraction, cfg.split_seed)
        else:
            train_idx, val_idx = np.arange(n), None
        final = _fit_one(cfg, data, train_idx, val_idx, out, cfg.train)
        return {"task": data.task, "rows_train": len(train_idx),
                "rows_val": 0 if val_idx is None else len(val_idx), **final}  # fmt: skip
    return _cross_validate(cfg, data, out, dist)


def _cross_validate(
    cfg: TabularTrainConfig, data: TabularData, out: Path, dist: DistInfo
) -> dict[str, Any]:
    """K-fold CV (one run folder per fold), then a refit on every row into ``out``."""
    if cfg.folds > len(data.y):
        raise UsageError(f"--folds {cfg.folds} exceeds the {len(data.y)} rows of {cfg.data}")
    folds = [out / f"fold-{k}" for k in range(1, cfg.folds + 1)]
    if cfg.train.resume and not any(_finished(f) or Trainer.resumable(f) for f in folds):
        raise UsageError(f"--resume: nothing to resume in {out}: no fold has finished or "
                         "written a checkpoint; run once with --checkpoint-every N")  # fmt: skip
    fold_results: list[dict[str, Any]] = []
    splits = kfold(len(data.y), cfg.folds, cfg.split_seed)
    for k, (fold_out, (train_idx, val_idx)) in enumerate(zip(folds, splits, strict=True), 1):
        if cfg.train.resume and _finished(fold_out):
            fold_results.append(json.loads((fold_out / "metrics.json").read_text("utf-8")))
            continue
        tc = _resume_if_started(cfg.train, fold_out)
        label = f"fold {k}/{cfg.folds}"
        fold_results.append(_fit_one(cfg, data, train_idx, val_idx, fold_out, tc, label))

    # Refit on all rows for as many steps as the folds' best evaluations took; the
    # early-stopping options were for the folds (the refit has no validation data).
    tc = dataclasses.replace(_resume_if_started(cfg.train, out), early_stop_metric="",
                             patience=0)  # fmt: skip
    best_steps = [r["best_step"] for r in fold_results if "best_step" in r]
    if best_steps:
        tc = dataclasses.replace(tc, max_steps=max(1, int(statistics.median(best_steps))))
    refit = _fit_one(cfg, data, np.arange(len(data.y)), None, out, tc, "refit")

    summary: dict[str, Any] = {"task": data.task, "folds": cfg.folds, "rows": len(data.y)}
    keys = [k for k in fold_results[0] if k.startswith("val_")]
    for key in keys:
        values = [float(r[key]) for r in fold_results]
        summary[f"cv_{key}_mean"] = statistics.fmean(values)
        summary[f"cv_{key}_std"] = statistics.stdev(values) if len(values) > 1 else 0.0
    summary["refit_steps"] = refit["steps"]
    summary["refit_train_loss"] = refit.get("train_loss")
    summary["train_seconds"] = round(
        sum(float(r.get("train_seconds", 0.0)) for r in fold_results) + refit["train_seconds"], 3
    )
    summary["per_fold"] = [{k: r[k] for k in (*keys, "best_step") if k in r} for r in fold_results]
    if dist.is_main:
        write_json(out / "metrics.json", summary)
        runs = {f"fold {k}": read_events(out / f"fold-{k}" / "metrics.jsonl")
                for k in range(1, cfg.folds + 1)}  # fmt: skip
        runs["refit (all rows)"] = read_events(out / "metrics.jsonl")
        plot_runs(runs, out / "curves.png", title=f"{cfg.folds}-fold cross-validation")
    return summary


def _finished(fold_out: Path) -> bool:
    """A fold that wrote its final files (``--resume`` does not train it again)."""
    return (fold_out / "metrics.json").is_file() and (fold_out / "model.safetensors").is_file()


def describe(metrics: dict[str, Any]) -> str:
    """A one-line summary of the headline metric."""
    if "folds" in metrics:
        key = "cv_val_mse" if metrics["task"] == "regression" else "cv_val_accuracy"
        return (f"{metrics['folds']}-fold CV {key[3:]}: {metrics[key + '_mean']:.4f} "
                f"± {metrics[key + '_std']:.4f}")  # fmt: skip
    key = "val_mse" if metrics["task"] == "regression" else "val_accuracy"
    if key in metrics:
        return f"{key}: {metrics[key]:.4f}"
    return f"train_loss: {metrics.get('train_loss', float('nan')):.4f}"
