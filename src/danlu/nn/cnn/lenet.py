"""LeNet-5, classic (sigmoid, average pooling) and modern (ReLU, max pooling, batch norm).

    conv 5×5, 6  -> act -> pool 2 -> conv 5×5, 16 -> act -> pool 2
    -> flatten (16·5·5) -> fc 120 -> act -> fc 84 -> act -> fc num_classes

The original takes 32×32 images; for 28×28 inputs (MNIST) the first convolution pads by 2
so both sizes reach the same 16×5×5 feature map (61,706 parameters with one input channel
and ten classes, as in the paper's C1..F6 plus a linear output layer).

Paper: LeCun, Bottou, Bengio, Haffner, "Gradient-Based Learning Applied to Document
Recognition", Proc. IEEE 1998.
"""

from __future__ import annotations

from functools import partial

from torch import Tensor, nn

from danlu.functional.conv import conv_output_size, pool_output_size
from danlu.nn.activations import create_activation
from danlu.nn.cnn._sizes import check_input, trace_size

__all__ = ["LeNet5"]


class LeNet5(nn.Module):
    """LeNet-5 for ``(B, in_channels, input_size, input_size)`` images.

    Args:
        in_channels: image channels (1 for MNIST, 3 for CIFAR).
        num_classes: outputs (logits).
        input_size: image height = width; 28 or 32 (anything >= 28 works).
        modern: ReLU, max pooling and batch norm instead of sigmoid and average pooling.
        activation: override the activation by name (default sigmoid classic, relu modern).

    Example:
        >>> import torch
        >>> LeNet5()(torch.zeros(2, 1, 28, 28)).shape
        torch.Size([2, 10])
    """

    def __init__(
        self,
        in_channels: int = 1,
        num_classes: int = 10,
        input_size: int = 28,
        *,
        modern: bool = False,
        activation: str | None = None,
    ) -> None:
        super().__init__()
        self.in_channels, self.input_size = in_channels, input_size
        act_name = activation or ("relu" if modern else "sigmoid")
        pad = max(0, (32 - input_size + 1) // 2)  # 28 -> pad 2, as if the image were 32
        side = trace_size(
            "LeNet5",
            input_size,
            [
                partial(conv_output_size, kernel_size=5, padding=pad),
                partial(pool_output_size, kernel_size=2),
                partial(conv_output_size, kernel_size=5),
                partial(pool_output_size, kernel_size=2),
            ],
        )  # 5 for 28 and 32

        def pool() -> nn.Module:
            return nn.MaxPool2d(2) if modern else nn.AvgPool2d(2)

        def norm2d(c: int) -> list[nn.Module]:
            return [nn.BatchNorm2d(c)] if modern else []

        def norm1d(c: int) -> list[nn.Module]:
            return [nn.BatchNorm1d(c)] if modern else []

        act = partial(create_activation, act_name)
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, 5, padding=pad), *norm2d(6), act(), pool(),  # (B,6,s,s)
            nn.Conv2d(6, 16, 5), *norm2d(16), act(), pool(),  # (B, 16, 5, 5)
        )  # fmt: skip
        self.classifier = nn.Sequential(
            nn.Flatten(),  # (B, 400)
            nn.Linear(16 * side * side, 120), *norm1d(120), act(),
            nn.Linear(120, 84), *norm1d(84), act(),
            nn.Linear(84, num_classes),  # (B, num_classes)
        )  # fmt: skip

    def forward(self, x: Tensor) -> Tensor:
        """``x (B, C, H, W)`` -> logits ``(B, num_classes)``."""
        check_input("LeNet5", x.shape, self.in_channels, self.input_size)
        return self.classifier(self.features(x))
