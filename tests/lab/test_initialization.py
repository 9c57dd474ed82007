"""The initialization claims' helpers: per-layer variances, random cosines."""

from __future__ import annotations

import math

import pytest
import torch

from danlu.lab.initialization import cosine_sample, layer_variances


def _identity(weight: torch.Tensor, *, generator: torch.Generator | None = None) -> torch.Tensor:
    return weight.copy_(torch.eye(weight.shape[0]))


def test_a_linear_identity_stack_keeps_both_variances() -> None:
    gen = torch.Generator().manual_seed(0)
    acts, grads = layer_variances(lambda h: h, _identity, depth=4, width=8, batch=64,
                                  generator=gen)  # fmt: skip
    # every h_l is the input x; every ∂L/∂h_l is r
    assert len(acts) == len(grads) == 4
    assert max(acts) - min(acts) < 1e-6 and max(grads) - min(grads) < 1e-6


def test_relu_halves_the_second_moment_per_identity_layer() -> None:
    gen = torch.Generator().manual_seed(0)
    acts, _ = layer_variances(torch.relu, _identity, depth=3, width=64, batch=4096,
                              generator=gen)  # fmt: skip
    # h_1 = x, h_2 = relu(x): Var = (1/2)(1 − 1/π); h_3 = h_2 (relu is idempotent)
    assert acts[1] == pytest.approx(0.5 * (1 - 1 / math.pi), rel=0.05)
    assert acts[2] == pytest.approx(acts[1], rel=1e-6)


@pytest.mark.parametrize("dim", [3, 200, 2000])  # 2000: three chunks of pairs
def test_cosines_of_random_vectors_have_variance_one_over_d(dim: int) -> None:
    cos = cosine_sample(dim, 1500, torch.Generator().manual_seed(dim))
    assert cos.shape == (1500,) and cos.abs().max() <= 1
    assert float((cos**2).mean()) * dim == pytest.approx(1.0, rel=0.15)
    again = cosine_sample(dim, 1500, torch.Generator().manual_seed(dim))
    assert torch.equal(cos, again)
