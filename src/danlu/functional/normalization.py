"""Batch normalization and layer normalization, written from their definitions.

Both standardize activations, then rescale them with a learned scale γ and shift β:

    x̂ = (x - μ) / sqrt(σ² + ε)        y = γ ⊙ x̂ + β

They differ only in *which* values μ and σ² are averaged over:

- **BatchNorm**: per channel, over the batch (and the spatial positions). During training
  μ, σ² are the batch statistics (σ² the biased variance, dividing by n); the running
  averages used at inference are updated with momentum m and the *unbiased* variance:
  ``running_mean ← (1-m)·running_mean + m·μ``, ``running_var ← (1-m)·running_var + m·σ²·n/(n-1)``.
- **LayerNorm**: per example, over the trailing feature dimensions ("BatchNorm transposed");
  the same computation in training and evaluation, no running statistics.

These are the readable reference paths; :mod:`danlu.nn.normalization` dispatches to them or to
PyTorch's fused ``F.batch_norm`` / ``F.layer_norm``, and the tests prove both agree.

References: Ioffe & Szegedy, "Batch Normalization", 2015; Ba, Kiros & Hinton,
"Layer Normalization", 2016.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

__all__ = ["batch_norm", "layer_norm"]


def _per_channel(v: Tensor, ndim: int) -> Tensor:
    """Reshape a (C,) vector to (1, C, 1, ..., 1) so it broadcasts over an ndim-D input."""
    return v.view(1, -1, *([1] * (ndim - 2)))


def batch_norm(
    x: Tensor,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    *,
    training: bool,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Batch normalization over every dimension except the channel dimension 1.

    With batch statistics (``training=True``, or no running statistics given), for each
    channel c over its n = N·(spatial size) values::

        μ_c = mean(x[:, c])      σ²_c = mean((x[:, c] - μ_c)²)
        y[:, c] = γ_c · (x[:, c] - μ_c) / sqrt(σ²_c + ε) + β_c

    and the running statistics, when given, are updated in place (without gradient)::

        running_mean ← (1 - m)·running_mean + m·μ
        running_var  ← (1 - m)·running_var  + m·σ²·n / (n - 1)

    With ``training=False`` the running statistics replace μ and σ².

    Args:
        x: input of shape (N, C) or (N, C, *spatial), e.g. (N, C, L) or (N, C, H, W).
        running_mean: (C,) running mean, or None to always use batch statistics.
        running_var: (C,) running (unbiased) variance, or None with ``running_mean``.
        weight: (C,) scale γ, or None for γ = 1.
        bias: (C,) shift β, or None for β = 0.
        training: use batch statistics and update the running ones.
        momentum: weight m of the new batch in the running averages, in [0, 1].
        eps: ε added to the variance for numerical stability, > 0.

    Returns:
        The normalized tensor, same shape as ``x``.

    Example:
        >>> x = torch.randn(8, 3)
        >>> y = batch_norm(x, None, None, training=True)
        >>> bool(y.mean(0).abs().max() < 1e-6)
        True
    """
    if x.dim() < 2:
        raise ValueError(
            f"batch_norm needs input of shape (N, C, ...), got shape {tuple(x.shape)}; "
            "add a batch dimension with x.unsqueeze(0)"
        )
    dims = [0, *range(2, x.dim())]  # every dimension but the channels
    n = x.numel() // x.shape[1]  # values per channel
    use_batch_stats = training or running_mean is None or running_var is None
    if use_batch_stats:
        if n <= 1:
            raise ValueError(
                f"batch_norm needs more than 1 value per channel in training, got input "
                f"shape {tuple(x.shape)}; use a batch of at least 2 or call .eval()"
            )
        mean = x.mean(dim=dims)  # (C,)
        var = x.var(dim=dims, correction=0)  # (C,) biased: the batch is the population
        if training and running_mean is not None and running_var is not None:
            with torch.no_grad():
                running_mean.mul_(1 - momentum).add_(mean.detach(), alpha=momentum)
                unbiased = var.detach() * (n / (n - 1))
                running_var.mul_(1 - momentum).add_(unbiased, alpha=momentum)
    else:
        assert running_mean is not None and running_var is not None
        mean, var = running_mean, running_var
    x_hat = (x - _per_channel(mean, x.dim())) / torch.sqrt(_per_channel(var, x.dim()) + eps)
    if weight is not None:
        x_hat = x_hat * _per_channel(weight, x.dim())
    if bias is not None:
        x_hat = x_hat + _per_channel(bias, x.dim())
    return x_hat


def layer_norm(
    x: Tensor,
    normalized_shape: Sequence[int],
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Layer normalization over the trailing ``normalized_shape`` dimensions of each example.

    For each example (every index of the leading dimensions), over its k features::

        μ = mean(x)      σ² = mean((x - μ)²)      y = γ ⊙ (x - μ) / sqrt(σ² + ε) + β

    Args:
        x: input of shape (*, *normalized_shape), e.g. (B, T, D) with ``normalized_shape=(D,)``.
        normalized_shape: the trailing shape to normalize over.
        weight: scale γ of shape ``normalized_shape``, or None.
        bias: shift β of shape ``normalized_shape``, or None.
        eps: ε added to the variance, > 0.

    Returns:
        The normalized tensor, same shape as ``x``.

    Example:
        >>> y = layer_norm(torch.randn(2, 5, 16), (16,))
        >>> bool(y.mean(-1).abs().max() < 1e-6)
        True
    """
    shape = tuple(normalized_shape)
    if tuple(x.shape[x.dim() - len(shape) :]) != shape:
        raise ValueError(
            f"layer_norm normalizes over the trailing shape {shape}, but the input has shape "
            f"{tuple(x.shape)}; pass normalized_shape equal to the last dimensions of x"
        )
    dims = tuple(range(x.dim() - len(shape), x.dim()))  # the feature dimensions
    mean = x.mean(dim=dims, keepdim=True)  # (*, 1, ..., 1)
    var = x.var(dim=dims, correction=0, keepdim=True)  # biased, as in the definition
    x_hat = (x - mean) / torch.sqrt(var + eps)
    if weight is not None:
        x_hat = x_hat * weight
    if bias is not None:
        x_hat = x_hat + bias
    return x_hat
