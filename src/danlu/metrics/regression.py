"""Regression metrics: MSE, MAE, RMSE and R² (coefficient of determination)."""

from __future__ import annotations

import torch

__all__ = ["mae", "mse", "r2", "regression_metrics", "rmse"]


def mse(pred: torch.Tensor, target: torch.Tensor) -> float:
    """Mean squared error (1/n) Σ (ŷ - y)²."""
    return float(torch.mean((pred - target) ** 2))


def mae(pred: torch.Tensor, target: torch.Tensor) -> float:
    """Mean absolute error (1/n) Σ |ŷ - y|."""
    return float(torch.mean(torch.abs(pred - target)))


def rmse(pred: torch.Tensor, target: torch.Tensor) -> float:
    """Root mean squared error √MSE."""
    return mse(pred, target) ** 0.5


def r2(pred: torch.Tensor, target: torch.Tensor) -> float:
    """R² = 1 - Σ(ŷ - y)² / Σ(y - ȳ)² (1.0 is perfect; 0.0 predicts the mean)."""
    ss_res = torch.sum((pred - target) ** 2)
    ss_tot = torch.sum((target - target.mean()) ** 2)
    return float(1.0 - ss_res / ss_tot) if ss_tot > 0 else 0.0


def regression_metrics(pred: torch.Tensor, target: torch.Tensor) -> dict[str, float]:
    """All four, keyed ``mse``, ``rmse``, ``mae``, ``r2``."""
    pred, target = pred.double().flatten(), target.double().flatten()
    return {"mse": mse(pred, target), "rmse": rmse(pred, target), "mae": mae(pred, target),
            "r2": r2(pred, target)}  # fmt: skip
