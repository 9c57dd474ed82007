"""Huffman tree, each loss's update against autograd, P@k/R@k by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from danlu.tasks.text_classification.data import LabeledCorpus
from danlu.tasks.text_classification.dictionary import Dictionary
from danlu.tasks.text_classification.huffman import HuffmanTree
from danlu.tasks.text_classification.losses import OutputLoss, zlpr_grad
from danlu.tasks.text_classification.model import FastTextModel
from danlu.tasks.text_classification.predict import evaluate


def test_huffman_paths_and_probabilities() -> None:
    counts = [50, 20, 10, 10, 5, 3, 1]
    tree = HuffmanTree.build(counts)
    depth = [len(p) for p in tree.paths]
    assert depth == sorted(depth)  # frequent labels sit higher
    assert all(0 <= n < len(counts) - 1 for p in tree.paths for n in p)
    # Kraft equality: a full binary tree's leaves satisfy sum 2^-depth = 1
    assert sum(2.0**-d for d in depth) == pytest.approx(1.0)
    scores = np.random.default_rng(0).normal(size=len(counts) - 1)
    sig = 1 / (1 + np.exp(-scores))
    probs = [math.prod(sig[n] if c else 1 - sig[n] for n, c in zip(p, cs, strict=True))
             for p, cs in zip(tree.paths, tree.codes, strict=True)]  # fmt: skip
    assert sum(probs) == pytest.approx(1.0)
    top = tree.top_k(scores, k=3)
    brute = sorted(range(len(counts)), key=lambda y: -probs[y])[:3]
    assert [y for _, y in top] == brute
    assert [math.exp(s) for s, _ in top] == pytest.approx([probs[y] for y in brute], rel=1e-3)


def _dictionary(n_labels: int) -> Dictionary:
    return Dictionary(["a", "</s>"], [2, 2], [f"__label__{i}" for i in range(n_labels)],
                      list(range(20, 20 - n_labels, -1)))  # fmt: skip


def _autograd(loss_name: str, h: torch.Tensor, out: torch.Tensor, y, multi, tree=None):
    h = h.clone().requires_grad_(True)
    o = out.clone().requires_grad_(True)
    s = h @ o.T
    if loss_name == "softmax":
        loss = F.cross_entropy(s, y, reduction="sum")
    elif loss_name == "ova":
        loss = F.binary_cross_entropy_with_logits(s, multi, reduction="sum")
    elif loss_name == "zlpr":
        neg = torch.where(multi > 0, -torch.inf, s)
        pos = torch.where(multi > 0, -s, -torch.inf)
        zero = torch.zeros(len(s), 1)
        loss = (torch.logsumexp(torch.cat([zero, neg], 1), 1)
                + torch.logsumexp(torch.cat([zero, pos], 1), 1)).sum()  # fmt: skip
    else:  # hs
        loss = sum(F.binary_cross_entropy_with_logits(
            s[b, tree.paths[int(y[b])]], torch.tensor(tree.codes[int(y[b])], dtype=s.dtype),
            reduction="sum") for b in range(len(y)))  # fmt: skip
    loss.backward()
    return h.grad, o.grad, float(loss.detach())


@pytest.mark.parametrize("name", ["softmax", "ova", "zlpr", "hs"])
def test_loss_update_equals_autograd(name: str) -> None:
    torch.manual_seed(0)
    n_labels, dim, batch, lr = 5, 7, 6, 0.3
    d = _dictionary(n_labels)
    loss = OutputLoss(name, d.label_counts, neg=5)
    h = torch.randn(batch, dim, dtype=torch.float64)
    out = torch.randn(n_labels - 1 if name == "hs" else n_labels, dim, dtype=torch.float64)
    y = torch.randint(0, n_labels, (batch,))
    multi = (torch.rand(batch, n_labels) < 0.4).double()
    multi[0] = 1.0  # all-positive row
    multi[1] = 0.0  # all-negative row
    tree = HuffmanTree.build(d.label_counts)
    gh, go, want = _autograd(name, h, out, y, multi, tree)
    value, g = loss(h.numpy(), out.numpy(), y.numpy(), multi.numpy(), lr)  # g = -lr dloss/ds
    # softmax adds fastText's 1e-5 inside the log
    assert value == pytest.approx(want, rel=1e-3 if name == "softmax" else 1e-10)
    # the trainer's step: dh = G O (before O moves), O += G^T h
    np.testing.assert_allclose(g @ out.numpy(), -lr * gh.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(g.T @ h.numpy(), -lr * go.numpy(), rtol=1e-10, atol=1e-12)


def test_negative_sampling_gradient_by_hand() -> None:
    # labels 0..3; with a fixed generator the drawn negatives are known, the gradient is
    # sigmoid(s_c) - [c == y] on y and on every drawn c != y (drawn twice: counted twice)
    counts = [40, 30, 20, 10]
    loss = OutputLoss("ns", counts, neg=6)
    rng = np.random.default_rng(3)
    h = rng.normal(size=(4, 5))
    out = rng.normal(size=(4, 5))
    y = np.array([0, 1, 2, 3])
    value, g = loss(h, out, y, None, lr=1.0, rng=np.random.default_rng(7))
    cdf = np.cumsum(np.sqrt(counts) / np.sqrt(counts).sum())
    draws = np.searchsorted(cdf, np.random.default_rng(7).random((4, 6)), side="right")
    s = h @ out.T
    sig = 1 / (1 + np.exp(-s))
    want = np.zeros_like(s)
    expect_loss = 0.0
    for b in range(4):
        want[b, y[b]] -= sig[b, y[b]] - 1
        expect_loss += np.log1p(np.exp(-s[b, y[b]]))
        for c in draws[b]:
            if c != y[b]:
                want[b, c] -= sig[b, c]
                expect_loss += np.log1p(np.exp(s[b, c]))
    np.testing.assert_allclose(g, want, rtol=1e-12, atol=1e-12)
    assert value == pytest.approx(expect_loss)
    # the draws follow count^0.5
    many = np.searchsorted(cdf, np.random.default_rng(0).random(200_000), side="right")
    freq = np.bincount(many, minlength=4) / many.size
    np.testing.assert_allclose(freq, np.sqrt(counts) / np.sqrt(counts).sum(), atol=3e-3)


def test_zlpr_gradient_is_stable_and_exact() -> None:
    from danlu.functional.multilabel import zlpr_loss

    rng = np.random.default_rng(0)
    s = rng.normal(scale=3.0, size=(6, 5))
    s[2] *= 400.0  # large logits: no overflow
    y = (rng.random((6, 5)) < 0.4).astype(np.float64)
    y[0], y[1] = 1.0, 0.0  # all-positive and all-negative rows
    per_row, g = zlpr_grad(s, y)
    st = torch.tensor(s, requires_grad=True)
    ref = zlpr_loss(st, torch.tensor(y), reduction="none")
    (ref_g,) = torch.autograd.grad(ref.sum(), st)
    assert np.isfinite(per_row).all() and np.isfinite(g).all()
    np.testing.assert_allclose(per_row, ref.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(g, ref_g.numpy(), rtol=1e-12, atol=1e-12)


def _toy_model(loss: str = "softmax") -> FastTextModel:
    # word i pushes label i; </s> is neutral
    d = Dictionary(["w0", "w1", "w2", "</s>"], [1, 1, 1, 3],
                   ["__label__0", "__label__1", "__label__2"], [3, 2, 1])  # fmt: skip
    table = np.zeros((4, 3), np.float32)
    table[:3] = np.eye(3) * 10
    return FastTextModel(d, table, np.zeros(0, np.int64), np.eye(3, dtype=np.float32), loss)


def test_precision_recall_at_k_by_hand() -> None:
    model = _toy_model()
    corpus = LabeledCorpus(
        words=[["w0"], ["w1", "w1", "w2"], ["w2", "w2", "w0"], ["w1"]],
        labels=[["__label__0"], ["__label__0", "__label__1"], ["__label__0"], ["__label__9"]],
        skipped=0, ntokens=0,
    )  # fmt: skip
    # last line has only an unknown label: not counted. k=1 predictions: 0, 1, 2.
    n, p, r = evaluate(model, corpus, k=1)
    assert n == 3
    assert p == pytest.approx(2 / 3)  # hits: line 1 (0) and line 2 (1)
    assert r == pytest.approx(2 / 4)  # 4 gold labels
    # top-2: line 1 adds 1 or 2 (a tie; no hit), line 2 adds 2, line 3 adds 0 (a hit)
    n, p, r = evaluate(model, corpus, k=2)
    assert p == pytest.approx(3 / 6) and r == pytest.approx(3 / 4)


@pytest.mark.parametrize("loss", ["softmax", "hs", "ns", "ova", "zlpr"])
def test_each_loss_learns_a_separable_task(loss: str, tmp_path) -> None:
    from danlu.tasks.text_classification.config import SupervisedConfig
    from danlu.tasks.text_classification.data import parse_lines
    from danlu.tasks.text_classification.train import train_supervised_corpus

    rng = np.random.default_rng(0)
    keys = {"a": ["apple", "pear", "plum"], "b": ["car", "bus", "van"], "c": ["red", "blue"]}
    lines = []
    for _ in range(600):
        label = rng.choice(list(keys))
        words = list(rng.choice(keys[label], 3)) + list(rng.choice(["the", "of", "x"], 2))
        lines.append(f"__label__{label} " + " ".join(words))
    corpus = parse_lines(lines)
    cfg = SupervisedConfig(input="-", output="-", loss=loss, epoch=5, lr=0.5, verbose=0,
                           word_ngrams=2, bucket=1000)  # fmt: skip
    model = train_supervised_corpus(cfg, corpus)
    _, p, _ = evaluate(model, parse_lines(lines[:200]), 1)
    assert p > 0.97, (loss, p)
    if loss == "hs":  # the pruned search agrees with the full computation
        s = (model.hidden([["car", "bus"]]) @ model.output.T)[0]
        (full,) = model.predict_tokens([["car", "bus"]], k=2)
        top = model.tree.top_k(s, 2)
        assert [model.labels[y] for _, y in top] == [lab for lab, _ in full]


def test_thread1_seed_is_reproducible() -> None:
    from danlu.tasks.text_classification.config import SupervisedConfig
    from danlu.tasks.text_classification.data import parse_lines
    from danlu.tasks.text_classification.train import train_supervised_corpus

    lines = [f"__label__{i % 3} w{i % 11} w{i % 7} v{i % 5}" for i in range(300)]
    runs = []
    for seed in (1, 1, 2):
        cfg = SupervisedConfig(input="-", output="-", thread=1, seed=seed, verbose=0,
                               word_ngrams=2, bucket=500, loss="ns")  # fmt: skip
        runs.append(train_supervised_corpus(cfg, parse_lines(lines)))
    assert np.array_equal(runs[0].input, runs[1].input)
    assert np.array_equal(runs[0].output, runs[1].output)
    assert not np.array_equal(runs[0].input, runs[2].input)
