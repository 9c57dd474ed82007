"""ResNet with basic residual blocks, 18-layer style, for 28×28 and 32×32 images.

A residual block learns a correction to the identity, ``y = ReLU(F(x) + shortcut(x))``
with ``F = conv3×3 -> BN -> ReLU -> conv3×3 -> BN``; the shortcut is the identity, or a
1×1 convolution with batch norm when the shape changes. Gradients flow through the
identity paths unchanged, which makes very deep networks trainable.

ResNet-18: a stem, four stages of two blocks (64, 128, 256, 512 channels, the last three
halving the side), global average pooling, one linear layer: 1 + 4·2·2 + 1 = 18 layers
with weights. For small images the stem is one 3×3 convolution without max pooling (the
CIFAR variant): 28 -> 28 -> 14 -> 7 -> 4.

ResNet-20 is the paper's own network for 32×32 CIFAR-10 (its section 4.2): three stages of
three blocks with 16, 32 and 64 channels, 1 + 3·3·2 + 1 = 20 layers, 0.27 M parameters and
about 1/15 of ResNet-18's multiply-adds on a 28×28 image, which makes it the ResNet that
trains on a laptop CPU. The paper's CIFAR shortcuts pad the identity with zero channels
(its option A); here, as in ResNet-18, a stage's first block projects with a 1×1
convolution (option B), which adds about 3 K parameters.

Paper: He, Zhang, Ren, Sun, "Deep Residual Learning for Image Recognition", CVPR 2016.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import torch.nn.functional as F
from torch import Tensor, nn

from danlu.functional.conv import conv_output_size
from danlu.nn.cnn._sizes import trace_size

__all__ = ["BasicBlock", "ResNet", "resnet18", "resnet20"]


class BasicBlock(nn.Module):
    """Residual block ``y = ReLU(BN(conv(ReLU(BN(conv(x))))) + shortcut(x))``.

    ``(B, C_in, S, S)`` -> ``(B, C_out, S', S')`` with ``S' = ⌈S / stride⌉``.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or in_channels != out_channels:  # project x to the new shape
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride, bias=False),
                nn.BatchNorm2d(out_channels),
            )

    def forward(self, x: Tensor) -> Tensor:
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return F.relu(y + self.shortcut(x))


class ResNet(nn.Module):
    """ResNet of basic blocks; ``x (B, C, S, S)`` -> logits ``(B, num_classes)``.

    Args:
        in_channels: image channels.
        num_classes: outputs.
        input_size: image side (28 or 32).
        blocks: residual blocks per stage; ``(2, 2, 2, 2)`` is ResNet-18.
        widths: channels per stage; stages after the first halve the side.

    Example:
        >>> import torch
        >>> ResNet(widths=(8, 16, 32, 64))(torch.zeros(2, 1, 28, 28)).shape
        torch.Size([2, 10])
    """

    def __init__(
        self,
        in_channels: int = 1,
        num_classes: int = 10,
        input_size: int = 28,
        *,
        blocks: Sequence[int] = (2, 2, 2, 2),
        widths: Sequence[int] = (64, 128, 256, 512),
    ) -> None:
        super().__init__()
        if len(blocks) != len(widths) or not blocks or min(blocks) < 1:
            raise ValueError(
                f"blocks and widths must be equally long with blocks >= 1, got "
                f"blocks={tuple(blocks)}, widths={tuple(widths)}"
            )
        halve = partial(conv_output_size, kernel_size=3, stride=2, padding=1)
        trace_size("ResNet", input_size, [halve] * (len(widths) - 1))
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, widths[0], 3, padding=1, bias=False),
            nn.BatchNorm2d(widths[0]),
            nn.ReLU(inplace=True),
        )  # (B, w0, S, S)
        stages, c = [], widths[0]
        for i, (n, w) in enumerate(zip(blocks, widths, strict=True)):
            # The first block of a stage changes the shape (stride 2 after stage 1).
            first = BasicBlock(c, w, stride=1 if i == 0 else 2)
            stages.append(nn.Sequential(first, *(BasicBlock(w, w) for _ in range(n - 1))))
            c = w
        self.stages = nn.Sequential(*stages)  # (B, w_last, S/8, S/8)
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, num_classes))

    def forward(self, x: Tensor) -> Tensor:
        """``x (B, C, S, S)`` -> logits ``(B, num_classes)``."""
        return self.head(self.stages(self.stem(x)))


def resnet18(in_channels: int = 1, num_classes: int = 10, input_size: int = 28) -> ResNet:
    """ResNet-18 (CIFAR-style stem): about 11.2 M parameters."""
    return ResNet(in_channels, num_classes, input_size, blocks=(2, 2, 2, 2))


def resnet20(in_channels: int = 1, num_classes: int = 10, input_size: int = 28) -> ResNet:
    """ResNet-20 (He et al. 2016, section 4.2): 3 stages × 3 blocks, 16/32/64 channels,
    about 0.27 M parameters."""
    return ResNet(in_channels, num_classes, input_size, blocks=(3, 3, 3), widths=(16, 32, 64))
