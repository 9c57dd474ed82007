"""Output sizes of convolution and pooling layers.

Along one spatial dimension of size ``n``, a window of size ``k`` with dilation ``d``
covers ``d·(k - 1) + 1`` inputs; sliding it with stride ``s`` over the input padded by
``p`` on each side gives

    out = floor((n + 2p - d·(k - 1) - 1) / s) + 1.

Pooling with ``ceil_mode=True`` rounds up instead, but (as in PyTorch) a last window that
would start in the right padding is dropped. A transposed convolution inverts the map:

    out = (n - 1)·s - 2p + d·(k - 1) + output_padding + 1.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = [
    "conv2d_output_shape",
    "conv_output_size",
    "conv_transpose_output_size",
    "pool2d_output_shape",
    "pool_output_size",
]


def _check(size: int, kernel_size: int, stride: int, padding: int, dilation: int) -> None:
    if size < 1 or kernel_size < 1 or stride < 1 or dilation < 1 or padding < 0:
        raise ValueError(
            f"need size, kernel_size, stride, dilation >= 1 and padding >= 0, got "
            f"size={size}, kernel_size={kernel_size}, stride={stride}, padding={padding}, "
            f"dilation={dilation}"
        )


def conv_output_size(
    size: int, kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1
) -> int:
    """Output length of a convolution along one dimension.

    ``out = floor((n + 2p - d·(k-1) - 1) / s) + 1``.

    Args:
        size: input length ``n``.
        kernel_size: ``k``; stride: ``s``; padding: ``p`` (each side); dilation: ``d``.

    Returns:
        The output length (>= 1).

    Raises:
        ValueError: if the (dilated) kernel is larger than the padded input.

    Example:
        >>> conv_output_size(28, kernel_size=5, padding=2)
        28
        >>> conv_output_size(32, kernel_size=3, stride=2, padding=1)
        16
    """
    _check(size, kernel_size, stride, padding, dilation)
    span = dilation * (kernel_size - 1) + 1
    if size + 2 * padding < span:
        raise ValueError(
            f"kernel span {span} (kernel_size={kernel_size}, dilation={dilation}) exceeds "
            f"the padded input {size + 2 * padding} (size={size}, padding={padding}); "
            "use a larger input, more padding or a smaller kernel"
        )
    return (size + 2 * padding - span) // stride + 1


def pool_output_size(
    size: int,
    kernel_size: int,
    stride: int | None = None,
    padding: int = 0,
    dilation: int = 1,
    ceil_mode: bool = False,
) -> int:
    """Output length of max/average pooling along one dimension.

    Same formula as :func:`conv_output_size`; the stride defaults to the kernel size, and
    ``ceil_mode`` rounds up, dropping a last window that would start in the right padding.

    Example:
        >>> pool_output_size(7, 2), pool_output_size(7, 2, ceil_mode=True)
        (3, 4)
    """
    stride = kernel_size if stride is None else stride
    if not ceil_mode:
        return conv_output_size(size, kernel_size, stride, padding, dilation)
    conv_output_size(size, kernel_size, stride, padding, dilation)  # validates the input
    span = dilation * (kernel_size - 1) + 1
    out = math.ceil((size + 2 * padding - span) / stride) + 1
    if (out - 1) * stride >= size + padding:
        out -= 1  # the extra window would start in the right padding
    return out


def conv_transpose_output_size(
    size: int,
    kernel_size: int,
    stride: int = 1,
    padding: int = 0,
    output_padding: int = 0,
    dilation: int = 1,
) -> int:
    """Output length of a transposed convolution along one dimension.

    ``out = (n - 1)·s - 2p + d·(k - 1) + output_padding + 1``.

    Example:
        >>> conv_transpose_output_size(14, kernel_size=2, stride=2)
        28
    """
    _check(size, kernel_size, stride, padding, dilation)
    if not 0 <= output_padding < max(stride, dilation):
        raise ValueError(
            f"output_padding must be in [0, max(stride, dilation)) = [0, "
            f"{max(stride, dilation)}), got {output_padding}"
        )
    return (size - 1) * stride - 2 * padding + dilation * (kernel_size - 1) + output_padding + 1


def _pair(x: int | Sequence[int]) -> tuple[int, int]:
    if isinstance(x, int):
        return (x, x)
    if len(x) != 2:
        raise ValueError(f"expected an int or a pair (height, width), got {x!r}")
    return (int(x[0]), int(x[1]))


def conv2d_output_shape(
    size: int | Sequence[int],
    kernel_size: int | Sequence[int],
    stride: int | Sequence[int] = 1,
    padding: int | Sequence[int] = 0,
    dilation: int | Sequence[int] = 1,
) -> tuple[int, int]:
    """``(H_out, W_out)`` of ``nn.Conv2d`` for an input of ``(H, W)``; ints mean square.

    Example:
        >>> conv2d_output_shape((28, 32), kernel_size=5)
        (24, 28)
    """
    args = [_pair(a) for a in (size, kernel_size, stride, padding, dilation)]
    h, w = (conv_output_size(*(a[i] for a in args)) for i in (0, 1))
    return (h, w)


def pool2d_output_shape(
    size: int | Sequence[int],
    kernel_size: int | Sequence[int],
    stride: int | Sequence[int] | None = None,
    padding: int | Sequence[int] = 0,
    dilation: int | Sequence[int] = 1,
    ceil_mode: bool = False,
) -> tuple[int, int]:
    """``(H_out, W_out)`` of ``nn.MaxPool2d``/``nn.AvgPool2d``; the stride defaults to the kernel.

    Example:
        >>> pool2d_output_shape(28, 2)
        (14, 14)
    """
    stride = kernel_size if stride is None else stride
    args = [_pair(a) for a in (size, kernel_size, stride, padding, dilation)]
    h, w = (pool_output_size(*(a[i] for a in args), ceil_mode=ceil_mode) for i in (0, 1))
    return (h, w)
