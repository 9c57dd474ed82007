"""PCA whitening gives identity covariance; ZCA is symmetric and the closest whitening."""

from __future__ import annotations

import pytest
import torch

from danlu.functional.whitening import (
    covariance_eigh,
    pca_whitening_matrix,
    zca_whitening_matrix,
)

D = torch.float64


def _correlated(n: int = 2000, d: int = 5, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    mixing = torch.randn(d, d, generator=g, dtype=D)
    return torch.randn(n, d, generator=g, dtype=D) @ mixing + torch.arange(d, dtype=D)


def _whiten(x: torch.Tensor, mean: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    return (x - mean) @ w.T


@pytest.mark.parametrize("fit", [pca_whitening_matrix, zca_whitening_matrix])
def test_whitened_covariance_is_the_identity(fit: object) -> None:
    x = _correlated()
    mean, w = fit(x, eps=0.0)  # type: ignore[operator]
    z = _whiten(x, mean, w)
    torch.testing.assert_close(z.mean(0), torch.zeros(5, dtype=D))
    torch.testing.assert_close(torch.cov(z.T), torch.eye(5, dtype=D))


def test_pca_components_come_largest_variance_first_and_can_be_truncated() -> None:
    x = _correlated()
    _, eigenvalues, u = covariance_eigh(x)
    assert torch.all(eigenvalues[:-1] >= eigenvalues[1:])
    torch.testing.assert_close(u.T @ u, torch.eye(5, dtype=D))
    mean, w = pca_whitening_matrix(x, eps=0.0, n_components=2)
    assert w.shape == (2, 5)
    torch.testing.assert_close(torch.cov(_whiten(x, mean, w).T), torch.eye(2, dtype=D))
    projected = (x - mean) @ u[:, :1]  # the first principal direction, unscaled
    torch.testing.assert_close(projected.var(), eigenvalues[0])


def test_zca_is_symmetric_and_closest_to_its_input() -> None:
    x = _correlated()
    centered = x - x.mean(0)
    mean, w_zca = zca_whitening_matrix(x, eps=0.0)
    torch.testing.assert_close(w_zca, w_zca.T)
    distance = (_whiten(x, mean, w_zca) - centered).pow(2).sum(1).mean()
    # Every whitening matrix is Q·W_zca for an orthogonal Q; PCA is one of them.
    _, w_pca = pca_whitening_matrix(x, eps=0.0)
    others = [w_pca]
    g = torch.Generator().manual_seed(1)
    for _ in range(20):
        q, _ = torch.linalg.qr(torch.randn(5, 5, generator=g, dtype=D))
        others.append(q @ w_zca)
    for w in others:
        z = _whiten(x, mean, w)
        torch.testing.assert_close(torch.cov(z.T), torch.eye(5, dtype=D))  # also whitening
        assert (z - centered).pow(2).sum(1).mean() > distance


def test_eps_regularizes_small_eigenvalues() -> None:
    x = _correlated()
    x[:, 4] = x[:, 3]  # a zero-variance direction
    mean, w = zca_whitening_matrix(x, eps=1e-2)
    assert torch.isfinite(w).all()
    assert torch.linalg.eigvalsh(torch.cov(_whiten(x, mean, w).T)).max() < 1.0 + 1e-9


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: pca_whitening_matrix(torch.randn(1, 3)), "n >= 2 samples"),
        (lambda: zca_whitening_matrix(torch.randn(2, 3, 4)), r"shape \(n, d\)"),
        (lambda: pca_whitening_matrix(torch.randn(9, 3), n_components=4), r"in \[1, 3\]"),
        (lambda: zca_whitening_matrix(torch.randn(9, 3), eps=-1), "eps must be >= 0"),
    ],
)
def test_bad_inputs_raise_value_errors(call: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        call()  # type: ignore[operator]
