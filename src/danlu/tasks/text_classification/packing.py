"""The packed rows of a quantized model file: int8 rows, and decoding every packed form.

``danlu quantize`` stores a matrix's rows in bytes, in one of two forms:

- int8 (``{name}_q``, ``{name}_scale``): each row ``x`` as ``q = round(127 x / max|x|)``
  (int8, ``d`` bytes) and its scale ``max|x| / 127`` (float32), so ``x ~ scale * q``;
- product quantization (``{name}_codes``, ``{name}_centroids``, with ``-qnorm`` also
  ``{name}_norm_codes``, ``{name}_norm_centroids``): see :mod:`product_quantizer`.

:func:`unpack` turns the arrays of a file back into float32 matrices; the loader calls it,
so a quantized model predicts with the decoded values.

Example:
    >>> x = np.array([[0.5, -1.0], [0.0, 0.25]], np.float32)
    >>> q, scale = quantize_rows(x)
    >>> q
    array([[  64, -127],
           [   0,  127]], dtype=int8)
    >>> bool(np.abs(dequantize_rows(q, scale) - x).max() < 0.01)
    True
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from danlu.tasks.text_classification.product_quantizer import QuantizedRows

__all__ = ["dequantize_rows", "quantize_rows", "unpack"]


def quantize_rows(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row-wise symmetric int8: returns (q int8 (R, d), scale float32 (R,))."""
    scale = np.maximum(np.abs(x).max(axis=1, initial=0.0), 1e-12) / 127.0
    q = np.clip(np.round(x / scale[:, None]), -127, 127).astype(np.int8)
    return q, scale.astype(np.float32)


def dequantize_rows(q: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Inverse of :func:`quantize_rows` (up to rounding): ``scale * q``, float32 (R, d)."""
    return q.astype(np.float32) * scale[:, None].astype(np.float32)


def unpack(packed: Mapping[str, np.ndarray], args: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Decoded ``input`` / ``output`` matrices (float32) of the packed arrays present.

    ``args``: the model's options; ``dsub`` (default 2) is the width of a pq sub-vector.
    """
    out = {}
    if "input_q" in packed:
        out["input"] = dequantize_rows(packed["input_q"], packed["input_scale"])
    for name in ("input", "output"):
        if f"{name}_codes" in packed:
            dsub = int(args.get("dsub", 2))
            out[name] = QuantizedRows.from_arrays(dict(packed), name, dsub).decode()
    return out
