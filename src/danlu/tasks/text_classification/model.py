"""The fastText classifier: a mean of input rows, then a linear output layer.

::

    h = (1 / |rows|) * sum_{r in rows(line)} W[r]        # (d,) rows include </s>
    s = O h                                              # label (or tree node) scores

Only the n-gram buckets that occur in the training data are stored (``ngram_buckets``,
sorted, row ``nwords + j`` of ``input`` holds bucket ``ngram_buckets[j]``); a bucket that
never occurred in training maps to a zero row (fastText keeps its random initial vector:
noise that the classifier never saw). This keeps a 2M-bucket model small in memory and on
disk while computing the same function on the training data.

The model is numpy arrays: training, prediction and the model file need no torch import
(the import alone costs about as much as training on 45,000 lines).

Example:
    >>> model = load_model("model.safetensors")  # doctest: +SKIP
    >>> model.predict(["体育 新闻"], k=2)  # doctest: +SKIP
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from danlu.errors import UsageError
from danlu.tasks.text_classification.dictionary import Dictionary
from danlu.tasks.text_classification.huffman import HuffmanTree
from danlu.tasks.text_classification.losses import log1pexp, sigmoid

__all__ = ["FORMAT", "FastTextModel", "load_model"]

FORMAT = "danlu-fasttext-1"


@dataclass
class FastTextModel:
    """Weights plus dictionary of a trained fastText-style classifier."""

    dictionary: Dictionary
    input: np.ndarray  # (nwords + K, d) float32
    ngram_buckets: np.ndarray  # (K,) int64, sorted
    output: np.ndarray  # (C, d), or (C - 1, d) for hs
    loss: str
    args: dict[str, Any] = field(default_factory=dict)
    tokenizer: str = "whitespace"
    _tree: HuffmanTree | None = field(default=None, repr=False)
    _padded: tuple[np.ndarray, ...] | None = field(default=None, repr=False)
    _bucket_rows: np.ndarray | None = field(default=None, repr=False)
    _projected: np.ndarray | None = field(default=None, repr=False)
    # what stands for input (and output) in the file of a quantized model: int8 rows and
    # scales, or product-quantizer codes and codebooks (see quantize.py); input and output
    # above hold their decoded values
    packed: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    @property
    def labels(self) -> list[str]:
        return self.dictionary.labels

    @property
    def dim(self) -> int:
        return int(self.input.shape[1])

    @property
    def tree(self) -> HuffmanTree:
        if self._tree is None:
            self._tree = HuffmanTree.build(self.dictionary.label_counts)
        return self._tree

    # ------------------------------------------------------------------ rows and hidden
    def compact_rows(self, rows: np.ndarray) -> np.ndarray:
        """Map dictionary rows (``nwords + bucket`` for n-grams) to rows of ``input``.

        Buckets absent from training map to ``len(input)``, a zero row (see module doc).
        """
        nwords = self.dictionary.nwords
        out = rows.copy()
        gram = rows >= nwords
        if gram.any():
            if self._bucket_rows is None:  # bucket -> row, one int32 per bucket
                table = np.full(self.dictionary.bucket, len(self.input), np.int32)
                table[self.ngram_buckets] = nwords + np.arange(len(self.ngram_buckets))
                self._bucket_rows = table
            out[gram] = self._bucket_rows[rows[gram] - nwords]
        return out

    def weights_changed(self) -> None:
        """Forget results cached from the weights (call after editing them in place)."""
        self._projected = None

    def _line_rows(self, lines: Sequence[Sequence[str]]) -> tuple[np.ndarray, ...]:
        """(rows of ``input`` (R,), weights (R,), offsets (L + 1,)) of tokenized lines.

        The weight of a row is ``1 / |rows of its line|`` (a mean); an n-gram bucket that
        never occurred in training points at row 0 with weight 0 (the zero row of the
        module docstring, never built). Every line has a row (``</s>``).
        """
        rows, offsets = self.dictionary.encode(lines)
        idx = self.compact_rows(rows)
        lengths = np.diff(offsets)
        weight = np.repeat((1.0 / np.maximum(lengths, 1)).astype(np.float32), lengths)
        missing = idx == len(self.input)
        if missing.any():
            weight[missing] = 0.0
            idx[missing] = 0
        return idx, weight, offsets

    def hidden(self, lines: Sequence[Sequence[str]]) -> np.ndarray:
        """Hidden vectors (L, d) of tokenized lines (``</s>`` is appended)."""
        if not len(lines):
            return np.zeros((0, self.dim), self.input.dtype)
        idx, weight, offsets = self._line_rows(lines)
        return np.add.reduceat(self.input[idx] * weight[:, None], offsets[:-1], axis=0)

    def logits(self, lines: Sequence[Sequence[str]]) -> np.ndarray:
        """Output scores ``s = O h`` (L, n_out) of tokenized lines.

        The model is linear, so ``s = mean_r (O W[r])``: the distinct rows of the batch are
        projected once (U x d times d x n_out) and the means are taken over n_out columns
        instead of d, about ten times less memory traffic than building ``h``.
        """
        if not len(lines):
            return np.zeros((0, self.output.shape[0]), self.input.dtype)
        idx, weight, offsets = self._line_rows(lines)
        if self._projected is None and len(idx) * 4 >= len(self.input):
            # a large batch: project the whole table once and keep it for later calls
            self._projected = self.input @ self.output.T  # (rows, n_out)
        if self._projected is not None:
            per_row = self._projected[idx]
        else:
            distinct, inverse = np.unique(idx, return_inverse=True)
            per_row = (self.input[distinct] @ self.output.T)[inverse]  # (R, n_out)
        per_row *= weight[:, None]
        return np.add.reduceat(per_row, offsets[:-1], axis=0)

    # ------------------------------------------------------------------ prediction
    def probabilities(self, s: np.ndarray) -> np.ndarray:
        """Label probabilities (L, C) of output scores (L, n_out)."""
        if self.loss == "softmax":
            e = np.exp(s - s.max(axis=1, keepdims=True))
            return e / e.sum(axis=1, keepdims=True)
        if self.loss != "hs":
            return sigmoid(s)
        # hs: log p(y) = sum over the path of log sigmoid(+-s_n) = -log(1 + e^{-+s_n})
        paths, codes, mask = self._hs_tables()
        z = s[:, paths] * (codes * 2 - 1)  # (L, C, D)
        return np.exp(-(log1pexp(-z) * mask).sum(-1))

    def _hs_tables(self) -> tuple[np.ndarray, ...]:
        if self._padded is None:
            self._padded = self.tree.padded()
        return self._padded

    def predict_topk(
        self, lines: Sequence[Sequence[str]], k: int = 1, threshold: float = 0.0
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` label indices and probabilities of each line, best first.

        ``k = -1`` gives every label above ``threshold``. For ``zlpr`` a label is
        predicted only when its score is positive (probability above 0.5).

        Returns:
            (indices int64 (L, k'), probabilities float32 (L, k')), ``k' = min(k, C)``;
            entries below the threshold have index -1.
        """
        n_labels = len(self.labels)
        kk = n_labels if k < 0 else min(k, n_labels)
        if self.loss == "zlpr":
            threshold = max(threshold, 0.5)
        idx_parts, p_parts = [], []
        for start in range(0, len(lines), 8192):
            probs = self.probabilities(self.logits(lines[start : start + 8192]))
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
        :meth:`predict_topk`)."""
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

    # ------------------------------------------------------------------ files
    def save(self, path: str | Path) -> Path:
        """Write one safetensors file: weights, with dictionary and args in its metadata."""
        from danlu.io import save_arrays

        meta = {
            "format": FORMAT, "loss": self.loss, "tokenizer": self.tokenizer,
            "dictionary": json.dumps(self.dictionary.to_metadata(), ensure_ascii=False),
            "args": json.dumps(self.args, ensure_ascii=False),
        }  # fmt: skip
        arrays = {"ngram_buckets": self.ngram_buckets.astype(np.int32), **self.packed}
        for name in ("input", "output"):
            if not any(k.startswith(f"{name}_") for k in self.packed):
                arrays[name] = getattr(self, name).astype(np.float32, copy=False)
        return save_arrays(path, arrays, meta)


def load_model(path: str | Path) -> FastTextModel:
    """Load a model written by :meth:`FastTextModel.save` (reads tensors, executes nothing)."""
    from danlu.io import load_arrays, read_safetensors_metadata

    p = Path(path)
    if not p.is_file():
        raise UsageError(f"model file {str(path)!r} does not exist")
    try:
        meta = read_safetensors_metadata(p)
    except ValueError:
        raise UsageError(f"{path} is not a danlu model file (not safetensors)") from None
    if meta.get("format") == "danlu-textclf-1":  # a -model textcnn/... network
        from danlu.tasks.text_classification.neural import load_neural

        return load_neural(p, meta)  # type: ignore[return-value]
    if meta.get("format") != FORMAT:
        raise UsageError(
            f"{path} is not a danlu fastText model (format {meta.get('format')!r}, "
            f"expected {FORMAT!r}); train one with danlu supervised"
        )
    tensors = load_arrays(p)
    args = json.loads(meta["args"])
    packed: dict[str, np.ndarray] = {}
    if "input" not in tensors or "output" not in tensors:  # written by danlu quantize
        from danlu.tasks.text_classification.quantize import unpack

        packed = {k: v for k, v in tensors.items() if k.startswith(("input_", "output_"))}
        tensors.update(unpack(packed, args))
    return FastTextModel(
        dictionary=Dictionary.from_metadata(json.loads(meta["dictionary"])),
        input=tensors["input"],
        ngram_buckets=tensors["ngram_buckets"].astype(np.int64),
        output=tensors["output"],
        loss=meta["loss"],
        args=args,
        tokenizer=meta.get("tokenizer", "whitespace"),
        packed=packed,
    )
