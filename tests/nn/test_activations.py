"""The activation registry: every name builds a fresh module that computes its definition."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest
import torch

from danlu.errors import UsageError
from danlu.nn.activations import ACTIVATIONS, activation_names, create_activation

x = torch.linspace(-4, 4, 81, dtype=torch.float64)
DEFINITIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "sigmoid": lambda t: 1 / (1 + torch.exp(-t)),
    "tanh": lambda t: (torch.exp(t) - torch.exp(-t)) / (torch.exp(t) + torch.exp(-t)),
    "relu": lambda t: torch.where(t > 0, t, torch.zeros_like(t)),
    "leaky_relu": lambda t: torch.where(t > 0, t, 0.01 * t),
    "prelu": lambda t: torch.where(t > 0, t, 0.25 * t),
    "rrelu": lambda t: torch.where(t > 0, t, (1 / 8 + 1 / 3) / 2 * t),  # eval: mean slope
    "gelu": lambda t: t * 0.5 * (1 + torch.erf(t / math.sqrt(2))),  # x·Φ(x)
}


def test_registry_lists_every_name_in_table_order() -> None:
    assert activation_names() == list(ACTIVATIONS) == list(DEFINITIONS)


@pytest.mark.parametrize("name", list(DEFINITIONS))
def test_activation_computes_its_definition_in_eval(name: str) -> None:
    module = create_activation(name).double().eval()
    torch.testing.assert_close(module(x), DEFINITIONS[name](x))


@pytest.mark.parametrize("name", list(DEFINITIONS))
def test_each_call_builds_a_fresh_module(name: str) -> None:
    a, b = create_activation(name), create_activation(name)
    assert a is not b
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        assert p is not q  # a learned PReLU slope is never shared between layers


def test_rrelu_slope_is_random_in_training_and_fixed_in_eval() -> None:
    torch.manual_seed(0)
    rrelu = create_activation("rrelu").train()
    negative = -torch.ones(10_000, dtype=torch.float64)
    slopes = -rrelu(negative)
    assert slopes.min() >= 1 / 8 and slopes.max() <= 1 / 3
    assert slopes.std() > 0.05  # random per element
    assert slopes.mean().item() == pytest.approx((1 / 8 + 1 / 3) / 2, abs=0.01)
    rrelu.eval()
    torch.testing.assert_close(-rrelu(negative), torch.full_like(negative, (1 / 8 + 1 / 3) / 2))


def test_prelu_slope_is_learned() -> None:
    prelu = create_activation("prelu")
    prelu(-torch.ones(3)).sum().backward()
    assert prelu.weight.grad is not None and prelu.weight.grad.item() == pytest.approx(-3.0)


def test_unknown_name_lists_the_valid_ones() -> None:
    with pytest.raises(UsageError, match="unknown activation 'swish'; valid: sigmoid, tanh"):
        create_activation("swish")
