"""Every registered CNN: output shapes for 28×28×1 and 32×32×3, sane parameter counts."""

from __future__ import annotations

import pytest
import torch

from danlu.nn.cnn import MODELS, create_model

# name -> (min, max) parameters for 1×28×28 inputs and 10 classes.
PARAMETER_RANGES = {
    "lenet5": (61_706, 61_706),  # the textbook count
    "lenet5_modern": (61_706, 63_000),  # + batch-norm scales and shifts
    "alexnet_small": (1_000_000, 4_000_000),
    "vgg11_small": (500_000, 2_000_000),
    "nin": (1_000_000, 3_000_000),
    "googlenet": (5_000_000, 7_000_000),
    "resnet18": (11_000_000, 11_500_000),
    "resnet20": (270_000, 275_000),
    "densenet": (500_000, 1_000_000),
}


def test_every_model_has_a_parameter_range() -> None:
    assert set(PARAMETER_RANGES) == set(MODELS)


@pytest.mark.parametrize("name", list(MODELS))
def test_forward_shapes_for_28x28x1_and_32x32x3(name: str) -> None:
    torch.manual_seed(0)
    for channels, size, classes in [(1, 28, 10), (3, 32, 7)]:
        model = create_model(name, in_channels=channels, num_classes=classes, input_size=size)
        model.eval()
        with torch.no_grad():
            out = model(torch.randn(2, channels, size, size))
        assert out.shape == (2, classes), name
        assert torch.isfinite(out).all()


@pytest.mark.parametrize("name", list(MODELS))
def test_parameter_counts_are_sane(name: str) -> None:
    low, high = PARAMETER_RANGES[name]
    n = sum(p.numel() for p in create_model(name).parameters())
    assert low <= n <= high, f"{name}: {n:,} parameters"


def test_resnet18_has_the_known_cifar_count() -> None:
    model = create_model("resnet18", in_channels=3, num_classes=10, input_size=32)
    assert sum(p.numel() for p in model.parameters()) == 11_173_962
