"""GoogLeNet (Inception v1), sized for 28×28 and 32×32 images.

An Inception block runs four paths on the same input and concatenates them on channels:

    1×1 conv (c1)
    1×1 conv (c2[0]) -> 3×3 conv (c2[1])
    1×1 conv (c3[0]) -> 5×5 conv (c3[1])
    3×3 max pool (stride 1) -> 1×1 conv (c4)           output: c1 + c2[1] + c3[1] + c4

The 1×1 convolutions shrink the channels before the costly 3×3 and 5×5 ones. Block sizes
follow the paper (3a..5b); the 7×7 stride-2 stem is replaced by 3×3 convolutions and the
pooling steps are 28 -> 14 -> 7 -> 4 -> global average.

Paper: Szegedy et al., "Going Deeper with Convolutions", CVPR 2015.
"""

from __future__ import annotations

from functools import partial

import torch
from torch import Tensor, nn

from danlu.functional.conv import pool_output_size
from danlu.nn.cnn._sizes import trace_size

__all__ = ["GoogLeNet", "Inception"]


def _conv(c_in: int, c_out: int, k: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, k, padding=k // 2), nn.ReLU(inplace=True))


class Inception(nn.Module):
    """Inception block: four parallel paths concatenated; ``(B, C, S, S)`` ->
    ``(B, c1 + c2[1] + c3[1] + c4, S, S)``."""

    def __init__(
        self, in_channels: int, c1: int, c2: tuple[int, int], c3: tuple[int, int], c4: int
    ) -> None:
        super().__init__()
        self.p1 = _conv(in_channels, c1, 1)
        self.p2 = nn.Sequential(_conv(in_channels, c2[0], 1), _conv(c2[0], c2[1], 3))
        self.p3 = nn.Sequential(_conv(in_channels, c3[0], 1), _conv(c3[0], c3[1], 5))
        self.p4 = nn.Sequential(nn.MaxPool2d(3, stride=1, padding=1), _conv(in_channels, c4, 1))
        self.out_channels = c1 + c2[1] + c3[1] + c4

    def forward(self, x: Tensor) -> Tensor:
        return torch.cat([self.p1(x), self.p2(x), self.p3(x), self.p4(x)], dim=1)


class GoogLeNet(nn.Module):
    """GoogLeNet; ``x (B, C, S, S)`` -> logits ``(B, num_classes)``.

    Args:
        in_channels: image channels.
        num_classes: outputs.
        input_size: image side (28 or 32).
        dropout: dropout before the final linear layer (0.4 in the paper).

    Example:
        >>> GoogLeNet()(torch.zeros(2, 1, 28, 28)).shape
        torch.Size([2, 10])
    """

    def __init__(
        self,
        in_channels: int = 1,
        num_classes: int = 10,
        input_size: int = 28,
        *,
        dropout: float = 0.4,
    ) -> None:
        super().__init__()
        pool = partial(pool_output_size, kernel_size=3, stride=2, padding=1)
        trace_size("GoogLeNet", input_size, [pool] * 3)

        def maxpool() -> nn.Module:
            return nn.MaxPool2d(3, stride=2, padding=1)

        self.net = nn.Sequential(
            _conv(in_channels, 64, 3), _conv(64, 64, 1), _conv(64, 192, 3),
            maxpool(),  # (B, 192, 14, 14)
            Inception(192, 64, (96, 128), (16, 32), 32),  # 3a -> 256
            Inception(256, 128, (128, 192), (32, 96), 64),  # 3b -> 480
            maxpool(),  # (B, 480, 7, 7)
            Inception(480, 192, (96, 208), (16, 48), 64),  # 4a -> 512
            Inception(512, 160, (112, 224), (24, 64), 64),  # 4b -> 512
            Inception(512, 128, (128, 256), (24, 64), 64),  # 4c -> 512
            Inception(512, 112, (144, 288), (32, 64), 64),  # 4d -> 528
            Inception(528, 256, (160, 320), (32, 128), 128),  # 4e -> 832
            maxpool(),  # (B, 832, 4, 4)
            Inception(832, 256, (160, 320), (32, 128), 128),  # 5a -> 832
            Inception(832, 384, (192, 384), (48, 128), 128),  # 5b -> 1024
            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(dropout),  # (B, 1024)
            nn.Linear(1024, num_classes),
        )  # fmt: skip

    def forward(self, x: Tensor) -> Tensor:
        """``x (B, C, S, S)`` -> logits ``(B, num_classes)``."""
        return self.net(x)
