"""Helpers of the optimizer claims: the roughness measure, the seeded batches."""

from __future__ import annotations

import math

import pytest

from danlu.lab.optimizers import _batches, _roughness


def test_roughness_ignores_steady_descent_and_sees_zigzag() -> None:
    steady = [10.0 - 0.5 * i for i in range(20)]  # a straight line: no roughness
    zigzag = [1.0 + (0.1 if i % 2 else 0.0) for i in range(20)]  # |second difference| 0.2
    assert _roughness(steady) == pytest.approx(0.0)
    assert _roughness(zigzag) == pytest.approx(0.1)
    assert _roughness([1.0] * 10 + [math.nan] * 10) == math.inf


def test_batches_cover_each_epoch_once_and_repeat_by_seed() -> None:
    first = [b.tolist() for _, b in zip(range(4), _batches(10, 5, seed=3), strict=False)]
    again = [b.tolist() for _, b in zip(range(4), _batches(10, 5, seed=3), strict=False)]
    assert first == again
    assert sorted(first[0] + first[1]) == list(range(10)) == sorted(first[2] + first[3])
