"""Product quantization (Jégou, Douze & Schmid, 2011), the compression of fastText's ``quantize``.

A row ``x`` of ``d`` numbers is cut into ``m = ceil(d / dsub)`` sub-vectors ``x_1 .. x_m``
(the last one is shorter when ``dsub`` does not divide ``d``). Each sub-space ``s`` has its
own codebook of 256 centroids ``c_{s,0} .. c_{s,255}`` learned by k-means, and a row is
stored as ``m`` bytes, the nearest centroid of each sub-vector::

    code_s(x) = argmin_j ||x_s - c_{s,j}||^2          x  ~  [c_{1,code_1}, ..., c_{m,code_m}]

With ``dsub = 2`` a 100-dimensional float32 row (400 bytes) becomes 50 bytes; the codebooks
add ``256 * d`` floats for the whole matrix. fastText's ``-qnorm`` stores ``x / ||x||`` this
way and the norms ``||x||`` with a one-dimensional codebook of their own
(:class:`QuantizedRows`), so length and direction are quantized separately.

K-means (per sub-space, as fastText's): starts from 256 distinct sampled rows, 25 rounds of
assigning each point to its nearest centroid and moving each centroid to the mean of its
points; an empty cluster takes half of the largest one (its centroid copied and both nudged
apart by a factor ``1 +- 1/1024``). It is fitted on at most ``64 * 256`` sampled rows
(fastText samples up to ``256 * 256``): in a 2-dimensional sub-space that is plenty for 256
centroids, and fitting is 4x faster.

Example:
    >>> x = np.random.default_rng(0).normal(size=(1000, 10)).astype(np.float32)
    >>> pq = ProductQuantizer.fit(x, dsub=2)
    >>> codes = pq.encode(x)  # (1000, 5) uint8
    >>> pq.decode(codes).shape
    (1000, 10)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from danlu.errors import UsageError
from danlu.tasks.text_classification.sgd_kernel import load, pointer

__all__ = ["KSUB", "ProductQuantizer", "QuantizedRows"]

KSUB = 256  # centroids per sub-space: one byte per code
_SPLIT = 1.0 / 1024.0  # relative nudge between the two halves of a split cluster
_CHUNK = 16384  # rows per distance block: (16384, 256) float32 is 16 MB
_WIDE = {1: np.float32, 2: np.uint64}  # a sub-vector of dsub float32 read as one element


def _nearest(x: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Index of the nearest row of ``c`` (k, w) for each row of ``x`` (n, w), int64 (n,).

    ``||x - c||^2 = ||x||^2 - 2 x.c + ||c||^2``; the first term is the same for every
    centroid, so it is left out of the argmin.
    """
    cc = np.einsum("kw,kw->k", c, c)
    out = np.empty(len(x), np.int64)
    for i in range(0, len(x), _CHUNK):
        d = cc - 2.0 * (x[i : i + _CHUNK] @ c.T)  # (chunk, k)
        out[i : i + _CHUNK] = d.argmin(axis=1)
    return out


def _kmeans(x: np.ndarray, k: int, niter: int, rng: np.random.Generator) -> np.ndarray:
    """``k`` centroids (k, w) float32 of the points ``x`` (n >= k, w)."""
    n, w = x.shape
    c = x[rng.choice(n, k, replace=False)].astype(np.float32)
    sign = np.where(np.arange(w) % 2 == 0, 1.0, -1.0).astype(np.float32)  # nudge directions
    for _ in range(niter):
        a = _nearest(x, c)
        counts = np.bincount(a, minlength=k)
        sums = np.stack([np.bincount(a, weights=x[:, j], minlength=k) for j in range(w)], 1)
        full = counts > 0
        c[full] = (sums[full] / counts[full, None]).astype(np.float32)
        for empty in np.flatnonzero(~full):
            big = int(counts.argmax())  # split the largest cluster in two
            c[empty] = c[big] * (1 + sign * _SPLIT)
            c[big] = c[big] * (1 - sign * _SPLIT)
            counts[empty] = counts[big] // 2
            counts[big] -= counts[empty]
    return c


@dataclass(frozen=True)
class ProductQuantizer:
    """Codebooks of a product quantizer: ``centroids[:, s*dsub:(s+1)*dsub]`` is sub-space
    ``s``'s (256 rows each)."""

    centroids: np.ndarray  # (256, d) float32
    dsub: int

    @property
    def dim(self) -> int:
        return int(self.centroids.shape[1])

    @property
    def spaces(self) -> list[slice]:
        """The column range of each sub-space."""
        return [slice(s, min(s + self.dsub, self.dim)) for s in range(0, self.dim, self.dsub)]

    @classmethod
    def fit(
        cls, x: np.ndarray, dsub: int = 2, *, niter: int = 25, points_per_centroid: int = 64,
        seed: int = 0,
    ) -> ProductQuantizer:  # fmt: skip
        """Learn 256 centroids per sub-space of the rows of ``x`` (n >= 256, d)."""
        x = np.ascontiguousarray(x, dtype=np.float32)
        n, d = x.shape
        if not 1 <= dsub <= d:
            raise UsageError(f"-dsub must be between 1 and the dimension {d}, got {dsub}")
        if n < KSUB:
            raise UsageError(
                f"product quantization learns {KSUB} centroids per sub-space and needs at "
                f"least {KSUB} rows; this matrix has {n}"
            )
        rng = np.random.default_rng(seed)
        most = points_per_centroid * KSUB
        sample = x if n <= most else x[np.sort(rng.choice(n, most, replace=False))]
        centroids = np.empty((KSUB, d), np.float32)
        pq = cls(centroids, dsub)
        for cols in pq.spaces:
            centroids[:, cols] = _kmeans(np.ascontiguousarray(sample[:, cols]), KSUB, niter, rng)
        return pq

    def encode(self, x: np.ndarray) -> np.ndarray:
        """Codes (n, m) uint8: the nearest centroid of each sub-vector."""
        x = np.asarray(x, dtype=np.float32)
        codes = np.empty((len(x), len(self.spaces)), np.uint8)
        for s, cols in enumerate(self.spaces):
            codes[:, s] = _nearest(np.ascontiguousarray(x[:, cols]), self.centroids[:, cols])
        return codes

    def decode(self, codes: np.ndarray, scale: np.ndarray | None = None) -> np.ndarray:
        """Rows (n, d) float32 rebuilt from their codes (n, m), row ``i`` times ``scale[i]``
        (float32 (n,), the norms of -qnorm) when given.

        The codebooks are laid out as one table of ``m * 256`` sub-vectors (the last
        sub-space zero-padded to ``dsub``): code ``j`` of sub-space ``s`` is sub-vector
        ``256 s + j``. The compiled ``pq_decode`` (``sgd_kernel.c``) writes each row once;
        without it numpy gathers a block of rows at a time, each sub-vector read as a
        single ``4 * dsub``-byte element (an official ``.ftz`` keeps all 2 M bucket rows:
        100 M codes). Both give the same floats.
        """
        n, m = codes.shape
        dsub, d = self.dsub, self.dim
        if m != len(self.spaces) or (scale is not None and scale.shape != (n,)):
            raise ValueError(f"codes ({n}, {m}) and scale {getattr(scale, 'shape', None)} "
                             f"do not fit {len(self.spaces)} sub-spaces")  # fmt: skip
        table = np.zeros((m, KSUB, dsub), np.float32)
        for s, cols in enumerate(self.spaces):
            table[s, :, : cols.stop - cols.start] = self.centroids[:, cols]
        out = np.empty((n, d), np.float32)
        kernel = load()
        if kernel is not None:
            codes = np.ascontiguousarray(codes, np.uint8)
            scale = None if scale is None else np.ascontiguousarray(scale, np.float32)
            kernel.pq_decode(pointer(codes, np.uint8), n, m, pointer(table, np.float32), dsub,
                             d, pointer(scale, np.float32), pointer(out, np.float32))  # fmt: skip
            return out
        wide = table.reshape(m * KSUB, dsub)
        if dsub in _WIDE:  # one machine word per sub-vector
            wide = wide.view(_WIDE[dsub]).reshape(m * KSUB)
        offsets = np.arange(m, dtype=np.int32) * KSUB
        for lo in range(0, n, _CHUNK):
            block = np.take(wide, codes[lo : lo + _CHUNK] + offsets, axis=0)  # (b, m[, dsub])
            out[lo : lo + _CHUNK] = block.view(np.float32).reshape(len(block), m * dsub)[:, :d]
        if scale is not None:
            out *= scale[:, None]
        return out


@dataclass(frozen=True)
class QuantizedRows:
    """A matrix stored by product quantization, its norms apart when ``norms`` is set.

    ``arrays(name)`` and ``from_arrays`` give the file form: ``{name}_codes`` (n, m) uint8,
    ``{name}_centroids`` (256, d) float32 and, with -qnorm, ``{name}_norm_codes`` (n, 1)
    and ``{name}_norm_centroids`` (256, 1).
    """

    pq: ProductQuantizer
    codes: np.ndarray
    norms: tuple[ProductQuantizer, np.ndarray] | None = None

    @classmethod
    def fit(cls, x: np.ndarray, dsub: int = 2, qnorm: bool = False, seed: int = 0) -> QuantizedRows:
        x = np.asarray(x, dtype=np.float32)
        if not qnorm:
            pq = ProductQuantizer.fit(x, dsub, seed=seed)
            return cls(pq, pq.encode(x))
        norm = np.linalg.norm(x, axis=1, keepdims=True).astype(np.float32)  # (n, 1)
        unit = x / np.maximum(norm, np.float32(1e-12))
        npq = ProductQuantizer.fit(norm, 1, seed=seed)
        pq = ProductQuantizer.fit(unit, dsub, seed=seed + 1)
        return cls(pq, pq.encode(unit), (npq, npq.encode(norm)))

    def decode(self) -> np.ndarray:
        """The rows (n, d) float32: their codes decoded, times their decoded norms."""
        scale = None
        if self.norms is not None:
            npq, ncodes = self.norms
            scale = npq.decode(ncodes)[:, 0]
        return self.pq.decode(self.codes, scale)

    def arrays(self, name: str) -> dict[str, np.ndarray]:
        out = {f"{name}_codes": self.codes, f"{name}_centroids": self.pq.centroids}
        if self.norms is not None:
            out[f"{name}_norm_codes"] = self.norms[1]
            out[f"{name}_norm_centroids"] = self.norms[0].centroids
        return out

    @classmethod
    def from_arrays(cls, tensors: dict[str, np.ndarray], name: str, dsub: int) -> QuantizedRows:
        norms = None
        if f"{name}_norm_codes" in tensors:
            npq = ProductQuantizer(tensors[f"{name}_norm_centroids"].astype(np.float32), 1)
            norms = (npq, tensors[f"{name}_norm_codes"])
        pq = ProductQuantizer(tensors[f"{name}_centroids"].astype(np.float32), dsub)
        return cls(pq, tensors[f"{name}_codes"], norms)
