"""Regression and classification metrics against their definitions."""

from __future__ import annotations

import pytest
import torch

from danlu.metrics import (
    accuracy,
    confusion_matrix,
    macro_f1,
    precision_recall_f1,
    regression_metrics,
)


def test_regression_metrics_by_hand() -> None:
    pred = torch.tensor([1.0, 2.0, 4.0])
    y = torch.tensor([1.0, 3.0, 2.0])
    m = regression_metrics(pred, y)
    assert m["mse"] == pytest.approx(5 / 3)
    assert m["mae"] == pytest.approx(1.0)
    assert m["rmse"] == pytest.approx((5 / 3) ** 0.5)
    assert m["r2"] == pytest.approx(1 - 5 / 2)  # ss_tot = 0 + 1 + 1 = 2
    torch.testing.assert_close(torch.tensor(m["mse"]), torch.nn.functional.mse_loss(pred, y))


def test_classification_metrics_by_hand() -> None:
    pred = torch.tensor([0, 1, 1, 2, 2, 2])
    y = torch.tensor([0, 1, 2, 2, 2, 0])
    assert accuracy(pred, y) == pytest.approx(4 / 6)
    c = confusion_matrix(pred, y, 3)
    assert c.tolist() == [[1, 0, 1], [0, 1, 0], [0, 1, 2]]
    # per class F1: c0: P=1, R=.5 -> 2/3; c1: P=.5, R=1 -> 2/3; c2: P=2/3, R=2/3 -> 2/3
    assert macro_f1(pred, y, 3) == pytest.approx(2 / 3)
    precision, recall, f1 = precision_recall_f1(c)
    assert precision.tolist() == pytest.approx([1, 0.5, 2 / 3])
    assert recall.tolist() == pytest.approx([0.5, 1, 2 / 3])
    assert f1.tolist() == pytest.approx([2 / 3] * 3)
    # a class never predicted nor seen scores 0, not NaN
    assert precision_recall_f1(confusion_matrix(pred, y, 4))[2][3] == 0
