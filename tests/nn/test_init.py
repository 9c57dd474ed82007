"""init_weights: a deep stack keeps a sane output scale under the scheme matched to its
activation, and loses it under a mismatched one."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from danlu.errors import UsageError
from danlu.nn.init import INIT_SCHEMES, init_scheme_names, init_weights

DEPTH, WIDTH = 24, 128
ACTIVATIONS = {"tanh": nn.Tanh, "relu": nn.ReLU, "identity": nn.Identity}


def _deep_stack_output_rms(scheme: str, activation: str) -> float:
    layers: list[nn.Module] = []
    for _ in range(DEPTH):
        layers += [nn.Linear(WIDTH, WIDTH), ACTIVATIONS[activation]()]
    model = init_weights(nn.Sequential(*layers), scheme, generator=torch.Generator().manual_seed(0))
    x = torch.randn(256, WIDTH, generator=torch.Generator().manual_seed(1))  # unit variance
    with torch.no_grad():
        return (model(x).pow(2).mean() / x.pow(2).mean()).sqrt().item()  # RMS out / RMS in


@pytest.mark.parametrize(
    ("scheme", "activation", "low", "high"),
    [
        ("xavier_normal", "tanh", 0.05, 1.0),  # tanh shrinks slowly with depth, never collapses
        ("xavier_uniform", "tanh", 0.05, 1.0),
        ("he_normal", "relu", 0.3, 2.0),  # E[relu(z)^2] = Var(z)/2: RMS ≈ 0.7 at every depth
        ("he_uniform", "relu", 0.3, 2.0),
        ("geometric", "identity", 0.5, 2.0),
        ("orthogonal", "identity", 0.999, 1.001),  # an orthogonal map preserves every norm
    ],
)
def test_deep_stack_keeps_its_scale_under_the_matching_scheme(
    scheme: str, activation: str, low: float, high: float
) -> None:
    assert low < _deep_stack_output_rms(scheme, activation) < high


def test_deep_relu_stack_vanishes_under_xavier_but_not_he() -> None:
    # Xavier halves the variance at every ReLU: 24 layers shrink the RMS by ~2^-12.
    assert _deep_stack_output_rms("xavier_normal", "relu") < 1e-3
    assert _deep_stack_output_rms("he_normal", "relu") > 0.3


def test_init_weights_initializes_weights_zeroes_biases_and_skips_the_rest() -> None:
    model = nn.Sequential(
        nn.Embedding(10, 8), nn.Linear(8, 8), nn.LayerNorm(8), nn.Conv1d(8, 4, 3), nn.PReLU()
    )
    embedding = model[0].weight.clone()
    init_weights(model, "orthogonal")
    assert torch.equal(model[0].weight, embedding)  # a lookup table, left alone
    torch.testing.assert_close(model[1].weight @ model[1].weight.T, torch.eye(8))
    assert torch.count_nonzero(model[1].bias) == 0
    assert torch.count_nonzero(model[3].bias) == 0
    assert torch.equal(model[2].weight, torch.ones(8))  # norm scale untouched
    assert model[4].weight.item() == 0.25  # PReLU slope untouched


def test_recurrent_weights_are_initialized_per_gate() -> None:
    lstm = init_weights(nn.LSTM(6, 5, num_layers=2), "orthogonal")
    for gate in lstm.weight_hh_l1.split(5, dim=0):  # (i, f, g, o) blocks, each (H, H)
        torch.testing.assert_close(gate @ gate.T, torch.eye(5))
    assert torch.count_nonzero(lstm.bias_ih_l0) == 0


def test_init_weights_is_reproducible_with_a_generator() -> None:
    a = init_weights(nn.Linear(4, 4), "he_uniform", generator=torch.Generator().manual_seed(5))
    b = init_weights(nn.Linear(4, 4), "he_uniform", generator=torch.Generator().manual_seed(5))
    assert torch.equal(a.weight, b.weight)


def test_unknown_scheme_lists_the_valid_ones() -> None:
    assert init_scheme_names() == list(INIT_SCHEMES)
    with pytest.raises(UsageError, match="unknown init scheme 'kaiming'; valid: xavier_normal"):
        init_weights(nn.Linear(2, 2), "kaiming")
