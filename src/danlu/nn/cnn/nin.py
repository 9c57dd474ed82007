"""Network in Network: 1×1 convolutions as per-pixel MLPs, global average pooling, no FC.

A NiN block is ``conv k×k -> ReLU -> conv 1×1 -> ReLU -> conv 1×1 -> ReLU``: the 1×1
convolutions are a two-layer MLP applied at every pixel across channels. The last block
outputs one channel per class, and global average pooling turns each into a logit, which
removes the large fully connected layers (and most parameters) of AlexNet/VGG.

Sized for small images: 5×5 and 3×3 kernels with stride 1, max pooling 3×3 stride 2
(28 -> 13 -> 6 -> 2).

Paper: Lin, Chen, Yan, "Network In Network", ICLR 2014.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from torch import Tensor, nn

from danlu.functional.conv import pool_output_size
from danlu.nn.cnn._sizes import trace_size

__all__ = ["NiN", "nin_block"]


def nin_block(in_channels: int, out_channels: int, kernel_size: int, padding: int) -> nn.Sequential:
    """conv ``k×k`` -> ReLU -> (conv 1×1 -> ReLU) × 2; keeps the side when ``padding = k//2``."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size, padding=padding), nn.ReLU(inplace=True),
        nn.Conv2d(out_channels, out_channels, 1), nn.ReLU(inplace=True),
        nn.Conv2d(out_channels, out_channels, 1), nn.ReLU(inplace=True),
    )  # fmt: skip


class NiN(nn.Module):
    """NiN for small images; ``x (B, C, S, S)`` -> logits ``(B, num_classes)``.

    Args:
        in_channels: image channels.
        num_classes: outputs (channels of the last block).
        input_size: image side (28 or 32; at least 15).
        widths: channels of the three feature blocks.
        dropout: dropout before the classifying block.

    Example:
        >>> import torch
        >>> NiN()(torch.zeros(2, 1, 28, 28)).shape
        torch.Size([2, 10])
    """

    def __init__(
        self,
        in_channels: int = 1,
        num_classes: int = 10,
        input_size: int = 28,
        *,
        widths: Sequence[int] = (96, 256, 384),
        dropout: float = 0.5,
    ) -> None:
        super().__init__()
        if len(widths) != 3:
            raise ValueError(f"widths must give 3 channel counts, got {tuple(widths)}")
        trace_size("NiN", input_size, [partial(pool_output_size, kernel_size=3, stride=2)] * 3)
        w1, w2, w3 = widths
        self.net = nn.Sequential(
            nin_block(in_channels, w1, 5, 2), nn.MaxPool2d(3, stride=2),  # (B, w1, 13, 13)
            nin_block(w1, w2, 5, 2), nn.MaxPool2d(3, stride=2),  # (B, w2, 6, 6)
            nin_block(w2, w3, 3, 1), nn.MaxPool2d(3, stride=2),  # (B, w3, 2, 2)
            nn.Dropout(dropout),
            nin_block(w3, num_classes, 3, 1),  # (B, num_classes, 2, 2)
            nn.AdaptiveAvgPool2d(1), nn.Flatten(),  # (B, num_classes)
        )  # fmt: skip

    def forward(self, x: Tensor) -> Tensor:
        """``x (B, C, S, S)`` -> logits ``(B, num_classes)``."""
        return self.net(x)
