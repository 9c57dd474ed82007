"""The critical-point helpers: Hessian, Newton's iteration, the second-order test."""

from __future__ import annotations

import pytest
import torch

from danlu.lab.critical_points import (
    classify_critical_point,
    gradient_and_hessian,
    loss_change,
    newton_critical_point,
    toy_loss,
)


def test_the_toy_saddle_has_the_course_hessian() -> None:
    grad, hess = gradient_and_hessian(toy_loss, torch.zeros(2, dtype=torch.float64))
    assert grad.abs().max() == 0
    assert torch.equal(hess, torch.tensor([[0.0, -2.0], [-2.0, 0.0]], dtype=torch.float64))
    assert classify_critical_point(torch.linalg.eigvalsh(hess)) == "saddle"


def test_along_the_negative_eigenvector_the_loss_falls_by_lambda_eps_squared_over_two() -> None:
    u = torch.tensor([1.0, 1.0], dtype=torch.float64) / 2**0.5
    eps = torch.tensor([1e-3, 1e-2], dtype=torch.float64)
    change = loss_change(toy_loss, torch.zeros(2, dtype=torch.float64), u, eps)
    # exactly (1 − ε²/2)² − 1 = −ε² + ε⁴/4
    torch.testing.assert_close(change, -(eps**2) + eps**4 / 4, rtol=1e-9, atol=0)


def test_newton_finds_the_saddle_and_a_point_of_the_valley() -> None:
    start = torch.tensor([0.1, -0.05], dtype=torch.float64)
    saddle = newton_critical_point(toy_loss, start)
    assert saddle is not None and saddle.abs().max() < 1e-8
    valley = newton_critical_point(toy_loss, torch.tensor([1.5, 0.8], dtype=torch.float64))
    assert valley is not None and abs(float(valley[0] * valley[1]) - 1) < 1e-8


@pytest.mark.parametrize(
    ("eigenvalues", "kind"),
    [((-1.0, 2.0), "saddle"), ((0.5, 2.0), "minimum"), ((0.0, 2.0), "undecided")],
)
def test_the_second_order_test(eigenvalues: tuple[float, ...], kind: str) -> None:
    assert classify_critical_point(torch.tensor(eigenvalues)) == kind
