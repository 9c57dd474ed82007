"""``danlu tabular predict``: apply a trained run folder to a CSV file."""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch

from danlu.data.table import read_csv
from danlu.errors import UsageError
from danlu.metrics import classification_metrics, regression_metrics
from danlu.tasks.tabular.config import TabularPredictConfig
from danlu.tasks.tabular.model import load_model
from danlu.train.device import resolve_device, use_threads

__all__ = ["predict_tabular"]


def predict_tabular(cfg: TabularPredictConfig) -> dict[str, Any]:
    """Write predictions as CSV; if the file has the target column, return its metrics.

    Output columns: every input column the model does not use as a feature (ids, the
    target if present), then ``prediction``, then for classification ``p_<class>``.
    """
    model = load_model(cfg.model)
    spec = model.spec
    use_threads(cfg.threads)
    device = resolve_device(cfg.device)
    model.to(device)
    table = read_csv(cfg.data, defer_errors=True)
    missing = [f for f in spec.features if f not in table.columns]
    if missing:
        raise UsageError(
            f"{cfg.data}: missing feature column(s) the model was trained on: {', '.join(missing)}"
        )
    feature_idx = [table.columns.index(f) for f in spec.features]
    x = torch.as_tensor(table.numeric(feature_idx), dtype=torch.float32)
    with torch.no_grad():
        out = torch.cat([model(xb.to(device)).float().cpu() for xb in x.split(cfg.batch_size)])

    keep = [i for i in range(len(table.columns)) if i not in set(feature_idx)]
    header = [table.columns[i] for i in keep] + ["prediction"]
    if spec.task == "classification":
        probs = out.softmax(-1)
        labels = [spec.classes[i] for i in out.argmax(-1).tolist()]
        header += [f"p_{c}" for c in spec.classes]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for r, row in enumerate(table.rows):
        cells: list[Any] = [row[i] for i in keep]
        if spec.task == "classification":
            cells += [labels[r], *(f"{p:.6g}" for p in probs[r].tolist())]
        else:
            cells.append(f"{out[r].item():.8g}")
        writer.writerow(cells)
    if cfg.out:
        Path(cfg.out).parent.mkdir(parents=True, exist_ok=True)
        Path(cfg.out).write_text(buffer.getvalue(), encoding="utf-8")
    else:
        sys.stdout.write(buffer.getvalue())

    result: dict[str, Any] = {"rows": len(table)}
    if spec.target in table.columns:
        tcol = [v.strip() for v in table.column(table.columns.index(spec.target))]
        if spec.task == "regression":
            y = torch.as_tensor(np.array(tcol, dtype=np.float64))
            result.update(regression_metrics(out.double(), y))
        else:
            known = {c: i for i, c in enumerate(spec.classes)}
            rows = [i for i, v in enumerate(tcol) if v in known]
            if rows:
                y = torch.tensor([known[tcol[i]] for i in rows])
                result.update(classification_metrics(out[rows].argmax(-1), y, len(spec.classes)))
    return result
