"""The output losses of the fastText classifier, as gradients with respect to the scores.

For hidden vectors ``h`` (B, d) and the output matrix ``O`` the scores are ``s = h O^T``.
Each loss returns its value and ``G = -lr * dloss/ds`` (B, n_out); the caller then takes
the step ``dh = G O`` (before ``O`` moves) and updates ``O += G^T h``. Gradients, with
``p`` the model's probabilities and ``σ`` the logistic function:

    softmax: ``p - onehot(y)`` (one label per line; multi-label lines draw one)
    ova:     ``σ(s_c) - [c ∈ Y]`` for every label ``c``
    ns:      ``σ(s_c) - [c = y]`` over ``y`` and ``neg`` labels drawn ~ count^0.5
             (a drawn label equal to ``y`` is skipped, as fastText does)
    hs:      ``σ(s_n) - code_n`` over the nodes ``n`` of the Huffman path of ``y``
    zlpr:    ``log(1 + Σ_{i∉Y} e^{s_i}) + log(1 + Σ_{j∈Y} e^{-s_j})``, whose gradient is
             ``e^{s_i} / (1 + Σ_{i∉Y} e^{s})`` on negatives and
             ``-e^{-s_j} / (1 + Σ_{j∈Y} e^{-s})`` on positives (both computed with the
             largest exponent factored out, so large scores do not overflow)

Everything is numpy: the linear model trains without importing torch.

Example:
    >>> loss = OutputLoss("softmax", label_counts=[5, 3])
    >>> value, g = loss(h, out, y, None, lr=0.1, rng=rng)  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from danlu.tasks.text_classification.config import LOSSES
from danlu.tasks.text_classification.huffman import HuffmanTree

__all__ = ["OutputLoss", "log1pexp", "sigmoid", "zlpr_grad"]


def log1pexp(x: np.ndarray) -> np.ndarray:
    """``log(1 + e^x)`` without overflow."""
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


def sigmoid(x: np.ndarray) -> np.ndarray:
    """The logistic function without overflow (``e^{-|x|}`` only)."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(x.dtype, copy=False)


def _log_one_plus_sum_exp(x: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``log(1 + Σ_{mask} e^x)`` per row and its gradient (0 off the mask), stably."""
    m = np.maximum(np.where(mask, x, -np.inf).max(axis=1, initial=-np.inf), 0.0)  # (B,)
    e = np.where(mask, np.exp(np.minimum(x - m[:, None], 0.0)), 0.0)
    denom = np.exp(-m) + e.sum(axis=1)
    return m + np.log(denom), e / denom[:, None]


def zlpr_grad(s: np.ndarray, positive: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """ZLPR loss per row (B,) and its gradient (B, C) for scores ``s`` and 0/1 targets."""
    pos = positive > 0
    loss_neg, g_neg = _log_one_plus_sum_exp(s, ~pos)
    loss_pos, g_pos = _log_one_plus_sum_exp(-s, pos)
    return loss_neg + loss_pos, (g_neg - g_pos).astype(s.dtype, copy=False)


class OutputLoss:
    """One of :data:`config.LOSSES` over ``len(label_counts)`` labels.

    Args:
        name: the loss.
        label_counts: training count of each label (Huffman tree of ``hs``, the
            negative-sampling distribution of ``ns``).
        neg: negatives per example (``ns``).
    """

    def __init__(self, name: str, label_counts: Sequence[int], neg: int = 5) -> None:
        if name not in LOSSES:
            raise ValueError(f"unknown loss {name!r}; valid: {', '.join(LOSSES)}")
        self.name = name
        self.neg = neg
        self.n_labels = len(label_counts)
        self.n_out = max(self.n_labels - 1, 1) if name == "hs" else self.n_labels
        counts = np.asarray(label_counts, dtype=np.float64)
        if name == "ns":
            root = np.sqrt(counts)
            self.neg_cdf = np.cumsum(root / root.sum())
        if name == "hs":
            self.paths, self.codes, self.mask = HuffmanTree.build(list(label_counts)).padded()

    def draw_negatives(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``neg`` labels for each of ``n`` examples (n, neg), drawn ~ count^0.5 (``ns``)."""
        draws = np.searchsorted(self.neg_cdf, rng.random((n, self.neg)), side="right")
        return np.minimum(draws, self.n_labels - 1)

    def __call__(
        self,
        h: np.ndarray,
        out: np.ndarray,
        y: np.ndarray,
        multi: np.ndarray | None,
        lr: float,
        rng: np.random.Generator | None = None,
        with_loss: bool = True,
    ) -> tuple[float, np.ndarray]:
        """(loss summed over the batch or 0.0, ``G = -lr * dloss/ds`` (B, n_out)).

        Args:
            h: hidden vectors (B, d).
            out: output matrix (n_out, d); not modified.
            y: one label per row (B,) int (softmax, ns, hs).
            multi: 0/1 targets (B, C) (ova, zlpr).
            lr: the learning rate of this step.
            rng: draws the negatives of ``ns``.
            with_loss: compute the loss value (skipped on most steps for speed).
        """
        loss = 0.0
        if self.name in ("softmax", "ova", "zlpr"):
            s = h @ out.T  # (B, C)
            if self.name == "softmax":
                s -= s.max(axis=1, keepdims=True)
                g = np.exp(s)
                g /= g.sum(axis=1, keepdims=True)
                rows = np.arange(len(y))
                if with_loss:
                    loss = float(-np.log(g[rows, y] + 1e-5).sum())
                g[rows, y] -= 1.0
            elif self.name == "ova":
                if with_loss:
                    loss = float((log1pexp(s) - s * multi).sum())
                g = sigmoid(s) - multi
            else:
                per_row, g = zlpr_grad(s, multi)
                loss = float(per_row.sum())
            g *= -lr
            return loss, g
        # ns / hs: scores only at a few candidate outputs per row
        if self.name == "ns":
            if rng is None:
                raise ValueError("-loss ns needs a random generator for the negatives")
            cand = np.concatenate([y[:, None], self.draw_negatives(rng, len(y))], axis=1)
            label = np.zeros(cand.shape, dtype=h.dtype)
            label[:, 0] = 1.0
            mask = np.ones(cand.shape, dtype=h.dtype)
            mask[:, 1:] = cand[:, 1:] != y[:, None]
        else:
            cand, label, mask = self.paths[y], self.codes[y].astype(h.dtype), self.mask[y]
        s = np.einsum("bd,bkd->bk", h, out[cand])  # (B, K)
        if with_loss:
            loss = float(((log1pexp(s) - s * label) * mask).sum())
        gk = (sigmoid(s) - label) * mask * -lr  # (B, K)
        # dense (B, n_out): a candidate drawn twice adds up (flat add.at: numpy's fast path)
        g = np.zeros((len(y), self.n_out), dtype=h.dtype)
        flat = (np.arange(len(y))[:, None] * self.n_out + cand).ravel()
        np.add.at(g.reshape(-1), flat, gk.ravel().astype(h.dtype, copy=False))
        return loss, g
