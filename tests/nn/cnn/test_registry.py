"""create_model: names, errors that list the valid names, input-size validation."""

from __future__ import annotations

import pytest
import torch

from danlu.errors import UsageError
from danlu.nn.cnn import LeNet5, ResNet, create_model, model_names


def test_unknown_name_lists_the_valid_ones() -> None:
    with pytest.raises(UsageError) as err:
        create_model("resnet19")
    message = str(err.value)
    assert "'resnet19'" in message
    for name in model_names():
        assert name in message


def test_factories_build_the_named_family() -> None:
    assert isinstance(create_model("resnet18", in_channels=1, num_classes=10), ResNet)
    lenet = create_model("lenet5_modern", activation="gelu")
    assert isinstance(lenet, LeNet5)
    assert any(isinstance(m, torch.nn.GELU) for m in lenet.modules())
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in lenet.modules())


def test_bad_sizes_raise_with_the_value() -> None:
    with pytest.raises(UsageError, match=r"num_classes must be >= 1, got 0"):
        create_model("lenet5", num_classes=0)
    with pytest.raises(ValueError, match=r"NiN: input_size=8 is too small"):
        create_model("nin", input_size=8)
    model = create_model("lenet5", input_size=28)
    with pytest.raises(
        ValueError, match=r"built for inputs \(B, 1, 28, 28\), got \(2, 1, 32, 32\)"
    ):
        model(torch.zeros(2, 1, 32, 32))
