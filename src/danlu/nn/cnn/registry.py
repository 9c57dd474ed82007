"""Convolutional models by name: ``create_model("resnet18", in_channels=1, num_classes=10)``.

==============  ==========================================  ===================
name            model                                       parameters (1×28×28,
                                                            10 classes)
==============  ==========================================  ===================
lenet5          LeNet-5, sigmoid + average pooling          61.7 K
lenet5_modern   LeNet-5, ReLU + max pooling + batch norm    62.2 K
alexnet_small   AlexNet, 3×3 stem, half width               2.1 M
vgg11_small     VGG-11 with a quarter of the channels       0.91 M
nin             Network in Network                          2.0 M
googlenet       GoogLeNet (Inception v1)                    6.0 M
resnet18        ResNet-18, CIFAR stem                       11.2 M
resnet20        ResNet-20, the paper's CIFAR network        0.27 M
densenet        DenseNet, 4 blocks × 4 layers, growth 32    0.76 M
==============  ==========================================  ===================

The names and their one-line descriptions are :data:`danlu.names.CNN_MODELS`; the table
here is an explicit dict built from them with :func:`danlu.names.implement` (no
registration by import side effect).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from torch import nn

from danlu.errors import UsageError
from danlu.names import CNN_MODELS, implement
from danlu.nn.cnn.alexnet import AlexNetSmall
from danlu.nn.cnn.densenet import DenseNet
from danlu.nn.cnn.googlenet import GoogLeNet
from danlu.nn.cnn.lenet import LeNet5
from danlu.nn.cnn.nin import NiN
from danlu.nn.cnn.resnet import resnet18, resnet20
from danlu.nn.cnn.vgg import VGG

__all__ = ["MODELS", "create_model", "model_names"]

#: name -> factory ``(in_channels, num_classes, input_size, **options) -> nn.Module``.
MODELS: dict[str, Callable[..., nn.Module]] = implement(CNN_MODELS, {
    "lenet5": LeNet5,
    "lenet5_modern": partial(LeNet5, modern=True),
    "alexnet_small": AlexNetSmall,
    "vgg11_small": VGG,
    "nin": NiN,
    "googlenet": GoogLeNet,
    "resnet18": resnet18,
    "resnet20": resnet20,
    "densenet": DenseNet,
}, "CNN models")  # fmt: skip


def model_names() -> list[str]:
    """Names accepted by :func:`create_model`, in table order."""
    return list(MODELS)


def create_model(
    name: str,
    *,
    in_channels: int = 1,
    num_classes: int = 10,
    input_size: int = 28,
    **options: Any,
) -> nn.Module:
    """Build a fresh model by name; unknown names list the valid ones.

    Args:
        name: a key of :data:`MODELS`.
        in_channels: image channels (1 for MNIST/Fashion-MNIST, 3 for CIFAR).
        num_classes: number of logits.
        input_size: image side, 28 or 32.
        **options: family-specific keyword arguments (e.g. ``activation`` for LeNet).

    Returns:
        The model, mapping ``(B, in_channels, input_size, input_size)`` to
        ``(B, num_classes)`` logits.

    Example:
        >>> import torch
        >>> model = create_model("resnet18", in_channels=1, num_classes=10)
        >>> model(torch.zeros(2, 1, 28, 28)).shape
        torch.Size([2, 10])
    """
    try:
        factory = MODELS[name]
    except KeyError:
        raise UsageError(f"unknown model {name!r}; valid: {', '.join(MODELS)}") from None
    for arg, value in (("in_channels", in_channels), ("num_classes", num_classes)):
        if value < 1:
            raise UsageError(f"{arg} must be >= 1, got {value}")
    return factory(in_channels, num_classes, input_size, **options)
