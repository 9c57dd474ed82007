"""PCA and ZCA whitening as fitted data transforms: ``fit`` on train, ``transform`` anywhere.

The transforms are ``nn.Module``\\ s whose fitted mean and matrix are buffers, so they move
with ``.to(device)`` and are saved in ``state_dict``; ``forward`` is ``transform``. The
maths is in :mod:`danlu.functional.whitening`.

Example:
    >>> train, test = torch.randn(1000, 8), torch.randn(10, 8)
    >>> zca = ZCAWhitening(8).fit(train)
    >>> zca.transform(test).shape
    torch.Size([10, 8])
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from danlu.functional.whitening import pca_whitening_matrix, zca_whitening_matrix

__all__ = ["PCAWhitening", "ZCAWhitening"]


class _Whitening(nn.Module):
    """Shared fit/transform logic; subclasses compute ``(mean, matrix)`` in :meth:`_fit`."""

    mean: Tensor
    matrix: Tensor
    fitted: Tensor

    def __init__(self, num_features: int, out_features: int, eps: float, **kw: Any) -> None:
        super().__init__()
        if not (isinstance(num_features, int) and num_features > 0):
            raise ValueError(f"num_features must be a positive int, got {num_features!r}")
        if not eps >= 0:
            raise ValueError(f"eps must be >= 0, got {eps}; e.g. 1e-5")
        self.num_features = num_features
        self.eps = eps
        self.register_buffer("mean", torch.zeros(num_features, **kw))  # (d,)
        self.register_buffer("matrix", torch.zeros(out_features, num_features, **kw))  # (k, d)
        self.register_buffer("fitted", torch.tensor(False))

    def _fit(self, x: Tensor) -> tuple[Tensor, Tensor]:
        raise NotImplementedError

    def _check_input(self, x: Tensor) -> Tensor:
        if x.dim() != 2 or x.shape[1] != self.num_features:
            raise ValueError(
                f"{type(self).__name__} expects shape (n, {self.num_features}), got "
                f"{tuple(x.shape)}; flatten each example to one row with x.flatten(1)"
            )
        return x

    @torch.no_grad()
    def fit(self, x: Tensor) -> _Whitening:
        """Estimate the mean and the whitening matrix from training data x (n, d).

        The decomposition runs in float64 for accuracy; results are stored in the buffers'
        dtype. Returns ``self`` so that ``PCAWhitening(d).fit(train)`` reads naturally.
        """
        mean, matrix = self._fit(self._check_input(x).to(torch.float64))
        self.mean.copy_(mean)
        self.matrix.copy_(matrix)
        self.fitted.fill_(True)
        return self

    def _check_fitted(self) -> None:
        if not bool(self.fitted):
            raise RuntimeError(
                f"{type(self).__name__} is not fitted; call .fit(train_data) first "
                "(or load_state_dict from a fitted one)"
            )

    def transform(self, x: Tensor) -> Tensor:
        """Whiten x (n, d): z = (x - μ) Wᵀ, shape (n, k)."""
        self._check_fitted()
        return (self._check_input(x) - self.mean) @ self.matrix.T

    def forward(self, x: Tensor) -> Tensor:
        return self.transform(x)


class PCAWhitening(_Whitening):
    """PCA whitening z = (Λ + εI)^{-1/2} Uᵀ (x - μ), optionally keeping k components.

    Args:
        num_features: d, the data dimension.
        n_components: k ≤ d leading components to keep; None keeps all.
        eps: added to the eigenvalues.
    """

    def __init__(
        self,
        num_features: int,
        n_components: int | None = None,
        eps: float = 1e-5,
        *,
        dtype: torch.dtype | None = None,
    ) -> None:
        k = num_features if n_components is None else n_components
        if not (isinstance(k, int) and 1 <= k <= num_features):
            raise ValueError(
                f"n_components must be an int in [1, {num_features}] (num_features), got {k!r}"
            )
        super().__init__(num_features, k, eps, dtype=dtype)
        self.n_components = k

    def _fit(self, x: Tensor) -> tuple[Tensor, Tensor]:
        return pca_whitening_matrix(x, self.eps, self.n_components)

    @torch.no_grad()
    def inverse_transform(self, z: Tensor) -> Tensor:
        """Map whitened z (n, k) back to data space: x ≈ z (Λ_k + εI)^{1/2} U_kᵀ + μ.

        Exact when all components are kept (and up to ε); otherwise the projection onto the
        leading k principal directions.
        """
        self._check_fitted()
        # Rows of W are λ_i^{-1/2} u_iᵀ, so W⁺ = U_k Λ_k^{1/2}: columns u_i scaled by 1/‖w_i‖².
        pinv = self.matrix.T / (self.matrix**2).sum(dim=1)  # (d, k)
        return z @ pinv.T + self.mean

    def extra_repr(self) -> str:
        return f"{self.num_features}, n_components={self.n_components}, eps={self.eps}"


class ZCAWhitening(_Whitening):
    """ZCA whitening z = U (Λ + εI)^{-1/2} Uᵀ (x - μ): the whitening closest to the input.

    Args:
        num_features: d, the data dimension.
        eps: added to the eigenvalues; larger values keep more of the input's look.
    """

    def __init__(
        self, num_features: int, eps: float = 1e-5, *, dtype: torch.dtype | None = None
    ) -> None:
        super().__init__(num_features, num_features, eps, dtype=dtype)

    def _fit(self, x: Tensor) -> tuple[Tensor, Tensor]:
        return zca_whitening_matrix(x, self.eps)

    @torch.no_grad()
    def inverse_transform(self, z: Tensor) -> Tensor:
        """Map whitened z (n, d) back: x = z W⁻ᵀ + μ."""
        self._check_fitted()
        return torch.linalg.solve(self.matrix, z.T).T + self.mean

    def extra_repr(self) -> str:
        return f"{self.num_features}, eps={self.eps}"
