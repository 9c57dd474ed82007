"""danlu.functional.normalization equals PyTorch's fused F.batch_norm / F.layer_norm."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from danlu.functional.normalization import batch_norm, layer_norm

D = torch.float64


def _leaf(*shape: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(*shape, generator=g, dtype=D) * 2 + 0.5).requires_grad_()


BATCH_NORM_CASES = [
    # (input shape, training, affine)
    ((8, 3), True, True),
    ((8, 3), False, True),
    ((6, 4, 5), True, True),
    ((6, 4, 5), True, False),
    ((4, 3, 5, 6), True, True),
    ((4, 3, 5, 6), False, True),
    ((2, 3, 1, 1), True, True),  # n = 2 values per channel: the unbiased factor is 2
]


@pytest.mark.parametrize(("shape", "training", "affine"), BATCH_NORM_CASES)
def test_batch_norm_matches_torch(shape: tuple[int, ...], training: bool, affine: bool) -> None:
    channels = shape[1]
    outs, grads, stats = [], [], []
    for fn in ("reference", "torch"):
        x = _leaf(*shape, seed=0)
        weight = _leaf(channels, seed=1) if affine else None
        bias = _leaf(channels, seed=2) if affine else None
        running_mean = torch.linspace(-1, 1, channels, dtype=D)
        running_var = torch.linspace(0.5, 2, channels, dtype=D)
        if fn == "reference":
            y = batch_norm(
                x, running_mean, running_var, weight, bias,
                training=training, momentum=0.3, eps=1e-3,
            )  # fmt: skip
        else:
            y = F.batch_norm(x, running_mean, running_var, weight, bias, training, 0.3, 1e-3)
        (y * torch.cos(torch.arange(y.numel(), dtype=D)).view_as(y)).sum().backward()
        outs.append(y.detach())
        leaves = [x] + ([weight, bias] if affine else [])
        grads.append([t.grad for t in leaves])  # type: ignore[union-attr]
        stats.append((running_mean, running_var))
    torch.testing.assert_close(outs[0], outs[1])
    for a, b in zip(*grads, strict=True):
        torch.testing.assert_close(a, b)
    for a, b in zip(*stats, strict=True):
        torch.testing.assert_close(a, b)


def test_batch_norm_without_running_stats_normalizes_each_channel() -> None:
    x = _leaf(16, 3, 7, seed=3).detach()
    y = batch_norm(x, None, None, training=False, eps=0.0)
    torch.testing.assert_close(y.mean(dim=(0, 2)), torch.zeros(3, dtype=D))
    torch.testing.assert_close(y.var(dim=(0, 2), correction=0), torch.ones(3, dtype=D))


def test_batch_norm_updates_running_var_with_unbiased_variance() -> None:
    x = torch.tensor([[1.0], [3.0]], dtype=D)  # mean 2, biased var 1, unbiased var 2
    running_mean, running_var = torch.zeros(1, dtype=D), torch.zeros(1, dtype=D)
    batch_norm(x, running_mean, running_var, training=True, momentum=1.0)
    assert running_mean.item() == 2.0
    assert running_var.item() == 2.0


def test_batch_norm_rejects_one_value_per_channel_in_training() -> None:
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        batch_norm(torch.randn(1, 4), None, None, training=True)


LAYER_NORM_CASES = [
    # (input shape, normalized_shape, affine)
    ((5, 8), (8,), True),
    ((2, 7, 16), (16,), True),
    ((2, 7, 16), (16,), False),
    ((3, 4, 5, 6), (4, 5, 6), True),
]


@pytest.mark.parametrize(("shape", "normalized", "affine"), LAYER_NORM_CASES)
def test_layer_norm_matches_torch(
    shape: tuple[int, ...], normalized: tuple[int, ...], affine: bool
) -> None:
    outs, grads = [], []
    for fn in (layer_norm, F.layer_norm):
        x = _leaf(*shape, seed=0)
        weight = _leaf(*normalized, seed=1) if affine else None
        bias = _leaf(*normalized, seed=2) if affine else None
        y = fn(x, normalized, weight, bias, 1e-4)
        (y * torch.sin(torch.arange(y.numel(), dtype=D)).view_as(y)).sum().backward()
        outs.append(y.detach())
        grads.append([t.grad for t in [x] + ([weight, bias] if affine else [])])  # type: ignore[union-attr]
    torch.testing.assert_close(outs[0], outs[1])
    for a, b in zip(*grads, strict=True):
        torch.testing.assert_close(a, b)


def test_layer_norm_rejects_mismatched_shape() -> None:
    with pytest.raises(ValueError, match=r"trailing shape \(8,\)"):
        layer_norm(torch.randn(2, 5), (8,))
