"""DenseNet: every layer in a block receives the concatenation of all earlier outputs.

Inside a dense block, layer ``l`` computes ``x_l = H([x_0, x_1, ..., x_{l-1}])`` with
``H = BN -> ReLU -> conv 3×3`` producing ``k`` (the growth rate) new channels, so a block of
``L`` layers turns ``C`` channels into ``C + L·k``. Transition layers between blocks
(``BN -> ReLU -> conv 1×1 -> avg pool 2×2``) halve both the channels and the side.

Sized for small images: a 3×3 stem without pooling, four blocks of four layers, growth 32:
28 -> 14 -> 7 -> 3, then global average pooling.

Paper: Huang, Liu, van der Maaten, Weinberger, "Densely Connected Convolutional
Networks", CVPR 2017.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import torch
from torch import Tensor, nn

from danlu.functional.conv import pool_output_size
from danlu.nn.cnn._sizes import trace_size

__all__ = ["DenseBlock", "DenseNet", "transition_block"]


def _bn_relu_conv(c_in: int, c_out: int, k: int) -> nn.Sequential:
    return nn.Sequential(
        nn.BatchNorm2d(c_in), nn.ReLU(inplace=True), nn.Conv2d(c_in, c_out, k, padding=k // 2)
    )


class DenseBlock(nn.Module):
    """``num_layers`` BN-ReLU-conv layers, each fed all previous feature maps.

    ``(B, C, S, S)`` -> ``(B, C + num_layers·growth_rate, S, S)``.
    """

    def __init__(self, num_layers: int, in_channels: int, growth_rate: int) -> None:
        super().__init__()
        self.layers = nn.ModuleList(
            _bn_relu_conv(in_channels + i * growth_rate, growth_rate, 3) for i in range(num_layers)
        )
        self.out_channels = in_channels + num_layers * growth_rate

    def forward(self, x: Tensor) -> Tensor:
        for layer in self.layers:
            x = torch.cat([x, layer(x)], dim=1)  # (B, C + k, S, S): keep everything so far
        return x


def transition_block(in_channels: int, out_channels: int) -> nn.Sequential:
    """BN -> ReLU -> conv 1×1 -> avg pool 2×2: ``(B, C_in, S, S)`` -> ``(B, C_out, S/2, S/2)``."""
    return nn.Sequential(_bn_relu_conv(in_channels, out_channels, 1), nn.AvgPool2d(2))


class DenseNet(nn.Module):
    """DenseNet for small images; ``x (B, C, S, S)`` -> logits ``(B, num_classes)``.

    Args:
        in_channels: image channels.
        num_classes: outputs.
        input_size: image side (28 or 32).
        growth_rate: channels added per layer ``k``.
        block_layers: layers per dense block.
        stem_channels: channels of the first convolution.

    Example:
        >>> DenseNet()(torch.zeros(2, 1, 28, 28)).shape
        torch.Size([2, 10])
    """

    def __init__(
        self,
        in_channels: int = 1,
        num_classes: int = 10,
        input_size: int = 28,
        *,
        growth_rate: int = 32,
        block_layers: Sequence[int] = (4, 4, 4, 4),
        stem_channels: int = 64,
    ) -> None:
        super().__init__()
        if not block_layers or min(block_layers) < 1 or growth_rate < 1:
            raise ValueError(
                f"need block_layers >= 1 and growth_rate >= 1, got "
                f"block_layers={tuple(block_layers)}, growth_rate={growth_rate}"
            )
        halve = partial(pool_output_size, kernel_size=2)
        trace_size("DenseNet", input_size, [halve] * (len(block_layers) - 1))
        layers: list[nn.Module] = [nn.Conv2d(in_channels, stem_channels, 3, padding=1)]
        c = stem_channels
        for i, n in enumerate(block_layers):
            block = DenseBlock(n, c, growth_rate)
            layers.append(block)
            c = block.out_channels
            if i < len(block_layers) - 1:  # transition: halve channels and side
                layers.append(transition_block(c, c // 2))
                c //= 2
        layers += [nn.BatchNorm2d(c), nn.ReLU(inplace=True), nn.AdaptiveAvgPool2d(1), nn.Flatten()]
        self.features = nn.Sequential(*layers)  # (B, c)
        self.classifier = nn.Linear(c, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        """``x (B, C, S, S)`` -> logits ``(B, num_classes)``."""
        return self.classifier(self.features(x))
