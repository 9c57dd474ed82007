"""AlexNet, scaled down for 28×28 and 32×32 images.

AlexNet's ideas kept: five convolutions with ReLU, overlapping max pooling, three fully
connected layers with dropout. Changed for small images: 3×3 kernels with stride 1 instead
of the 11×11 stride-4 stem (a 28×28 image would vanish), half the channels of the
original (its one-GPU half), 512-wide hidden layers instead of 4096.

    conv 3×3, 48 -> pool -> conv 3×3, 128 -> pool -> conv 192 -> conv 192 -> conv 128
    -> pool -> fc 512 -> fc 512 -> fc num_classes          (pool = max 3×3, stride 2)

Paper: Krizhevsky, Sutskever, Hinton, "ImageNet Classification with Deep Convolutional
Neural Networks", NeurIPS 2012.
"""

from __future__ import annotations

from functools import partial

from torch import Tensor, nn

from danlu.functional.conv import pool_output_size
from danlu.nn.cnn._sizes import check_input, trace_size

__all__ = ["AlexNetSmall"]


class AlexNetSmall(nn.Module):
    """AlexNet for small images; ``x (B, C, S, S)`` -> logits ``(B, num_classes)``.

    Args:
        in_channels: image channels.
        num_classes: outputs.
        input_size: image side ``S`` (28 or 32; at least 7).
        hidden: width of the two hidden fully connected layers.
        dropout: dropout before each hidden fully connected layer.

    Example:
        >>> import torch
        >>> AlexNetSmall(in_channels=3, input_size=32)(torch.zeros(2, 3, 32, 32)).shape
        torch.Size([2, 10])
    """

    def __init__(
        self,
        in_channels: int = 1,
        num_classes: int = 10,
        input_size: int = 28,
        *,
        hidden: int = 512,
        dropout: float = 0.5,
    ) -> None:
        super().__init__()
        self.in_channels, self.input_size = in_channels, input_size
        # Overlapping pooling (3×3, stride 2, padding 1) as in AlexNet: 28 -> 14 -> 7 -> 4.
        side = trace_size(
            "AlexNetSmall",
            input_size,
            [partial(pool_output_size, kernel_size=3, stride=2, padding=1)] * 3,
        )

        def conv(c_in: int, c_out: int) -> list[nn.Module]:
            return [nn.Conv2d(c_in, c_out, 3, padding=1), nn.ReLU(inplace=True)]

        def pool() -> nn.Module:
            return nn.MaxPool2d(3, stride=2, padding=1)

        self.features = nn.Sequential(
            *conv(in_channels, 48), pool(),  # (B, 48, S/2, S/2)
            *conv(48, 128), pool(),  # (B, 128, S/4, S/4)
            *conv(128, 192), *conv(192, 192), *conv(192, 128), pool(),  # (B, 128, s, s)
        )  # fmt: skip
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Dropout(dropout), nn.Linear(128 * side * side, hidden), nn.ReLU(inplace=True),
            nn.Dropout(dropout), nn.Linear(hidden, hidden), nn.ReLU(inplace=True),
            nn.Linear(hidden, num_classes),
        )  # fmt: skip

    def forward(self, x: Tensor) -> Tensor:
        """``x (B, C, S, S)`` -> logits ``(B, num_classes)``."""
        check_input("AlexNetSmall", x.shape, self.in_channels, self.input_size)
        return self.classifier(self.features(x))
