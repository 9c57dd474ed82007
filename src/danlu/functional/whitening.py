"""PCA and ZCA whitening matrices from the eigendecomposition of the covariance.

For data X (n, d) with mean μ and covariance Σ = (X-μ)ᵀ(X-μ)/(n-1) = U Λ Uᵀ (U orthogonal,
Λ diagonal eigenvalues), a *whitening* matrix W makes z = W(x - μ) have covariance
W Σ Wᵀ = I. Every whitening matrix is W = Q Λ^{-1/2} Uᵀ for some orthogonal Q; two choices
are classic:

- **PCA**: W = Λ^{-1/2} Uᵀ (Q = I). z holds the principal components, each scaled to unit
  variance, largest first; keeping the first k rows reduces the dimension as well.
- **ZCA**: W = U Λ^{-1/2} Uᵀ (Q = U), the symmetric one. Of all whitening matrices it is
  the one whose output stays closest to its input (it minimizes E‖z - (x-μ)‖²), which is
  why ZCA-whitened images still look like images.

ε is added to the eigenvalues, Λ + εI, so near-zero-variance directions are not blown up.
Eigenvectors are sign-normalized (largest-magnitude entry positive) so fits are repeatable.

Reference: Kessy, Lewin & Strimmer, "Optimal whitening and decorrelation", 2018.
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["covariance_eigh", "pca_whitening_matrix", "zca_whitening_matrix"]


def covariance_eigh(x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Mean and eigendecomposition of the sample covariance of x (n, d), largest first.

    Returns:
        (mean (d,), eigenvalues (d,) in descending order, eigenvectors U (d, d) as columns).
    """
    if x.dim() != 2 or x.shape[0] < 2:
        raise ValueError(
            f"whitening is fitted on a matrix of shape (n, d) with n >= 2 samples, got shape "
            f"{tuple(x.shape)}; flatten each example to one row, e.g. x.flatten(1)"
        )
    mean = x.mean(dim=0)  # (d,)
    centered = x - mean  # (n, d)
    cov = centered.T @ centered / (x.shape[0] - 1)  # (d, d), unbiased like torch.cov
    eigenvalues, u = torch.linalg.eigh(cov)  # ascending
    eigenvalues, u = eigenvalues.flip(0), u.flip(1)  # descending: principal axis first
    # Fix each eigenvector's sign: its largest-magnitude entry is positive.
    pivot = u.abs().argmax(dim=0)  # (d,)
    signs = torch.sign(u[pivot, torch.arange(u.shape[1])])
    u = u * signs.unsqueeze(0)
    return mean, eigenvalues.clamp_min(0.0), u


def _check_eps(eps: float) -> None:
    if not eps >= 0:
        raise ValueError(f"eps must be >= 0, got {eps}; e.g. 1e-5 relative to unit variance")


def pca_whitening_matrix(
    x: Tensor, eps: float = 1e-5, n_components: int | None = None
) -> tuple[Tensor, Tensor]:
    """Fit PCA whitening on x (n, d): W = (Λ + εI)^{-1/2} Uᵀ, first ``n_components`` rows.

    Args:
        x: training data (n, d).
        eps: added to the eigenvalues, ≥ 0.
        n_components: k ≤ d components to keep; None keeps all d.

    Returns:
        (mean (d,), W (k, d)); whiten with ``(x - mean) @ W.T``.

    Example:
        >>> x = torch.randn(500, 3, dtype=torch.float64) @ torch.tensor(
        ...     [[2.0, 0, 0], [1, 1, 0], [0, 0, 0.5]], dtype=torch.float64)
        >>> mean, w = pca_whitening_matrix(x, eps=0.0)
        >>> torch.allclose(torch.cov(((x - mean) @ w.T).T), torch.eye(3, dtype=x.dtype))
        True
    """
    _check_eps(eps)
    mean, eigenvalues, u = covariance_eigh(x)
    d = x.shape[1]
    k = d if n_components is None else n_components
    if not (isinstance(k, int) and 1 <= k <= d):
        raise ValueError(f"n_components must be an int in [1, {d}] (the data dimension), got {k}")
    scale = (eigenvalues[:k] + eps).rsqrt()  # (k,) Λ^{-1/2}
    return mean, scale.unsqueeze(1) * u[:, :k].T  # (k, d)


def zca_whitening_matrix(x: Tensor, eps: float = 1e-5) -> tuple[Tensor, Tensor]:
    """Fit ZCA whitening on x (n, d): W = U (Λ + εI)^{-1/2} Uᵀ, symmetric.

    Args:
        x: training data (n, d).
        eps: added to the eigenvalues, ≥ 0.

    Returns:
        (mean (d,), W (d, d)); whiten with ``(x - mean) @ W.T`` (W.T equals W).
    """
    _check_eps(eps)
    mean, eigenvalues, u = covariance_eigh(x)
    scale = (eigenvalues + eps).rsqrt()  # (d,)
    return mean, (u * scale.unsqueeze(0)) @ u.T  # (d, d)
