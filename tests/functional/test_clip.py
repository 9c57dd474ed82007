"""clip_grad_norm / clip_grad_value equal torch.nn.utils.clip_grad_norm_ / clip_grad_value_."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from danlu.functional.clip import clip_grad_norm, clip_grad_value


def _model_with_grads(scale: float) -> nn.Module:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3)).double()
    model[0].bias.requires_grad_(False)  # a parameter without a gradient is skipped
    (model(torch.randn(5, 4, dtype=torch.float64)).sum() * scale).backward()
    return model


@pytest.mark.parametrize("norm_type", [1.0, 2.0, 3.0, math.inf])
@pytest.mark.parametrize("max_norm", [0.01, 1.0, 1e6])  # clipping, clipping, no-op
def test_clip_grad_norm_matches_torch(norm_type: float, max_norm: float) -> None:
    ours, theirs = _model_with_grads(10.0), _model_with_grads(10.0)
    total = clip_grad_norm(ours.parameters(), max_norm, norm_type)
    expected = torch.nn.utils.clip_grad_norm_(theirs.parameters(), max_norm, norm_type)
    torch.testing.assert_close(total, expected)
    for a, b in zip(ours.parameters(), theirs.parameters(), strict=True):
        torch.testing.assert_close(a.grad, b.grad)
    clipped = torch.linalg.vector_norm(
        torch.cat([p.grad.flatten() for p in ours.parameters() if p.grad is not None]), norm_type
    )
    assert clipped.item() <= max_norm * (1 + 1e-9)  # after clipping the norm is within bounds


@pytest.mark.parametrize("clip_value", [0.05, 1.0])
def test_clip_grad_value_matches_torch(clip_value: float) -> None:
    ours, theirs = _model_with_grads(10.0), _model_with_grads(10.0)
    clip_grad_value(ours.parameters(), clip_value)
    torch.nn.utils.clip_grad_value_(theirs.parameters(), clip_value)
    for a, b in zip(ours.parameters(), theirs.parameters(), strict=True):
        torch.testing.assert_close(a.grad, b.grad)


def test_clip_grad_norm_accepts_one_tensor_and_keeps_the_direction() -> None:
    w = nn.Parameter(torch.ones(4))
    w.grad = torch.tensor([3.0, 4.0, 0.0, 0.0])
    assert clip_grad_norm(w, 1.0).item() == pytest.approx(5.0)
    torch.testing.assert_close(w.grad, torch.tensor([0.6, 0.8, 0.0, 0.0]), atol=1e-6, rtol=0)


def test_non_finite_norm_raises_when_asked() -> None:
    w = nn.Parameter(torch.ones(2))
    w.grad = torch.tensor([float("inf"), 1.0])
    with pytest.raises(RuntimeError, match="total gradient norm is inf"):
        clip_grad_norm([w], 1.0, error_if_nonfinite=True)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda p: clip_grad_norm(p, 0.0), "max_norm must be > 0"),
        (lambda p: clip_grad_norm(p, 1.0, norm_type=0.5), "norm_type must be >= 1"),
        (lambda p: clip_grad_value(p, -1.0), "clip_value must be > 0"),
    ],
)
def test_bad_arguments_raise_value_errors(call: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        call([nn.Parameter(torch.ones(2))])  # type: ignore[operator]
