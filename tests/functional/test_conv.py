"""Output-size helpers agree with the shapes PyTorch's layers actually produce."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from danlu.functional.conv import (
    conv2d_output_shape,
    conv_output_size,
    conv_transpose_output_size,
    pool2d_output_shape,
    pool_output_size,
)


@settings(max_examples=60, deadline=None)
@given(
    size=st.integers(1, 40),
    k=st.integers(1, 7),
    s=st.integers(1, 4),
    p=st.integers(0, 3),
    d=st.integers(1, 3),
)
def test_conv_output_size_matches_conv1d(size: int, k: int, s: int, p: int, d: int) -> None:
    span = d * (k - 1) + 1
    if size + 2 * p < span:
        with pytest.raises(ValueError, match="exceeds the padded input"):
            conv_output_size(size, k, s, p, d)
        return
    conv = nn.Conv1d(1, 1, k, stride=s, padding=p, dilation=d)
    assert conv_output_size(size, k, s, p, d) == conv(torch.zeros(1, 1, size)).shape[-1]


@settings(max_examples=60, deadline=None)
@given(
    size=st.integers(1, 40),
    k=st.integers(1, 6),
    s=st.integers(1, 4),
    p=st.integers(0, 3),
    ceil=st.booleans(),
)
def test_pool_output_size_matches_maxpool1d(size: int, k: int, s: int, p: int, ceil: bool) -> None:
    if p > k // 2 or size + 2 * p < k:
        return  # PyTorch rejects these configurations
    pool = nn.MaxPool1d(k, stride=s, padding=p, ceil_mode=ceil)
    expect = pool(torch.zeros(1, 1, size)).shape[-1]
    assert pool_output_size(size, k, s, p, ceil_mode=ceil) == expect


@pytest.mark.parametrize(("size", "k", "s", "p", "op"), [(14, 2, 2, 0, 0), (7, 3, 2, 1, 1)])
def test_conv_transpose_matches_torch(size: int, k: int, s: int, p: int, op: int) -> None:
    layer = nn.ConvTranspose1d(1, 1, k, stride=s, padding=p, output_padding=op)
    expect = layer(torch.zeros(1, 1, size)).shape[-1]
    assert conv_transpose_output_size(size, k, s, p, op) == expect


def test_2d_shapes_match_torch_layers() -> None:
    x = torch.zeros(1, 1, 28, 32)
    assert conv2d_output_shape((28, 32), 5, padding=(2, 0)) == tuple(
        nn.Conv2d(1, 1, 5, padding=(2, 0))(x).shape[-2:]
    )
    assert pool2d_output_shape((28, 32), 3, 2, ceil_mode=True) == tuple(
        nn.MaxPool2d(3, 2, ceil_mode=True)(x).shape[-2:]
    )
    assert pool2d_output_shape(28, 2) == (14, 14)


def test_errors_name_values() -> None:
    with pytest.raises(ValueError, match=r"stride=0"):
        conv_output_size(10, 3, stride=0)
    with pytest.raises(ValueError, match=r"output_padding must be in .* = \[0, 2\), got 2"):
        conv_transpose_output_size(5, 3, stride=2, output_padding=2)
    with pytest.raises(ValueError, match=r"a pair \(height, width\)"):
        conv2d_output_shape((1, 2, 3), 3)
