"""danlu.nn.normalization modules equal nn.BatchNorm1d/2d and nn.LayerNorm, both impls."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from torch import nn

from danlu.errors import UsageError
from danlu.nn.normalization import BatchNorm1d, BatchNorm2d, LayerNorm

D = torch.float64

BATCH_NORM_CASES = [
    # (danlu class, torch class, input shape, constructor kwargs)
    (BatchNorm1d, nn.BatchNorm1d, (8, 4), {}),
    (BatchNorm1d, nn.BatchNorm1d, (6, 4, 5), {"momentum": 0.3}),
    (BatchNorm1d, nn.BatchNorm1d, (8, 4), {"momentum": None}),
    (BatchNorm1d, nn.BatchNorm1d, (8, 4), {"affine": False}),
    (BatchNorm1d, nn.BatchNorm1d, (8, 4), {"track_running_stats": False}),
    (BatchNorm2d, nn.BatchNorm2d, (4, 3, 5, 6), {}),
    (BatchNorm2d, nn.BatchNorm2d, (4, 3, 5, 6), {"momentum": None, "eps": 1e-3}),
]


def _run_steps(module: nn.Module, shape: tuple[int, ...]) -> list[Any]:
    """Three training steps, then one eval step; record outputs, gradients and buffers."""
    g = torch.Generator().manual_seed(0)
    record: list[Any] = []
    for step in range(4):
        module.train(step < 3)
        x = (torch.randn(*shape, generator=g, dtype=D) * (step + 1) + step).requires_grad_()
        y = module(x)
        weights = torch.randn(y.shape, generator=g, dtype=D)
        module.zero_grad()
        (y * weights).sum().backward()
        record.append(y.detach())
        record.append(x.grad)
        record += [p.grad.clone() for p in module.parameters()]  # type: ignore[union-attr]
        record += [b.clone() for b in module.buffers()]
    return record


@pytest.mark.parametrize("impl", ["reference", "torch"])
@pytest.mark.parametrize(("ours", "theirs", "shape", "kwargs"), BATCH_NORM_CASES)
def test_batch_norm_matches_torch_in_train_and_eval(
    ours: type, theirs: type, shape: tuple[int, ...], kwargs: dict[str, Any], impl: str
) -> None:
    channels = shape[1]
    reference = theirs(channels, dtype=D, **kwargs)
    module = ours(channels, impl=impl, dtype=D, **kwargs)
    if reference.affine:  # non-trivial γ, β, copied through the state dict
        with torch.no_grad():
            reference.weight.uniform_(0.5, 1.5)
            reference.bias.uniform_(-0.5, 0.5)
    module.load_state_dict(reference.state_dict())
    for a, b in zip(_run_steps(module, shape), _run_steps(reference, shape), strict=True):
        torch.testing.assert_close(a, b)


def test_batch_norm_state_dict_round_trips_to_torch() -> None:
    module = BatchNorm2d(3, impl="reference")
    module(torch.randn(4, 3, 2, 2))
    reference = nn.BatchNorm2d(3)
    reference.load_state_dict(module.state_dict())
    assert int(reference.num_batches_tracked) == 1
    torch.testing.assert_close(reference.running_mean, module.running_mean)


@pytest.mark.parametrize("impl", ["reference", "torch"])
@pytest.mark.parametrize(
    ("shape", "normalized", "kwargs"),
    [
        ((4, 6, 16), 16, {}),
        ((4, 3, 5, 5), (3, 5, 5), {"eps": 1e-3}),
        ((4, 16), 16, {"bias": False}),
        ((4, 16), 16, {"elementwise_affine": False}),
    ],
)
def test_layer_norm_matches_torch(
    shape: tuple[int, ...], normalized: Any, kwargs: dict[str, Any], impl: str
) -> None:
    reference = nn.LayerNorm(normalized, dtype=D, **kwargs)
    with torch.no_grad():
        for p in reference.parameters():
            p.uniform_(0.5, 1.5)
    module = LayerNorm(normalized, impl=impl, dtype=D, **kwargs)
    module.load_state_dict(reference.state_dict())
    for mode in (True, False):  # identical in training and evaluation
        reference.train(mode)
        module.train(mode)
        for a, b in zip(_run_steps(module, shape), _run_steps(reference, shape), strict=True):
            torch.testing.assert_close(a, b)


@pytest.mark.parametrize(
    ("build", "error", "match"),
    [
        (lambda: BatchNorm1d(4, impl="fused"), UsageError, "valid: torch, reference"),
        (lambda: BatchNorm1d(0), ValueError, "positive int"),
        (lambda: BatchNorm1d(4, momentum=1.5), ValueError, r"momentum must be in \[0, 1\]"),
        (lambda: BatchNorm2d(4, eps=0), ValueError, "eps must be > 0"),
        (lambda: LayerNorm(()), ValueError, "non-empty shape"),
        (lambda: LayerNorm(8, impl="x"), UsageError, "valid: torch, reference"),
    ],
)
def test_bad_arguments_are_rejected_with_the_rule(build: Any, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        build()


@pytest.mark.parametrize(
    ("module", "shape"),
    [(BatchNorm1d(4), (2, 4, 3, 3)), (BatchNorm2d(4), (2, 4, 3)), (BatchNorm1d(4), (2, 5))],
)
def test_batch_norm_rejects_wrong_input_shapes(module: nn.Module, shape: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match="expects input"):
        module(torch.randn(*shape))
