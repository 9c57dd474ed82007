"""cbow/skipgram's two engines (the compiled step, numpy) against fastText's updates written
out plainly (float64).

The kernel draws its random numbers from minstd (``x = x * 48271 mod 2^31 - 1``); the
reference below replays that stream in Python: per line the keep draws, then per position
the window, then the negatives, as ``sgd_kernel.c`` documents.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from danlu.tasks.text_classification.config import UNSUPERVISED_CONFIGS, SkipgramConfig
from danlu.tasks.text_classification.dictionary import EOS, Dictionary, char_ngram_buckets
from danlu.tasks.text_classification.huffman import HuffmanTree
from danlu.tasks.text_classification.sgd_kernel import load, unavailable_reason
from danlu.tasks.text_classification.unsupervised import read_lines, train_word_vectors
from danlu.tasks.text_classification.word_engine import (
    MAX_LINE_SIZE,
    WordData,
    keep_probabilities,
    negatives_table,
)

needs_kernel = pytest.mark.skipif(
    load() is None, reason=f"the compiled step does not build here: {unavailable_reason()}"
)
M = 2_147_483_647


class MinStd:
    """``std::minstd_rand``: the kernel's stream of random numbers."""

    def __init__(self, seed: int) -> None:
        self.x = seed % M or 1

    def __call__(self) -> int:
        self.x = self.x * 48271 % M
        return self.x


def _corpus(n: int = 30, seed: int = 0) -> str:
    rng = np.random.default_rng(seed)
    vocab = ["cat", "dog", "fish", "the", "a", "eats", "sees", "big", "small", "red", "zz"]
    p = np.array([3, 3, 2, 8, 6, 3, 3, 2, 2, 1, 1], float)
    lines = [" ".join(rng.choice(vocab, size=rng.integers(2, 9), p=p / p.sum())) for _ in range(n)]
    return "\n".join(lines) + "\n"


def _reference(cfg, path: Path, table: np.ndarray, n_out: int) -> tuple[np.ndarray, ...]:
    """fastText's cbow/skipgram from its equations (Model::update without normalisation)."""
    lines = read_lines(str(path))
    ntokens = sum(map(len, lines)) + len(lines)
    d = Dictionary.build(lines, [], cfg.min_count, require_labels=False, bucket=cfg.bucket,
                         minn=cfg.minn, maxn=cfg.maxn)  # fmt: skip
    data = WordData.build(d, lines, ntokens, cfg.t)  # its encoding is tested below
    out = np.zeros((n_out, cfg.dim))
    counts = d.word_counts
    tree = HuffmanTree.build(counts)
    table_neg = negatives_table(counts)
    rng = MinStd(cfg.seed)
    total = cfg.epoch * ntokens  # fastText: stop once epoch * ntokens tokens were read
    seen = local = 0

    def sub(v: int) -> list[int]:
        return data.sub_rows[data.sub_off[v] : data.sub_off[v + 1]].tolist()

    def sigmoid(x: float) -> float:
        return 1 / (1 + math.exp(-x))

    def update(rows: list[int], y: int, lr: float) -> None:
        h = table[rows].mean(axis=0)
        grad = np.zeros(cfg.dim)
        if cfg.loss == "softmax":
            s = out @ h
            p = np.exp(s - s.max()) / np.exp(s - s.max()).sum()
            alpha = lr * (np.eye(n_out)[y] - p)
            grad += alpha @ out
            out[:] += np.outer(alpha, h)
        else:
            if cfg.loss == "hs":
                pairs = list(zip(tree.paths[y], tree.codes[y], strict=True))
            else:  # the target, then negatives, each drawn again while equal to it
                pairs = [(y, 1)]
                for _ in range(cfg.neg):
                    c = y
                    while c == y:
                        c = int(table_neg[rng() % len(table_neg)])
                    pairs.append((c, 0))
            for c, label in pairs:  # one after the other: a row drawn twice has moved
                alpha = lr * (label - sigmoid(out[c] @ h))
                grad += alpha * out[c]
                out[c] += alpha * h
        for r in rows:  # every occurrence, the whole gradient (no 1/|rows|)
            table[r] += grad

    while seen < total:  # passes; the last one stops where `total` is reached
        for i in range(len(data.line_off) - 1):
            if seen >= total:
                break
            lr = cfg.lr * max(0.0, 1 - seen / total)
            tokens = data.tokens[data.line_off[i] : data.line_off[i + 1]].tolist()
            line = [t for t in tokens if rng() / M <= data.keep[t]]
            for w in range(len(line)):
                b = 1 + rng() % cfg.ws
                context = [c for c in range(w - b, w + b + 1) if c != w and 0 <= c < len(line)]
                if cfg.model == "cbow":
                    rows = [r for c in context for r in sub(line[c])]
                    if rows:
                        update(rows, line[w], lr)
                else:
                    for c in context:
                        update(sub(line[w]), line[c], lr)
            local += len(tokens)
            if local > cfg.lr_update_rate:
                seen, local = seen + local, 0
        seen, local = seen + local, 0  # the end of the worker's share
    return table, out


@pytest.mark.parametrize("compiled", [pytest.param(True, marks=needs_kernel), False])
@pytest.mark.parametrize("model", ["skipgram", "cbow"])
@pytest.mark.parametrize("loss", ["ns", "hs", "softmax"])
def test_both_engines_equal_the_per_example_equations(model, loss, compiled, tmp_path) -> None:
    path = tmp_path / "text.txt"
    path.write_text(_corpus(), encoding="utf-8")
    cfg = UNSUPERVISED_CONFIGS[model](
        input=str(path), output="", dim=6, ws=3, epoch=2, min_count=2, neg=3, loss=loss,
        bucket=97, minn=2, maxn=3, t=0.02, lr=0.3, lr_update_rate=7, thread=1, verbose=0,
        seed=5,
    )  # fmt: skip
    trained = train_word_vectors(cfg, dtype=np.float64, compiled=compiled)
    start = np.random.default_rng(cfg.seed).random(trained.input.shape, dtype=np.float32)
    start = start.astype(np.float64) * (2.0 / cfg.dim) - 1.0 / cfg.dim
    table, out = _reference(cfg, path, start, len(trained.output))
    assert np.abs(out).max() > 0  # it trained
    np.testing.assert_allclose(trained.output, out, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(trained.input, table, rtol=1e-10, atol=1e-12)


def test_the_corpus_encoding_is_fasttexts() -> None:
    long_line = ["a"] * (2 * MAX_LINE_SIZE + 10)
    lines = [["a", "b", "oov"], [], long_line, ["b"]]
    d = Dictionary.build(lines, [], 1, require_labels=False, bucket=50, minn=2, maxn=3)
    d = Dictionary(d.words[:3], d.word_counts[:3], [], [], bucket=50, minn=2, maxn=3)  # no oov
    data = WordData.build(d, lines, ntokens=2 * MAX_LINE_SIZE + 19, t=1e-4)
    a, b, eos = d.word_id("a"), d.word_id("b"), d.word_id(EOS)
    got = [data.tokens[s:e].tolist() for s, e in zip(data.line_off[:-1], data.line_off[1:],
                                                    strict=True)]  # fmt: skip
    n = MAX_LINE_SIZE + 1  # fastText's getLine stops after this many tokens
    long_ids = [a] * len(long_line) + [eos]
    assert got == [[a, b, eos], [eos], long_ids[:n], long_ids[n : 2 * n], long_ids[2 * n :],
                   [b, eos]]  # fmt: skip
    for word in d.words:  # its own row, then its char n-grams' buckets (none for </s>)
        rows = data.sub_rows[data.sub_off[d.word_id(word)] : data.sub_off[d.word_id(word) + 1]]
        grams = [] if word == EOS else char_ngram_buckets(word, 2, 3, 50)
        assert rows[0] == d.word_id(word)
        assert data.buckets[rows[1:] - d.nwords].tolist() == grams


def test_keep_probabilities_and_negatives_table_are_fasttexts() -> None:
    counts = [900, 100, 16, 1]
    f = np.array(counts) / 2000
    expected = np.sqrt(1e-3 / f) + 1e-3 / f
    np.testing.assert_allclose(keep_probabilities(counts, 2000, 1e-3), expected)
    table = negatives_table(counts, size=10_000)
    share = np.bincount(table) / len(table)
    root = np.sqrt(counts)
    np.testing.assert_allclose(share, root / root.sum(), atol=1e-3)  # count^0.5, not ^0.75
    assert np.bincount(table).tolist() == np.ceil(root * 10_000 / root.sum()).tolist()


@needs_kernel
def test_threads_share_the_weights_and_finish_the_schedule(tmp_path) -> None:
    from danlu.tasks.text_classification.workers import n_workers

    if n_workers(2, 2, processes=False, per_worker=1) < 2:
        pytest.skip("needs 2 CPUs")
    path = tmp_path / "text.txt"
    path.write_text(_corpus(45_000, seed=1), encoding="utf-8")  # about 250,000 tokens
    log: list[str] = []
    cfg = SkipgramConfig(input=str(path), output="", dim=8, epoch=1, thread=2, bucket=1000,
                         verbose=0)  # fmt: skip
    model = train_word_vectors(cfg, log=log.append)
    assert log[1] == "training: compiled steps, 2 threads"
    assert np.isfinite(model.input).all() and np.abs(model.output).max() > 0
    assert float(log[-1].rsplit("lr ", 1)[1]) < 0.001  # both threads ran to the end
