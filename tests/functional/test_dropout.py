"""Inverted dropout from the definition: expectation kept, identity in eval, gradient m/q."""

from __future__ import annotations

import pytest
import torch

from danlu.functional.dropout import dropout


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_keeps_the_expected_value(p: float) -> None:
    g = torch.Generator().manual_seed(0)
    x = torch.full((200_000,), 3.0, dtype=torch.float64)
    y = dropout(x, p, generator=g)
    kept = y != 0
    assert abs(kept.double().mean().item() - (1 - p)) < 0.01  # fraction kept ≈ q
    torch.testing.assert_close(y[kept], torch.full_like(y[kept], 3.0 / (1 - p)))
    assert abs(y.mean().item() - 3.0) < 0.05  # E[y] = x


def test_dropout_gradient_is_the_scaled_mask() -> None:
    x = torch.randn(1000, dtype=torch.float64, requires_grad=True)
    y = dropout(x, 0.25, generator=torch.Generator().manual_seed(1))
    y.sum().backward()
    mask = (y != 0).double()
    torch.testing.assert_close(x.grad, mask / 0.75)


@pytest.mark.parametrize(("p", "training"), [(0.5, False), (0.0, True)])
def test_dropout_is_the_identity_in_eval_or_with_p_zero(p: float, training: bool) -> None:
    x = torch.randn(50)
    assert dropout(x, p, training) is x


def test_dropout_with_p_one_zeroes_everything() -> None:
    x = torch.randn(50, requires_grad=True)
    y = dropout(x, 1.0)
    assert torch.count_nonzero(y) == 0
    y.sum().backward()
    assert torch.count_nonzero(x.grad) == 0


def test_dropout_is_reproducible_with_a_generator() -> None:
    x = torch.randn(100)
    a = dropout(x, 0.5, generator=torch.Generator().manual_seed(7))
    b = dropout(x, 0.5, generator=torch.Generator().manual_seed(7))
    assert torch.equal(a, b)


@pytest.mark.parametrize("p", [-0.1, 1.5])
def test_dropout_rejects_p_outside_the_unit_interval(p: float) -> None:
    with pytest.raises(ValueError, match=rf"must be in \[0, 1\], got p={p}"):
        dropout(torch.ones(3), p)
