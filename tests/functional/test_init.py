"""danlu.functional.init: each initializer has the variance its formula promises."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest
import torch

from danlu.functional.init import (
    fan_in_and_fan_out,
    geometric_normal_,
    he_normal_,
    he_uniform_,
    orthogonal_,
    xavier_normal_,
    xavier_uniform_,
)

FAN_IN, FAN_OUT = 1024, 512

VARIANCE_CASES: list[tuple[str, Callable[..., torch.Tensor], float]] = [
    # (name, initializer, expected variance for a (FAN_OUT, FAN_IN) weight)
    ("xavier_normal", xavier_normal_, 2 / (FAN_IN + FAN_OUT)),
    ("xavier_uniform", xavier_uniform_, 2 / (FAN_IN + FAN_OUT)),
    ("he_normal", he_normal_, 2 / FAN_IN),
    ("he_uniform", he_uniform_, 2 / FAN_IN),
    ("he_normal_leaky", lambda w, **k: he_normal_(w, 0.2, **k), 2 / (1.04 * FAN_IN)),
    ("he_normal_fan_out", lambda w, **k: he_normal_(w, mode="fan_out", **k), 2 / FAN_OUT),
    ("geometric", geometric_normal_, 1 / FAN_IN),
    ("orthogonal", orthogonal_, 1 / FAN_IN),  # rows of a wide Q are unit vectors of length FAN_IN
]


@pytest.mark.parametrize(("name", "init", "variance"), VARIANCE_CASES)
def test_initializer_variance_matches_its_formula(
    name: str, init: Callable[..., torch.Tensor], variance: float
) -> None:
    w = torch.empty(FAN_OUT, FAN_IN)
    assert init(w, generator=torch.Generator().manual_seed(0)) is w
    assert abs(w.mean().item()) < 0.01 * math.sqrt(variance)
    assert w.var().item() == pytest.approx(variance, rel=0.02)


@pytest.mark.parametrize(
    ("init", "bound"),
    [(xavier_uniform_, math.sqrt(6 / (FAN_IN + FAN_OUT))), (he_uniform_, math.sqrt(6 / FAN_IN))],
)
def test_uniform_initializers_stay_within_their_bound(
    init: Callable[..., torch.Tensor], bound: float
) -> None:
    w = init(torch.empty(FAN_OUT, FAN_IN))
    assert w.abs().max().item() <= bound
    assert w.abs().max().item() > 0.99 * bound


def test_fans_of_linear_and_conv_weights() -> None:
    assert fan_in_and_fan_out(torch.empty(10, 20)) == (20, 10)
    assert fan_in_and_fan_out(torch.empty(64, 3, 5, 5)) == (75, 1600)
    assert fan_in_and_fan_out(torch.empty(8, 4, 3)) == (12, 24)


@pytest.mark.parametrize("shape", [(6, 6), (4, 9), (9, 4), (8, 2, 3, 3)])
def test_orthogonal_has_orthonormal_rows_or_columns(shape: tuple[int, ...]) -> None:
    w = orthogonal_(torch.empty(*shape, dtype=torch.float64), gain=2.0)
    flat = w.reshape(shape[0], -1) / 2.0
    small = min(flat.shape)
    gram = flat @ flat.T if flat.shape[0] == small else flat.T @ flat
    torch.testing.assert_close(gram, torch.eye(small, dtype=torch.float64))


def test_initializers_are_reproducible_with_a_generator() -> None:
    a = he_normal_(torch.empty(5, 5), generator=torch.Generator().manual_seed(3))
    b = he_normal_(torch.empty(5, 5), generator=torch.Generator().manual_seed(3))
    assert torch.equal(a, b)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: xavier_normal_(torch.empty(5)), "at least 2 dimensions"),
        (lambda: xavier_uniform_(torch.empty(3, 3), gain=0.0), "gain must be > 0"),
        (lambda: he_normal_(torch.empty(3, 3), mode="fan"), "'fan_in'"),  # type: ignore[arg-type]
        (lambda: he_uniform_(torch.empty(3, 3), negative_slope=-1), "negative_slope"),
        (lambda: orthogonal_(torch.empty(4)), "at least 2 dimensions"),
    ],
)
def test_bad_arguments_raise_value_errors(call: Callable[[], object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        call()
