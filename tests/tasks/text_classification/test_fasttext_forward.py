"""The fastText model's forward pass: the compiled ``line_scores`` against numpy, the
identity bucket table of a dense model, and the projected table.

``FastTextModel.forward`` has two paths, the C kernel (``sgd_kernel.c``) and numpy (the
fallback where the kernel does not build); in float64 they agree to rounding, and
``logits`` / ``hidden`` give the same values whichever runs.
"""

from __future__ import annotations

import numpy as np
import pytest

from danlu.tasks.text_classification import model as model_module
from danlu.tasks.text_classification import plain_text
from danlu.tasks.text_classification.dictionary import Dictionary
from danlu.tasks.text_classification.model import PROJECT_AFTER, FastTextModel
from danlu.tasks.text_classification.sgd_kernel import load

kernel = load()
needs_kernel = pytest.mark.skipif(kernel is None, reason="no C compiler: numpy path only")


def _batch(rng: np.random.Generator, n_rows: int, n_lines: int) -> tuple[np.ndarray, ...]:
    """Rows, weights (some 0) and offsets of ``n_lines`` non-empty lines."""
    lengths = rng.integers(1, 9, n_lines)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    rows = rng.integers(0, n_rows, offsets[-1]).astype(np.int64)
    weight = rng.random(offsets[-1]).astype(np.float32)
    weight[rng.random(offsets[-1]) < 0.2] = 0.0  # absent buckets: rows never read
    return rows, weight, offsets


@needs_kernel
@pytest.mark.parametrize("with_output", [True, False])
def test_the_kernel_sums_rows_as_numpy_does_in_float64(with_output: bool) -> None:
    rng = np.random.default_rng(0)
    table = rng.standard_normal((300, 37))
    output = rng.standard_normal((11, 37)) if with_output else None
    rows, weight, offsets = _batch(rng, 300, 50)
    ours = FastTextModel.forward(table, output, rows, weight, offsets)
    ref = FastTextModel.forward(table, output, rows, weight, offsets, compiled=False)
    assert ours.dtype == np.float64 and ours.shape == ref.shape == (50, 11 if with_output else 37)
    np.testing.assert_allclose(ours, ref, rtol=1e-12, atol=1e-12)


@needs_kernel
def test_the_kernel_in_float32_and_on_unaligned_tables() -> None:
    """Official files are read as views into their bytes, at any offset."""
    rng = np.random.default_rng(1)
    table = rng.standard_normal((500, 100)).astype(np.float32)
    output = rng.standard_normal((14, 100)).astype(np.float32)
    rows, weight, offsets = _batch(rng, 500, 200)
    ref = FastTextModel.forward(table, output, rows, weight, offsets, compiled=False)
    raw = bytearray(table.nbytes + output.nbytes + 3)  # both start at an odd byte
    loose = np.frombuffer(raw, np.float32, table.size, 1).reshape(table.shape)
    loose_out = np.frombuffer(raw, np.float32, output.size, 1 + table.nbytes).reshape(14, 100)
    loose[...], loose_out[...] = table, output
    assert not loose.flags.aligned
    for t, o in ((table, output), (loose, loose_out)):
        ours = FastTextModel.forward(t, o, rows, weight, offsets)
        assert ours.dtype == np.float32
        np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-5)


@needs_kernel
def test_the_kernel_gives_an_empty_line_zeros_and_checks_its_arrays() -> None:
    table = np.arange(12, dtype=np.float64).reshape(4, 3)
    rows, weight = np.array([1, 3], np.int64), np.array([0.5, 0.5])
    got = kernel.line_scores(table, None, rows, weight, np.array([0, 0, 2], np.int64))
    np.testing.assert_array_equal(got, [[0, 0, 0], [6, 7, 8]])
    with pytest.raises(ValueError, match=r"rows must lie in \[0, 4\)"):
        kernel.line_scores(table, None, np.array([1, 4], np.int64), weight,
                           np.array([0, 2], np.int64))  # fmt: skip
    with pytest.raises(ValueError, match="offsets go from 0 to 2"):
        kernel.line_scores(table, None, rows, weight, np.array([0, 1], np.int64))
    with pytest.raises(ValueError, match="does not fit"):
        kernel.line_scores(table, np.zeros((2, 5)), rows, weight, np.array([0, 2], np.int64))


def _models(seed: int = 0) -> tuple[FastTextModel, FastTextModel]:
    """The same classifier twice: its bucket rows compact (the buckets seen in training),
    and dense (every bucket stored, zeros for the others: an official ``.bin``)."""
    rng = np.random.default_rng(seed)
    words = [f"w{i}" for i in range(30)] + ["</s>"]
    dictionary = Dictionary(words, [1] * len(words), ["__label__a", "__label__b", "__label__c"],
                            [3, 2, 1], word_ngrams=2, bucket=64)  # fmt: skip
    seen = np.sort(rng.choice(64, 40, replace=False)).astype(np.int64)
    compact = rng.standard_normal((len(words) + 40, 8)).astype(np.float32)
    dense = np.zeros((len(words) + 64, 8), np.float32)
    dense[: len(words)] = compact[: len(words)]
    dense[len(words) + seen] = compact[len(words) :]
    output = rng.standard_normal((3, 8)).astype(np.float32)
    return (
        FastTextModel(dictionary, compact, seen, output, "softmax"),
        FastTextModel(dictionary, dense, np.arange(64, dtype=np.int64), output, "softmax"),
    )


def _lines(seed: int, n: int = 60) -> list[list[str]]:
    rng = np.random.default_rng(seed)
    vocab = [f"w{i}" for i in range(35)]  # w30..w34: out of vocabulary
    return [[vocab[j] for j in rng.integers(0, 35, rng.integers(0, 7))] for _ in range(n)]


def test_a_dense_table_maps_rows_to_themselves_and_scores_as_the_compact_one() -> None:
    compact, dense = _models()
    rows = np.array([0, 5, 31, 40, 94], np.int64)
    np.testing.assert_array_equal(dense.compact_rows(rows), rows)
    assert dense._bucket_rows is None  # no bucket -> row table was built
    lines = _lines(1)
    np.testing.assert_allclose(dense.logits(lines), compact.logits(lines), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(dense.hidden(lines), compact.hidden(lines), rtol=1e-5, atol=1e-6)


def test_logits_and_hidden_are_the_same_without_the_kernel(monkeypatch) -> None:
    compact, dense = _models(2)
    lines = _lines(3)
    expected = [(m.logits(lines), m.hidden(lines)) for m in (compact, dense)]
    monkeypatch.setattr(model_module, "load", lambda: None)
    monkeypatch.setattr(plain_text, "load", lambda: None)
    for m, (logits, hidden) in zip((compact, dense), expected, strict=True):
        m.weights_changed()
        np.testing.assert_allclose(m.logits(lines), logits, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(m.hidden(lines), hidden, rtol=1e-5, atol=1e-6)


@needs_kernel
def test_the_table_is_projected_once_enough_rows_were_scored() -> None:
    """One pass over a test file scores directly; many predictions end on ``P = W O^T``."""
    compact, _ = _models(4)
    lines = _lines(5, 15)
    first = compact.logits(lines)
    per_call = compact._scored
    assert compact._projected is None and 0 < per_call < PROJECT_AFTER * len(compact.input)
    calls = 1
    while compact._projected is None:
        np.testing.assert_allclose(compact.logits(lines), first, rtol=1e-5, atol=1e-6)
        calls += 1
    assert calls == -(-PROJECT_AFTER * len(compact.input) // per_call)
    np.testing.assert_allclose(compact.logits(lines), first, rtol=1e-5, atol=1e-6)
    compact.weights_changed()
    assert compact._projected is None and compact._scored == 0
