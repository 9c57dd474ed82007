"""Helpers of the CNN claims: the MLP family and the parameters needed to reach a loss."""

from __future__ import annotations

import math

import pytest
import torch

from danlu.lab.cnn import _target_function, mlp, params_to_reach


@pytest.mark.parametrize(("depth", "width"), [(1, 16), (2, 10), (4, 6)])
def test_mlp_parameter_count(depth: int, width: int) -> None:
    net = mlp(depth, width)
    expected = 3 * width + (depth - 1) * (width + 1) * width + width + 1
    assert sum(p.numel() for p in net.parameters()) == expected
    assert net(torch.zeros(5, 2)).shape == (5, 1)


def test_params_to_reach_interpolates_in_log_log() -> None:
    assert params_to_reach([100, 1000], [0.1, 0.001], 0.01) == pytest.approx(math.sqrt(1e5))
    assert params_to_reach([100, 1000], [0.005, 0.001], 0.01) == 100
    assert params_to_reach([100, 1000], [0.1, 0.05], 0.01) == math.inf


def test_params_to_reach_uses_the_best_so_far() -> None:
    # the third net is worse than the second: the envelope keeps 0.02 until the fourth
    with_bump = params_to_reach([10, 20, 40, 80], [0.1, 0.02, 0.05, 0.005], 0.01)
    assert with_bump == pytest.approx(40 * 2 ** (math.log(2) / math.log(4)))


def test_target_function_is_fixed() -> None:
    x = torch.rand(50, 2) * 2 - 1
    assert torch.equal(_target_function(x), _target_function(x))
    assert _target_function(x).shape == (50, 1)
