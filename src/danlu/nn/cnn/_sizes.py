"""Trace a spatial size through a network's downsampling steps, with a clear error."""

from __future__ import annotations

from collections.abc import Callable, Sequence

__all__ = ["check_input", "trace_size"]


def trace_size(model: str, input_size: int, steps: Sequence[Callable[[int], int]]) -> int:
    """Apply the output-size ``steps`` (from :mod:`danlu.functional.conv`) to ``input_size``.

    Raises ``ValueError`` naming the model and the size when the feature map vanishes.
    """
    size = input_size
    for step in steps:
        try:
            size = step(size)
        except ValueError as err:
            raise ValueError(
                f"{model}: input_size={input_size} is too small, the feature map vanishes "
                f"({err}); use larger images (the models are sized for 28 and 32)"
            ) from None
    return size


def check_input(model: str, x_shape: Sequence[int], in_channels: int, input_size: int) -> None:
    """Raise ``ValueError`` unless ``x_shape`` is ``(B, in_channels, input_size, input_size)``."""
    if len(x_shape) != 4 or tuple(x_shape[1:]) != (in_channels, input_size, input_size):
        raise ValueError(
            f"{model} was built for inputs (B, {in_channels}, {input_size}, {input_size}), got "
            f"{tuple(x_shape)}; build it with in_channels=..., input_size=... to match"
        )
