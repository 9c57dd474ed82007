"""The activation claims' helpers: one-signed gradient rows, path inefficiency, steps to a
loss threshold, never-positive units."""

from __future__ import annotations

import math

import pytest
import torch

from danlu.lab.activations import (
    never_positive_fraction,
    path_inefficiency,
    same_sign_fraction,
    steps_to_threshold,
)


def test_one_example_through_a_sigmoid_gives_one_signed_weight_gradients() -> None:
    # ∂L/∂W = δ aᵀ with a = σ(·) > 0: each row has the sign of δ_i; tanh inputs mix signs
    gen = torch.Generator().manual_seed(0)
    first, second = torch.nn.Linear(20, 30), torch.nn.Linear(30, 5)
    x = torch.randn(1, 20, generator=gen)
    for act, expected in ((torch.sigmoid, 1.0), (torch.tanh, 0.0)):
        second.zero_grad()
        second(act(first(x))).pow(2).sum().backward()
        assert same_sign_fraction(second.weight.grad) == expected


def test_same_sign_fraction_ignores_zeros_but_not_all_zero_rows() -> None:
    g = torch.tensor([[0.0, 3.0, 1.0], [-2.0, 0.0, -1.0], [1.0, -1.0, 0.0], [0.0, 0.0, 0.0]])
    assert same_sign_fraction(g) == 0.5


def test_path_inefficiency_is_one_for_a_straight_path_and_grows_with_zigzag() -> None:
    t = torch.linspace(0, 1, 11)[:, None, None]  # (11, 1, 1)
    straight = t * torch.tensor([[3.0, 4.0]])  # (11, 1, 2)
    assert path_inefficiency(straight).item() == pytest.approx(1.0)
    signs = torch.tensor([1.0, -1.0]).repeat(5)  # alternate sideways steps of 1
    steps = torch.stack([torch.ones(10), signs], dim=1)  # (10, 2)
    zigzag = torch.cat([torch.zeros(1, 2), steps.cumsum(0)])[:, None, :]
    assert path_inefficiency(zigzag).item() == pytest.approx(math.sqrt(2))


def _naive_steps(losses: list[float], threshold: float, window: int) -> int | None:
    for t in range(window, len(losses) + 1):
        if sum(losses[t - window : t]) / window <= threshold:
            return t
    return None


@pytest.mark.parametrize("window", [1, 3, 10])
def test_steps_to_threshold_matches_the_definition(window: int) -> None:
    gen = torch.Generator().manual_seed(window)
    losses = (torch.linspace(2, 0, 60) + 0.3 * torch.rand(60, generator=gen)).tolist()
    for threshold in (1.5, 0.5, 0.2, -1.0):
        assert steps_to_threshold(losses, threshold, window) == _naive_steps(
            losses, threshold, window
        )
    assert steps_to_threshold([0.0, 0.0], 1.0, window=3) is None  # shorter than the window


def test_never_positive_fraction_counts_units_silent_on_every_example() -> None:
    pre = torch.tensor([[-1.0, 0.5, 0.0, -2.0], [-0.1, -3.0, 0.0, 1e-6]])
    assert never_positive_fraction(pre) == 0.5  # units 0 and 2
