"""Weight initializers, written from the variance arguments that motivate them.

For a layer y = W x with fan_in inputs and fan_out outputs, independent zero-mean weights of
variance s² give Var(y_i) = fan_in · s² · E[x²]. Each scheme picks s² so that a signal keeps
its scale through a deep stack:

==================  ===============================  ========================================
scheme              weight distribution              keeps the scale of
==================  ===============================  ========================================
geometric           N(0, 1/fan_in)                   linear layers (y = Wx is a near-isometry)
xavier (Glorot)     Var = 2 / (fan_in + fan_out)     forward and backward, for tanh/identity
he (Kaiming)        Var = 2 / ((1 + a²)·fan)         ReLU (a = 0) and leaky ReLU with slope a
orthogonal          W = gain · Q, QᵀQ = I            exactly the norm, for linear maps
==================  ===============================  ========================================

The "geometric" view (a random N(0, 1/n) matrix approximately preserves vector norms) is
the one from the blog post in the notes; it is LeCun's initialization. A uniform
distribution U(-b, b) has variance b²/3, so the uniform variants use b = sqrt(3)·std.

For convolution weights (out_channels, in_channels/groups, *kernel) the fans include the
receptive field: fan_in = in_channels/groups · prod(kernel), fan_out = out_channels ·
prod(kernel). Every initializer works in place without gradient tracking and returns
its argument.

References: Glorot & Bengio 2010; He et al., "Delving Deep into Rectifiers", 2015;
Saxe et al., "Exact solutions to the nonlinear dynamics of learning", 2014.
"""

from __future__ import annotations

import math
from typing import Literal

import torch
from torch import Tensor

__all__ = [
    "fan_in_and_fan_out",
    "geometric_normal_",
    "he_normal_",
    "he_uniform_",
    "orthogonal_",
    "xavier_normal_",
    "xavier_uniform_",
]

FanMode = Literal["fan_in", "fan_out"]


def fan_in_and_fan_out(weight: Tensor) -> tuple[int, int]:
    """Fans of a weight of shape (out, in) or (out_channels, in_channels/groups, *kernel).

    Example:
        >>> fan_in_and_fan_out(torch.empty(64, 3, 5, 5))
        (75, 1600)
    """
    if weight.dim() < 2:
        raise ValueError(
            f"fans are defined for weights with at least 2 dimensions, got shape "
            f"{tuple(weight.shape)}; initialize 1-D biases and norm scales with constants"
        )
    receptive_field = math.prod(weight.shape[2:])  # 1 for a Linear weight
    return weight.shape[1] * receptive_field, weight.shape[0] * receptive_field


def _normal_(weight: Tensor, std: float, generator: torch.Generator | None) -> Tensor:
    with torch.no_grad():
        return weight.normal_(0.0, std, generator=generator)


def _uniform_(weight: Tensor, std: float, generator: torch.Generator | None) -> Tensor:
    bound = math.sqrt(3.0) * std  # U(-b, b) has variance b²/3
    with torch.no_grad():
        return weight.uniform_(-bound, bound, generator=generator)


def _check_gain(gain: float) -> None:
    if not gain > 0:
        raise ValueError(f"gain must be > 0, got gain={gain}; use 1.0 for linear layers")


def xavier_normal_(
    weight: Tensor, gain: float = 1.0, *, generator: torch.Generator | None = None
) -> Tensor:
    """Fill with N(0, s²), s = gain · sqrt(2 / (fan_in + fan_out)) (Glorot, normal)."""
    _check_gain(gain)
    fan_in, fan_out = fan_in_and_fan_out(weight)
    return _normal_(weight, gain * math.sqrt(2.0 / (fan_in + fan_out)), generator)


def xavier_uniform_(
    weight: Tensor, gain: float = 1.0, *, generator: torch.Generator | None = None
) -> Tensor:
    """Fill with U(-b, b), b = gain · sqrt(6 / (fan_in + fan_out)) (Glorot, uniform)."""
    _check_gain(gain)
    fan_in, fan_out = fan_in_and_fan_out(weight)
    return _uniform_(weight, gain * math.sqrt(2.0 / (fan_in + fan_out)), generator)


def _he_std(weight: Tensor, negative_slope: float, mode: FanMode) -> float:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(
            f"mode must be 'fan_in' (keeps forward scale) or 'fan_out' (keeps backward "
            f"scale), got {mode!r}"
        )
    if negative_slope < 0:
        raise ValueError(
            f"negative_slope must be >= 0, got {negative_slope}; use 0 for ReLU, "
            "0.01 for the default leaky ReLU"
        )
    fan_in, fan_out = fan_in_and_fan_out(weight)
    fan = fan_in if mode == "fan_in" else fan_out
    return math.sqrt(2.0 / ((1.0 + negative_slope**2) * fan))


def he_normal_(
    weight: Tensor,
    negative_slope: float = 0.0,
    mode: FanMode = "fan_in",
    *,
    generator: torch.Generator | None = None,
) -> Tensor:
    """Fill with N(0, 2 / ((1 + a²)·fan)) (He/Kaiming, normal); a = 0 for ReLU.

    Example:
        >>> w = he_normal_(torch.empty(512, 1024))
        >>> round(w.var().item() * 1024, 1)
        2.0
    """
    return _normal_(weight, _he_std(weight, negative_slope, mode), generator)


def he_uniform_(
    weight: Tensor,
    negative_slope: float = 0.0,
    mode: FanMode = "fan_in",
    *,
    generator: torch.Generator | None = None,
) -> Tensor:
    """Fill with U(-b, b), b = sqrt(6 / ((1 + a²)·fan)) (He/Kaiming, uniform)."""
    return _uniform_(weight, _he_std(weight, negative_slope, mode), generator)


def geometric_normal_(weight: Tensor, *, generator: torch.Generator | None = None) -> Tensor:
    """Fill with N(0, 1/fan_in): y = W x then has E‖y‖² = (fan_out/fan_in)·‖x‖² (LeCun)."""
    fan_in, _ = fan_in_and_fan_out(weight)
    return _normal_(weight, math.sqrt(1.0 / fan_in), generator)


def orthogonal_(
    weight: Tensor, gain: float = 1.0, *, generator: torch.Generator | None = None
) -> Tensor:
    """Fill with gain · Q, Q having orthonormal rows or columns (whichever are fewer).

    Q comes from the QR decomposition A = QR of a Gaussian matrix A, with the signs of
    diag(R) moved into Q so that Q is uniformly (Haar) distributed. Weights with more than
    two dimensions are flattened to (out, in·prod(kernel)).
    """
    _check_gain(gain)
    if weight.dim() < 2:
        raise ValueError(
            f"orthogonal_ needs a weight with at least 2 dimensions, got shape "
            f"{tuple(weight.shape)}"
        )
    rows = weight.shape[0]
    cols = weight.numel() // rows
    a = torch.randn(max(rows, cols), min(rows, cols), generator=generator, dtype=torch.float64)
    q, r = torch.linalg.qr(a)  # q: (max, min) with orthonormal columns
    q = q * torch.sign(torch.diagonal(r)).unsqueeze(0)  # Haar measure, not biased by QR
    if rows < cols:
        q = q.T  # (rows, cols) with orthonormal rows
    with torch.no_grad():
        weight.copy_((gain * q).reshape(weight.shape))
    return weight
