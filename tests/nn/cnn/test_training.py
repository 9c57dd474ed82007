"""A few optimizer steps on a tiny random batch decrease the loss (the models can learn)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from danlu.nn.cnn import DenseNet, LeNet5, ResNet


@pytest.mark.parametrize(
    "build",
    [
        lambda: LeNet5(),
        lambda: LeNet5(modern=True),
        lambda: ResNet(widths=(8, 16, 32, 64)),  # ResNet-18 layout, narrow to stay fast
        lambda: DenseNet(growth_rate=8, block_layers=(2, 2), stem_channels=8),
    ],
    ids=["lenet5", "lenet5_modern", "resnet_narrow", "densenet_small"],
)
def test_loss_decreases_on_a_tiny_batch(build) -> None:
    torch.manual_seed(0)
    x, y = torch.randn(8, 1, 28, 28), torch.randint(0, 10, (8,))
    model = build()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(6):
        loss = nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.9 * losses[0], losses  # sigmoid LeNet is the slowest (~0.84)
