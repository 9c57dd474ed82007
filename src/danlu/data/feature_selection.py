"""Univariate feature selection, fitted on training rows only.

Scores (higher = more informative):

- regression: |r|, the absolute Pearson correlation between a feature and the target,
  r = Σ(x - x̄)(y - ȳ) / √(Σ(x - x̄)² Σ(y - ȳ)²);
- classification: the one-way ANOVA F statistic,
  F = [Σ_c n_c (x̄_c - x̄)² / (C - 1)] / [Σ_c Σ_{i∈c} (x_i - x̄_c)² / (N - C)].

Constant features score 0.
"""

from __future__ import annotations

import numpy as np

__all__ = ["feature_scores", "select_top_k"]


def feature_scores(x: np.ndarray, y: np.ndarray, task: str) -> np.ndarray:
    """One score per column of ``x`` (N, F) against target ``y`` (N,)."""
    xc = x - x.mean(axis=0)
    if task == "regression":
        yc = y - y.mean()
        denom = np.sqrt((xc**2).sum(axis=0) * (yc**2).sum())
        with np.errstate(invalid="ignore", divide="ignore"):
            r = (xc * yc[:, None]).sum(axis=0) / denom
        return np.nan_to_num(np.abs(r))
    classes = np.unique(y)
    n, c = len(y), len(classes)
    between = np.zeros(x.shape[1])
    within = np.zeros(x.shape[1])
    grand = x.mean(axis=0)
    for k in classes:
        xk = x[y == k]
        mk = xk.mean(axis=0)
        between += len(xk) * (mk - grand) ** 2
        within += ((xk - mk) ** 2).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        f = (between / max(c - 1, 1)) / (within / max(n - c, 1))
    return np.nan_to_num(f, posinf=np.finfo(np.float64).max)


def select_top_k(x: np.ndarray, y: np.ndarray, task: str, k: int) -> np.ndarray:
    """Indices (ascending) of the ``k`` best-scoring columns; ties keep column order."""
    if not 1 <= k <= x.shape[1]:
        raise ValueError(f"k must be in [1, {x.shape[1]}], got {k}")
    scores = feature_scores(x, y, task)
    order = np.argsort(-scores, kind="stable")
    return np.sort(order[:k])
