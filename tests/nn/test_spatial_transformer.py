"""Spatial transformer: identity at initialization, correct warps, trainable."""

from __future__ import annotations

import pytest
import torch

from danlu.nn.spatial_transformer import SpatialTransformer


@pytest.mark.parametrize(("channels", "size"), [(1, 28), (3, 32)])
def test_returns_its_input_at_initialization(channels: int, size: int) -> None:
    torch.manual_seed(0)
    st = SpatialTransformer(channels).double()
    x = torch.rand(4, channels, size, size, dtype=torch.float64)
    theta = st.theta(x)
    torch.testing.assert_close(
        theta, torch.tensor([[1.0, 0, 0], [0, 1, 0]]).double().expand(4, 2, 3)
    )
    torch.testing.assert_close(st(x), x)


def test_known_transforms() -> None:
    st = SpatialTransformer(1).double()
    x = torch.rand(2, 1, 12, 16, dtype=torch.float64)
    with torch.no_grad():
        st.fc_theta.bias.copy_(torch.tensor([-1.0, 0, 0, 0, 1, 0]))  # x_s = -x_t: mirror
    torch.testing.assert_close(st(x), x.flip(-1))
    with torch.no_grad():
        st.fc_theta.bias.copy_(torch.tensor([1.0, 0, 2 / 16, 0, 1, 0]))  # shift by one pixel
    out = st(x)
    torch.testing.assert_close(out[..., :-1], x[..., 1:])  # output pixel j reads input j + 1
    assert torch.all(out[..., -1] == 0)  # zeros padding beyond the border


def test_output_size_and_gradients_reach_the_localization_net() -> None:
    torch.manual_seed(0)
    st = SpatialTransformer(1, output_size=(14, 10))
    x = torch.rand(3, 1, 28, 28)
    out = st(x)
    assert out.shape == (3, 1, 14, 10)
    (out * torch.randn_like(out)).sum().backward()
    assert st.fc_theta.weight.grad is not None and st.fc_theta.weight.grad.abs().sum() > 0


def test_rejects_tiny_images() -> None:
    with pytest.raises(ValueError, match=r"H, W >= 8, got \(1, 1, 5, 5\)"):
        SpatialTransformer(1)(torch.zeros(1, 1, 5, 5))
