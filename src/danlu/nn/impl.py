"""The ``impl=`` switch shared by modules with a reference and a fast path.

``"reference"`` runs danlu's own code written from the notes' equations; ``"torch"`` runs
PyTorch's fused kernel. Tests prove the two agree (float64, forward and gradients).
"""

from __future__ import annotations

from typing import Literal

from danlu.errors import UsageError

__all__ = ["IMPLS", "Impl", "check_impl"]

IMPLS = ("torch", "reference")
Impl = Literal["torch", "reference"]


def check_impl(impl: str) -> Impl:
    """Return ``impl`` if it names an implementation; raise UsageError listing them if not."""
    if impl not in IMPLS:
        raise UsageError(f"unknown impl {impl!r}; valid: {', '.join(IMPLS)}")
    return impl  # type: ignore[return-value]
