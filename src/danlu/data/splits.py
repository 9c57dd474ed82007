"""Reproducible train/validation splits and K-fold cross-validation indices."""

from __future__ import annotations

import numpy as np

__all__ = ["kfold", "train_val_split"]


def train_val_split(n: int, fraction: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Shuffle ``range(n)`` and hold out ``round(fraction * n)`` rows (at least one).

    Example:
        >>> tr, va = train_val_split(10, 0.2, seed=0)
        >>> len(tr), len(va), sorted([*tr, *va]) == list(range(10))
        (8, 2, True)
    """
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"validation fraction must be in (0, 1), got {fraction}")
    order = np.random.default_rng(seed).permutation(n)
    n_val = min(n - 1, max(1, round(fraction * n)))
    return np.sort(order[n_val:]), np.sort(order[:n_val])


def kfold(n: int, k: int, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """``k`` (train, validation) index pairs; the validation parts partition ``range(n)``.

    Example:
        >>> folds = kfold(10, 5, seed=0)
        >>> sorted(np.concatenate([va for _, va in folds]).tolist()) == list(range(10))
        True
    """
    if k < 2 or k > n:
        raise ValueError(f"K-fold needs 2 <= k <= n rows, got k={k}, n={n}")
    order = np.random.default_rng(seed).permutation(n)
    parts = np.array_split(order, k)
    return [
        (np.sort(np.concatenate(parts[:i] + parts[i + 1 :])), np.sort(parts[i])) for i in range(k)
    ]
