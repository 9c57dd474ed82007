"""Product quantization (``danlu quantize -qtype pq``) against its definition."""

from __future__ import annotations

import numpy as np
import pytest

from danlu.errors import UsageError
from danlu.tasks.text_classification import product_quantizer
from danlu.tasks.text_classification.product_quantizer import (
    KSUB,
    ProductQuantizer,
    QuantizedRows,
)


def _rows(n: int = 3000, d: int = 5, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, d)).astype(np.float32)


def test_encode_is_the_nearest_centroid_of_each_sub_vector() -> None:
    x = _rows()  # d = 5, dsub = 2: sub-spaces [0, 2), [2, 4), [4, 5)
    pq = ProductQuantizer.fit(x, dsub=2)
    assert [(s.start, s.stop) for s in pq.spaces] == [(0, 2), (2, 4), (4, 5)]
    codes = pq.encode(x)
    assert codes.shape == (len(x), 3) and codes.dtype == np.uint8
    x64, c64 = x.astype(np.float64), pq.centroids.astype(np.float64)
    for s, cols in enumerate(pq.spaces):  # argmin_j ||x_s - c_{s,j}||^2, by brute force
        dist = ((x64[:, None, cols] - c64[None, :, cols]) ** 2).sum(-1)
        best = dist.min(axis=1)
        chosen = dist[np.arange(len(x)), codes[:, s]]
        np.testing.assert_allclose(chosen, best, rtol=1e-5, atol=1e-9)


@pytest.mark.parametrize(("d", "dsub"), [(7, 3), (10, 2), (5, 1), (4, 4)])
def test_decode_in_c_gives_the_floats_numpy_gives(monkeypatch, d: int, dsub: int) -> None:
    """``pq_decode`` of ``sgd_kernel.c`` against the numpy gather, scaled (-qnorm) or not."""
    if product_quantizer.load() is None:
        pytest.skip("no C compiler: numpy decodes")
    rng = np.random.default_rng(d)
    pq = ProductQuantizer(rng.normal(size=(KSUB, d)).astype(np.float32), dsub)
    codes = rng.integers(0, KSUB, (3000, len(pq.spaces))).astype(np.uint8)
    scale = rng.random(3000).astype(np.float32)
    compiled = [pq.decode(codes), pq.decode(codes, scale)]
    monkeypatch.setattr(product_quantizer, "load", lambda: None)
    for got, want in zip(compiled, [pq.decode(codes), pq.decode(codes, scale)], strict=True):
        assert got.dtype == want.dtype == np.float32 and got.shape == (3000, d)
        np.testing.assert_array_equal(got, want)


def test_decode_concatenates_the_chosen_centroids() -> None:
    centroids = np.arange(KSUB * 5, dtype=np.float32).reshape(KSUB, 5)
    pq = ProductQuantizer(centroids, dsub=2)
    codes = np.array([[0, 1, 2], [255, 7, 0]], dtype=np.uint8)
    want = np.array([[0, 1, 7, 8, 14], [1275, 1276, 37, 38, 4]], dtype=np.float32)
    np.testing.assert_array_equal(pq.decode(codes), want)
    np.testing.assert_array_equal(pq.encode(pq.decode(codes)), codes)  # a fixed point


def test_kmeans_beats_its_random_start_and_quantizes_closely() -> None:
    x = _rows(d=6)
    fitted = ProductQuantizer.fit(x, dsub=2)
    start = ProductQuantizer(x[:KSUB].copy(), dsub=2)  # 256 data rows as the codebook

    def error(pq: ProductQuantizer) -> float:
        return float(np.linalg.norm(pq.decode(pq.encode(x)) - x) / np.linalg.norm(x))

    assert error(fitted) < 0.8 * error(start)
    assert error(fitted) < 0.12  # 256 levels for a 2-d Gaussian
    assert np.unique(fitted.centroids[:, :2], axis=0).shape[0] == KSUB  # no cluster left empty


def test_qnorm_stores_norms_apart_and_the_file_form_round_trips() -> None:
    x = _rows(d=8) * np.random.default_rng(1).uniform(0.1, 10.0, size=(3000, 1)).astype(np.float32)
    plain = QuantizedRows.fit(x, dsub=2)
    normed = QuantizedRows.fit(x, dsub=2, qnorm=True)
    assert set(normed.arrays("input")) == {"input_codes", "input_centroids",
                                           "input_norm_codes", "input_norm_centroids"}  # fmt: skip
    norms = np.linalg.norm(x, axis=1)
    got = np.linalg.norm(normed.decode(), axis=1)
    assert np.median(np.abs(got - norms) / norms) < 0.03  # the length is kept closely
    for rows in (plain, normed):
        back = QuantizedRows.from_arrays(rows.arrays("w"), "w", dsub=2)
        np.testing.assert_array_equal(back.decode(), rows.decode())


def test_bad_uses_are_refused() -> None:
    with pytest.raises(UsageError, match="at least 256 rows"):
        ProductQuantizer.fit(_rows(n=100), dsub=2)
    with pytest.raises(UsageError, match="-dsub"):
        ProductQuantizer.fit(_rows(), dsub=6)
