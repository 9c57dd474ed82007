"""BatchNorm1d/2d and LayerNorm modules: the reference equations or PyTorch's fused kernels.

Parameters and buffers have PyTorch's names (``weight``, ``bias``, ``running_mean``,
``running_var``, ``num_batches_tracked``), so ``load_state_dict`` copies them from and to
``nn.BatchNorm1d/2d`` and ``nn.LayerNorm``. ``impl="torch"`` (default) calls
``F.batch_norm``/``F.layer_norm``; ``impl="reference"`` calls the readable definitions in
:mod:`danlu.functional.normalization`. Tests prove the two agree in training and evaluation
mode, values, gradients and running statistics.

Example:
    >>> bn = BatchNorm2d(16, impl="reference")
    >>> y = bn(torch.randn(8, 16, 28, 28))  # training: batch statistics
    >>> _ = bn.eval()                          # inference: running mean and variance
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from danlu.functional.normalization import batch_norm, layer_norm
from danlu.nn.impl import Impl, check_impl

__all__ = ["BatchNorm1d", "BatchNorm2d", "LayerNorm"]


class _BatchNorm(nn.Module):
    """Batch normalization over all dimensions but the channels; see BatchNorm1d/2d."""

    _input_dims: tuple[int, ...] = ()
    _layout: str = ""
    running_mean: Tensor | None
    running_var: Tensor | None
    num_batches_tracked: Tensor | None

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        *,
        impl: Impl = "torch",
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        if not (isinstance(num_features, int) and num_features > 0):
            raise ValueError(
                f"num_features (channels C) must be a positive int, got {num_features!r}"
            )
        if not eps > 0:
            raise ValueError(f"eps must be > 0, got {eps}; the usual value is 1e-5")
        if momentum is not None and not 0.0 <= momentum <= 1.0:
            raise ValueError(
                f"momentum must be in [0, 1] or None (cumulative average), got {momentum}; "
                "the usual value is 0.1"
            )
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        self.impl = check_impl(impl)
        kw: dict[str, Any] = {"device": device, "dtype": dtype}
        self.weight = nn.Parameter(torch.ones(num_features, **kw)) if affine else None  # γ
        self.bias = nn.Parameter(torch.zeros(num_features, **kw)) if affine else None  # β
        if track_running_stats:
            self.register_buffer("running_mean", torch.zeros(num_features, **kw))
            self.register_buffer("running_var", torch.ones(num_features, **kw))
            self.register_buffer(
                "num_batches_tracked", torch.tensor(0, dtype=torch.long, device=device)
            )
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self) -> None:
        if self.running_mean is not None and self.running_var is not None:
            assert self.num_batches_tracked is not None
            self.running_mean.zero_()
            self.running_var.fill_(1.0)
            self.num_batches_tracked.zero_()

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() not in self._input_dims or x.shape[1] != self.num_features:
            raise ValueError(
                f"{type(self).__name__}({self.num_features}) expects input {self._layout} with "
                f"C={self.num_features}, got shape {tuple(x.shape)}"
            )
        momentum = 0.0 if self.momentum is None else self.momentum
        if self.training and self.num_batches_tracked is not None:
            self.num_batches_tracked.add_(1)
            if self.momentum is None:  # cumulative moving average of all batches so far
                momentum = 1.0 / float(self.num_batches_tracked)
        # Batch statistics in training, or always when no running statistics are kept.
        use_batch_stats = self.training or self.running_mean is None
        # Running statistics are read in eval and updated in training, when tracked.
        track = not self.training or self.track_running_stats
        running_mean = self.running_mean if track else None
        running_var = self.running_var if track else None
        if self.impl == "torch":
            return F.batch_norm(
                x, running_mean, running_var, self.weight, self.bias,
                use_batch_stats, momentum, self.eps,
            )  # fmt: skip
        return batch_norm(
            x, running_mean, running_var, self.weight, self.bias,
            training=use_batch_stats, momentum=momentum, eps=self.eps,
        )  # fmt: skip

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
            f"affine={self.affine}, track_running_stats={self.track_running_stats}, "
            f"impl={self.impl!r}"
        )


class BatchNorm1d(_BatchNorm):
    """Batch normalization of (N, C) or (N, C, L) input, per channel C.

    Training: y = γ (x - μ_B)/sqrt(σ²_B + ε) + β with the batch's mean μ_B and biased
    variance σ²_B; running_mean/var ← (1-m)·old + m·(μ_B, unbiased σ²_B). Evaluation: the
    running statistics replace the batch ones. ``momentum=None`` gives the cumulative
    average of all batches seen. Equals ``nn.BatchNorm1d``.

    Args:
        num_features: C.  eps: ε.  momentum: m.  affine: learn γ and β.
        track_running_stats: keep running statistics (else batch statistics always).
        impl: "torch" (``F.batch_norm``) or "reference" (the definition).
    """

    _input_dims = (2, 3)
    _layout = "(N, C) or (N, C, L)"


class BatchNorm2d(_BatchNorm):
    """Batch normalization of (N, C, H, W) input, per channel over N, H and W.

    The same equations and arguments as :class:`BatchNorm1d`; equals ``nn.BatchNorm2d``.
    """

    _input_dims = (4,)
    _layout = "(N, C, H, W)"


class LayerNorm(nn.Module):
    """Layer normalization over the trailing ``normalized_shape`` dims: "BatchNorm transposed".

    y = γ ⊙ (x - μ)/sqrt(σ² + ε) + β, with μ and σ² (biased) the mean and variance of each
    example's features; identical in training and evaluation. Equals ``nn.LayerNorm``.

    Args:
        normalized_shape: the trailing shape, e.g. d_model or (C, H, W).
        eps: ε.  elementwise_affine: learn γ (and β if ``bias``).
        impl: "torch" (``F.layer_norm``) or "reference" (the definition).
    """

    def __init__(
        self,
        normalized_shape: int | Sequence[int],
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
        *,
        impl: Impl = "torch",
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else normalized_shape
        self.normalized_shape = tuple(int(s) for s in shape)
        if not self.normalized_shape or min(self.normalized_shape) < 1:
            raise ValueError(
                f"normalized_shape must be a non-empty shape of positive sizes, got "
                f"{normalized_shape!r}; e.g. d_model"
            )
        if not eps > 0:
            raise ValueError(f"eps must be > 0, got {eps}; the usual value is 1e-5")
        self.eps, self.elementwise_affine = eps, elementwise_affine
        self.impl = check_impl(impl)
        kw: dict[str, Any] = {"device": device, "dtype": dtype}
        affine, with_bias = elementwise_affine, elementwise_affine and bias
        self.weight = nn.Parameter(torch.ones(self.normalized_shape, **kw)) if affine else None
        self.bias = nn.Parameter(torch.zeros(self.normalized_shape, **kw)) if with_bias else None

    def forward(self, x: Tensor) -> Tensor:
        if self.impl == "torch":
            return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        return layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, "
            f"elementwise_affine={self.elementwise_affine}, impl={self.impl!r}"
        )
