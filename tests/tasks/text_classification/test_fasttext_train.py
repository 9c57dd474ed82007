"""The mini-batch trainer against fastText's update written out per example (float64)."""

from __future__ import annotations

import multiprocessing
import shutil

import numpy as np
import pytest

from danlu.tasks.text_classification.config import SupervisedConfig
from danlu.tasks.text_classification.data import parse_lines
from danlu.tasks.text_classification.dictionary import Dictionary
from danlu.tasks.text_classification.examples import Examples
from danlu.tasks.text_classification.huffman import HuffmanTree
from danlu.tasks.text_classification.predict import evaluate
from danlu.tasks.text_classification.sgd_kernel import load, unavailable_reason
from danlu.tasks.text_classification.train import train_supervised_corpus
from danlu.tasks.text_classification.workers import n_workers


def _lines(n: int, seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    keys = {"a": ["apple", "pear", "plum"], "b": ["car", "bus", "van"], "c": ["red", "blue"]}
    out = []
    for _ in range(n):
        label = rng.choice(list(keys))
        words = list(rng.choice(keys[label], 2)) + list(rng.choice(["the", "of", "x", "y"], 2))
        out.append(f"__label__{label} " + " ".join(words))
    return out


def _reference(cfg: SupervisedConfig, lines: list[str], batch: int) -> tuple[np.ndarray, ...]:
    """fastText's SGD from its equations: every example of a batch is differentiated at
    the weights of the batch start, then all updates are added (batch 1: fastText)."""
    corpus = parse_lines(lines)
    d = Dictionary.build(corpus.words, corpus.labels, cfg.min_count, cfg.min_count_label,
                         word_ngrams=cfg.word_ngrams, bucket=cfg.bucket)  # fmt: skip
    data = Examples(corpus, d)  # the (tested) encoding: input rows of each line
    dim = cfg.dim
    table = np.random.default_rng(cfg.seed).random((data.n_rows, dim), dtype=np.float32)
    table = table.astype(np.float64) * (2.0 / dim) - 1.0 / dim
    n_out = len(d.labels) - 1 if cfg.loss == "hs" else len(d.labels)
    out = np.zeros((n_out, dim))
    tree = HuffmanTree.build(d.label_counts)
    total = cfg.epoch * data.total
    seen = 0
    for epoch in range(cfg.epoch):
        order = np.random.default_rng([cfg.seed, epoch]).permutation(len(lines))
        for b0 in range(0, len(order), batch):
            lr = cfg.lr * (1 - (seen - seen % cfg.lr_update_rate) / total)
            d_table, d_out = np.zeros_like(table), np.zeros_like(out)
            for i in order[b0 : b0 + batch]:
                rows = data.rows[data.offsets[i] : data.offsets[i + 1]]
                y = int(data.label_flat[data.label_off[i]])
                h = table[rows].mean(axis=0)
                if cfg.loss == "softmax":
                    s = out @ h
                    p = np.exp(s - s.max()) / np.exp(s - s.max()).sum()
                    grad = p - np.eye(len(p))[y]
                elif cfg.loss == "ova":
                    grad = 1 / (1 + np.exp(-(out @ h))) - np.eye(n_out)[y]
                else:  # hs: sigmoid(s_n) - code_n on the path of y
                    grad = np.zeros(n_out)
                    for node, code in zip(tree.paths[y], tree.codes[y], strict=True):
                        grad[node] = 1 / (1 + np.exp(-(out[node] @ h))) - code
                dh = -lr * (out.T @ grad)
                d_out += -lr * np.outer(grad, h)
                for r in rows:  # a row occurring twice gets two updates
                    d_table[r] += dh / len(rows)
                seen += len(corpus.words[i]) + 2  # words, the label and </s>
            table += d_table
            out += d_out
    return table, out


needs_kernel = pytest.mark.skipif(
    load() is None, reason=f"the compiled step does not build here: {unavailable_reason()}"
)
ENGINES = ["numpy", pytest.param("c", marks=needs_kernel)]


@pytest.mark.parametrize(("engine", "loss", "batch"), [
    ("numpy", "softmax", 1), ("numpy", "softmax", 5), ("numpy", "ova", 3), ("numpy", "hs", 2),
    *(pytest.param("c", loss, 1, marks=needs_kernel) for loss in ("softmax", "ova", "hs")),
])  # fmt: skip
def test_trainer_equals_the_per_example_equations(engine: str, loss: str, batch: int) -> None:
    lines = _lines(60)
    cfg = SupervisedConfig(input="-", output="-", loss=loss, epoch=3, lr=0.4, dim=6,
                           word_ngrams=2, bucket=97, thread=1, batch_size=batch, verbose=0,
                           lr_update_rate=7, engine=engine)  # fmt: skip
    model = train_supervised_corpus(cfg, parse_lines(lines), dtype=np.float64)
    table, out = _reference(cfg, lines, batch)
    np.testing.assert_allclose(model.output, out, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(model.input, table, rtol=1e-10, atol=1e-12)


@needs_kernel
@pytest.mark.parametrize(("loss", "neg", "chunk"), [("zlpr", 5, 50_000), ("ns", 1, 7),
                                                     ("softmax", 5, 7)])  # fmt: skip
def test_compiled_step_equals_numpy_per_example_steps(
    loss: str, neg: int, chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """zlpr (multi-label lines) and ns (one negative: no label drawn twice, where the
    compiled step, like fastText, scores the second draw after the first moved O); an
    epoch split into calls of ``chunk`` lines."""
    from danlu.tasks.text_classification import c_engine

    monkeypatch.setattr(c_engine, "KERNEL_CHUNK", chunk)
    lines = _lines(50, seed=3)
    lines += [f"__label__a __label__c {line.split(' ', 1)[1]}" for line in _lines(10, seed=4)]
    models = []
    for engine in ("numpy", "c"):
        cfg = SupervisedConfig(input="-", output="-", loss=loss, neg=neg, epoch=2, lr=0.3,
                               dim=5, word_ngrams=2, bucket=50, thread=1, batch_size=1,
                               verbose=0, engine=engine)  # fmt: skip
        models.append(train_supervised_corpus(cfg, parse_lines(lines), dtype=np.float64))
    np.testing.assert_allclose(models[1].output, models[0].output, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(models[1].input, models[0].input, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("engine", ENGINES)
def test_two_hogwild_workers_share_the_weights(engine: str) -> None:
    if n_workers(2, 20_000, processes=engine == "numpy") < 2:
        pytest.skip("needs 2 CPUs (and Linux for worker processes)")
    lines = _lines(24_000, seed=1)
    cfg = SupervisedConfig(input="-", output="-", epoch=2, lr=0.5, thread=2, verbose=0,
                           engine=engine)  # fmt: skip
    log: list[str] = []
    model = train_supervised_corpus(cfg, parse_lines(lines), log.append)
    _, p, _ = evaluate(model, parse_lines(_lines(500, seed=2)), 1)
    assert p > 0.97
    epochs = [line for line in log if line.startswith("epoch")]
    assert len(epochs) == 2 and "2 workers" in log[0]
    # the workers ran to the end of the schedule together
    assert float(epochs[-1].rsplit("lr ", 1)[1]) < 0.001
    assert multiprocessing.active_children() == []  # the workers were shut down


def test_auto_batch_shrinks_with_small_data_high_lr_and_workers() -> None:
    from danlu.tasks.text_classification.numpy_engine import auto_batch

    assert auto_batch(45_000, 0.5) == 64
    assert auto_batch(45_000, 0.5, workers=2) == 32  # the same steps in flight
    assert auto_batch(45_000, 2.0) == 16  # summed updates at high lr diverge otherwise
    assert auto_batch(45_000, 0.5, loss="ova") == 32  # every label moves on every example
    assert auto_batch(3_000, 0.1) == 4
    assert auto_batch(100, 0.1) == 1  # small data: fastText's per-example steps


def test_engine_c_refuses_mini_batches() -> None:
    from danlu.errors import UsageError

    with pytest.raises(UsageError, match="-engine c takes one example per step"):
        SupervisedConfig(input="-", output="-", engine="c", batch_size=8)


def test_kernel_builds_into_the_cache_or_says_why_not(monkeypatch, tmp_path) -> None:
    from danlu.errors import UsageError
    from danlu.tasks.text_classification import sgd_kernel

    monkeypatch.setenv("DANLU_CACHE", str(tmp_path))
    monkeypatch.setenv("CC", "no-such-compiler")
    monkeypatch.setattr(sgd_kernel, "_loaded", None)
    monkeypatch.setattr(sgd_kernel, "_reason", None)
    assert sgd_kernel.load() is None
    assert "no-such-compiler" in sgd_kernel.unavailable_reason()
    cfg = SupervisedConfig(input="-", output="-", engine="c", thread=1, verbose=0)
    with pytest.raises(UsageError, match="-engine c: no C compiler"):
        train_supervised_corpus(cfg, parse_lines(_lines(20)))
    # -engine auto falls back to numpy
    auto = SupervisedConfig(input="-", output="-", thread=1, verbose=0, epoch=1)
    log: list[str] = []
    train_supervised_corpus(auto, parse_lines(_lines(20)), log.append)
    assert "numpy" in log[0]
    if shutil.which("cc") is None:
        return
    monkeypatch.delenv("CC")
    monkeypatch.setattr(sgd_kernel, "_reason", None)
    assert sgd_kernel.load() is not None
    assert [p.suffix for p in tmp_path.iterdir()] == [".so"]  # no temporary file left
