"""The generative and discriminative linear classifiers of the lab's claim."""

from __future__ import annotations

import torch

from danlu.lab.generative_vs_discriminative import (
    fit_logistic_regression,
    fit_shared_gaussians,
    gaussian_posterior,
    linear_error_on_gaussians,
)


def _data(n: int = 200, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    y = (torch.arange(n) % 2).double()
    x = torch.randn(n, 3, generator=g, dtype=torch.float64) + 1.5 * y[:, None]
    return x, y


def test_bayes_rule_with_a_shared_covariance_is_a_sigmoid_of_a_linear_function() -> None:
    x, y = _data()
    model = fit_shared_gaussians(x, y)
    torch.testing.assert_close(
        gaussian_posterior(x, model), torch.sigmoid(x @ model["w"] + model["b"]),
        rtol=0, atol=1e-12,
    )  # fmt: skip


def test_logistic_regression_reaches_a_zero_gradient() -> None:
    x, y = _data()
    model = fit_logistic_regression(x, y, l2=1e-3)
    p = torch.sigmoid(x @ model["w"] + model["b"])
    assert abs(float((p - y).mean())) < 1e-10  # d/db
    grad_w = x.T @ (p - y) / len(x) + 1e-3 * model["w"]
    assert float(grad_w.abs().max()) < 1e-10


def test_the_exact_error_of_a_linear_rule_matches_sampling() -> None:
    mu = torch.tensor([[0.0, 0.0], [2.0, 1.0]], dtype=torch.float64)
    cov = torch.tensor([[1.0, 0.3], [0.3, 0.5]], dtype=torch.float64)
    prior = torch.tensor([0.5, 0.5], dtype=torch.float64)
    w, b = torch.tensor([1.0, 0.5], dtype=torch.float64), torch.tensor(-1.2, dtype=torch.float64)
    g = torch.Generator().manual_seed(0)
    n = 200_000
    y = torch.arange(n) % 2
    x = mu[y] + torch.randn(n, 2, generator=g, dtype=torch.float64) @ torch.linalg.cholesky(cov).T
    sampled = float(((x @ w + b > 0).long() != y).double().mean())
    assert abs(linear_error_on_gaussians(w, b, mu, cov, prior) - sampled) < 0.005
