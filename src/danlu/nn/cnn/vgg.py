"""VGG: networks built from repeated blocks of 3×3 convolutions and a 2×2 max pooling.

A VGG block is ``n × (conv 3×3, padding 1 -> ReLU)`` then ``max pool 2×2`` (halving the
side). Two stacked 3×3 convolutions see a 5×5 window with fewer parameters than one 5×5.

The default architecture is VGG-11's (1, 1, 2, 2, 2 convolutions per block) with a quarter
of its channels. Pooling rounds up (``ceil_mode``) so five halvings keep a 28×28 image
alive: 28 -> 14 -> 7 -> 4 -> 2 -> 1 (32 -> ... -> 1 as in the original).

Paper: Simonyan, Zisserman, "Very Deep Convolutional Networks for Large-Scale Image
Recognition", ICLR 2015.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from torch import Tensor, nn

from danlu.functional.conv import pool_output_size
from danlu.nn.cnn._sizes import check_input, trace_size

__all__ = ["VGG", "VGG11_SMALL", "vgg_block"]

#: (number of convolutions, output channels) per block: VGG-11 with 1/4 of the channels.
VGG11_SMALL: tuple[tuple[int, int], ...] = ((1, 16), (1, 32), (2, 64), (2, 128), (2, 128))


def vgg_block(num_convs: int, in_channels: int, out_channels: int) -> nn.Sequential:
    """``num_convs`` × (conv 3×3 -> ReLU), then max pool 2×2: ``(B, C_in, S, S)`` ->
    ``(B, C_out, ⌈S/2⌉, ⌈S/2⌉)``."""
    if num_convs < 1:
        raise ValueError(f"num_convs must be >= 1, got {num_convs}")
    layers: list[nn.Module] = []
    for i in range(num_convs):
        layers += [nn.Conv2d(in_channels if i == 0 else out_channels, out_channels, 3, padding=1)]
        layers += [nn.ReLU(inplace=True)]
    layers.append(nn.MaxPool2d(2, ceil_mode=True))
    return nn.Sequential(*layers)


class VGG(nn.Module):
    """A VGG network: ``arch`` blocks, then three fully connected layers.

    Args:
        in_channels: image channels.
        num_classes: outputs.
        input_size: image side (28 or 32).
        arch: ``(num_convs, channels)`` per block; default :data:`VGG11_SMALL`.
        hidden: width of the two hidden fully connected layers.
        dropout: dropout after each hidden fully connected layer.

    Example:
        >>> import torch
        >>> VGG()(torch.zeros(2, 1, 28, 28)).shape
        torch.Size([2, 10])
    """

    def __init__(
        self,
        in_channels: int = 1,
        num_classes: int = 10,
        input_size: int = 28,
        *,
        arch: Sequence[tuple[int, int]] = VGG11_SMALL,
        hidden: int = 512,
        dropout: float = 0.5,
    ) -> None:
        super().__init__()
        if not arch:
            raise ValueError("arch must list at least one (num_convs, channels) block")
        self.in_channels, self.input_size = in_channels, input_size
        halve = partial(pool_output_size, kernel_size=2, ceil_mode=True)
        side = trace_size("VGG", input_size, [halve] * len(arch))
        blocks, c = [], in_channels
        for num_convs, channels in arch:
            blocks.append(vgg_block(num_convs, c, channels))
            c = channels
        self.features = nn.Sequential(*blocks)  # (B, c, side, side)
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(c * side * side, hidden), nn.ReLU(inplace=True), nn.Dropout(dropout),
            nn.Linear(hidden, hidden), nn.ReLU(inplace=True), nn.Dropout(dropout),
            nn.Linear(hidden, num_classes),
        )  # fmt: skip

    def forward(self, x: Tensor) -> Tensor:
        """``x (B, C, S, S)`` -> logits ``(B, num_classes)``."""
        check_input("VGG", x.shape, self.in_channels, self.input_size)
        return self.classifier(self.features(x))
