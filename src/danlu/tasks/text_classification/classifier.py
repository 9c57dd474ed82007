"""What ``test`` and ``predict`` ask of a model: its top-k labels per line, best first.

Both models (the fastText model, ``model.py``, and the networks, ``neural_model.py``)
subclass :class:`Classifier` and give the probabilities ``p`` (L, C) of tokenized lines;
this class ranks them::

    top_k(line) = the k labels of largest p, best first (ties: the lower label id first)

A label whose probability is below the threshold (or 0) is dropped; ``-loss zlpr``
predicts a label only when its score is positive (``p > 0.5``), so its threshold is at
least 0.5.

Example:
    >>> model.predict_tokens([["体育", "新闻"]], k=2)  # doctest: +SKIP
    [[('__label__sports', 0.93), ('__label__news', 0.05)]]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["Classifier"]


class Classifier:
    """Top-k prediction from :meth:`line_probabilities`, for a subclass with ``labels``
    (list of C names) and ``loss`` (its name); ``CHUNK`` lines are scored at a time."""

    CHUNK = 8192
    labels: list[str]
    loss: str

    def line_probabilities(self, lines: Sequence[Sequence[str]]) -> np.ndarray:
        """Label probabilities (L, C) float32 of tokenized lines."""
        raise NotImplementedError

    def check_predicts(self) -> None:
        """Raise ``danlu.errors.UsageError`` where the model cannot predict (here: never)."""

    def predict_topk(
        self, lines: Sequence[Sequence[str]], k: int = 1, threshold: float = 0.0
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` label indices and probabilities of each line, best first.

        ``k = -1`` gives every label above ``threshold``.

        Returns:
            (indices int64 (L, k'), probabilities float32 (L, k')), ``k' = min(k, C)``;
            entries below the threshold have index -1.
        """
        self.check_predicts()
        n_labels = len(self.labels)
        kk = n_labels if k < 0 else min(k, n_labels)
        if self.loss == "zlpr":
            threshold = max(threshold, 0.5)
        idx_parts, p_parts = [], []
        for start in range(0, len(lines), self.CHUNK):
            probs = self.line_probabilities(lines[start : start + self.CHUNK])
            probs = probs.astype(np.float32, copy=False)
            # best first; ties keep the lower label index first (argmax, stable sort)
            if kk == 1:
                top_i = probs.argmax(axis=1)[:, None]
            else:
                top_i = np.argsort(-probs, axis=1, kind="stable")[:, :kk]
            top_p = np.take_along_axis(probs, top_i, axis=1)
            top_i[(top_p < threshold) | (top_p <= 0.0)] = -1
            idx_parts.append(top_i)
            p_parts.append(top_p)
        if not idx_parts:
            return np.zeros((0, kk), np.int64), np.zeros((0, kk), np.float32)
        return np.concatenate(idx_parts), np.concatenate(p_parts)

    def predict_tokens(
        self, lines: Sequence[Sequence[str]], k: int = 1, threshold: float = 0.0
    ) -> list[list[tuple[str, float]]]:
        """Top-``k`` (label, probability) pairs of each line, best first (see
        :meth:`predict_topk`; labels below the threshold are left out)."""
        idx, probs = self.predict_topk(lines, k, threshold)
        labels = self.labels
        if (idx >= 0).all():
            names = np.asarray(labels, dtype=object)[idx].tolist()
            return [list(zip(n, p, strict=True)) for n, p in zip(names, probs.tolist(),
                                                                   strict=True)]  # fmt: skip
        return [
            [(labels[i], p) for i, p in zip(i_row, p_row, strict=True) if i >= 0]
            for i_row, p_row in zip(idx.tolist(), probs.tolist(), strict=True)
        ]
