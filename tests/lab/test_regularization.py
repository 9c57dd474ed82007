"""The regularization claims' helpers: near-zero weights, polynomial features, Spearman."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch

from danlu.lab.regularization import near_zero_fraction, polynomial_features, spearman


def test_near_zero_fraction() -> None:
    w = torch.tensor([[0.0, -5e-4], [2e-3, 1e-3]])
    assert near_zero_fraction(w) == 0.5
    assert near_zero_fraction(w, tol=1e-2) == 1.0


@pytest.mark.parametrize(("k", "degree"), [(1, 4), (2, 3), (3, 2)])
def test_polynomial_features_hold_every_monomial_once(k: int, degree: int) -> None:
    z = np.random.default_rng(k).normal(size=(7, k))
    feats = polynomial_features(z, degree)
    assert feats.shape == (7, math.comb(degree + k, k))
    # every column is z^p for one exponent vector p with |p| <= degree, none repeated
    exponents = [p for p in itertools.product(range(degree + 1), repeat=k) if sum(p) <= degree]
    expected = {tuple(np.round(np.prod(z ** np.array(p), axis=1), 10)) for p in exponents}
    got = {tuple(np.round(col, 10)) for col in feats.T}
    assert got == expected
    assert np.all(feats[:, 0] == 1.0)


def test_spearman_of_monotone_sequences_is_plus_or_minus_one() -> None:
    x = [1, 5, 10, 50]
    assert spearman(x, [0.1, 0.2, 7.0, 100.0]) == pytest.approx(1.0)
    assert spearman(x, [9.0, 3.0, 1.0, -4.0]) == pytest.approx(-1.0)


def test_spearman_averages_tied_ranks() -> None:
    # ranks (1, 2.5, 2.5, 4) against (1, 2, 3, 4): 4.5 / sqrt(4.5 * 5) = 3 / sqrt(10)
    assert spearman([1, 2, 2, 3], [1, 2, 3, 4]) == pytest.approx(3 / math.sqrt(10))
