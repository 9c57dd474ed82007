"""Spatial transformer: a network that learns where to look, and warps its input there.

Three parts:

1. localization network ``f_loc``: image -> the 6 parameters of an affine map
   ``θ = [[a, b, t_x], [c, d, t_y]]``;
2. grid generator (``F.affine_grid``): for each output pixel at normalized coordinates
   ``(x_t, y_t) ∈ [-1, 1]²``, the source point ``(x_s, y_s)ᵀ = θ · (x_t, y_t, 1)ᵀ``;
3. sampler (``F.grid_sample``): bilinear interpolation of the input at the source points,
   differentiable in both the image and ``θ``.

The last layer of ``f_loc`` starts with zero weights and bias ``(1, 0, 0, 0, 1, 0)``, so at
initialization ``θ`` is the identity and the module returns its input; training then moves
``θ`` only as far as the loss asks.

Paper: Jaderberg, Simonyan, Zisserman, Kavukcuoglu, "Spatial Transformer Networks",
NeurIPS 2015.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["SpatialTransformer"]

IDENTITY_THETA = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)


class SpatialTransformer(nn.Module):
    """Affine spatial transformer with a small convolutional localization network.

    Args:
        in_channels: image channels ``C``.
        output_size: ``(H_out, W_out)`` of the warped image; default the input's size.
        hidden: width of the localization network's hidden linear layer.

    Shapes: ``x (B, C, H, W)`` (``H, W >= 8``) -> ``(B, C, H_out, W_out)``;
    :meth:`theta` returns ``(B, 2, 3)``.

    Example:
        >>> st = SpatialTransformer(in_channels=1)
        >>> x = torch.rand(2, 1, 28, 28)
        >>> torch.allclose(st(x), x, atol=1e-5)  # identity at initialization
        True
    """

    def __init__(
        self, in_channels: int, output_size: tuple[int, int] | None = None, hidden: int = 32
    ) -> None:
        super().__init__()
        if in_channels < 1 or hidden < 1:
            raise ValueError(
                f"in_channels and hidden must be >= 1, got in_channels={in_channels}, "
                f"hidden={hidden}"
            )
        self.output_size = output_size
        self.localization = nn.Sequential(
            nn.Conv2d(in_channels, 8, 7, padding=3), nn.MaxPool2d(2), nn.ReLU(inplace=True),
            nn.Conv2d(8, 10, 5, padding=2), nn.MaxPool2d(2), nn.ReLU(inplace=True),
            nn.AdaptiveAvgPool2d(3), nn.Flatten(),  # (B, 90) whatever the input size
            nn.Linear(10 * 3 * 3, hidden), nn.ReLU(inplace=True),
        )  # fmt: skip
        self.fc_theta = nn.Linear(hidden, 6)
        self.reset_theta()

    def reset_theta(self) -> None:
        """Make the predicted transform the identity for every input."""
        nn.init.zeros_(self.fc_theta.weight)
        with torch.no_grad():
            self.fc_theta.bias.copy_(torch.tensor(IDENTITY_THETA))

    def theta(self, x: Tensor) -> Tensor:
        """The affine parameters ``(B, 2, 3)`` predicted for ``x (B, C, H, W)``."""
        if x.dim() != 4 or min(x.shape[-2:]) < 8:
            raise ValueError(
                f"SpatialTransformer expects images (B, C, H, W) with H, W >= 8, got "
                f"{tuple(x.shape)}"
            )
        return self.fc_theta(self.localization(x)).view(-1, 2, 3)

    def forward(self, x: Tensor) -> Tensor:
        """Warp ``x (B, C, H, W)`` by its predicted ``θ``: ``(B, C, H_out, W_out)``."""
        theta = self.theta(x)  # (B, 2, 3)
        h, w = self.output_size or x.shape[-2:]
        grid = F.affine_grid(theta, [x.size(0), x.size(1), h, w], align_corners=False)
        return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
