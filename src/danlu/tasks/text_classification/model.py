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

The file (:meth:`FastTextModel.save`, :func:`read_fasttext`) is one safetensors file:
``input``, ``output`` and ``ngram_buckets``, or the packed arrays of a quantized model
(:mod:`packing`) in place of ``input`` / ``output``; the dictionary and the training
options (``args``) are JSON in its metadata. :func:`load.load_model` reads either kind
of model file.

Example:
    >>> meta = read_safetensors_metadata("m.safetensors")  # doctest: +SKIP
    >>> model = read_fasttext("m.safetensors", meta)  # doctest: +SKIP
    >>> model.predict_tokens([["体育", "新闻"]], k=2)  # doctest: +SKIP
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from danlu.errors import UsageError
from danlu.io import load_arrays, save_arrays
from danlu.tasks.text_classification.classifier import Classifier
from danlu.tasks.text_classification.config import FASTTEXT_FORMAT
from danlu.tasks.text_classification.dictionary import Dictionary
from danlu.tasks.text_classification.huffman import HuffmanTree
from danlu.tasks.text_classification.losses import log1pexp, sigmoid
from danlu.tasks.text_classification.packing import unpack
from danlu.tasks.text_classification.plain_text import PlainLines, VocabTable
from danlu.tasks.text_classification.sgd_kernel import load

__all__ = ["PROJECT_AFTER", "FastTextModel", "read_fasttext"]

PROJECT_AFTER = 4  # logits: project the table after scoring this many times its rows


@dataclass
class FastTextModel(Classifier):
    """Weights plus dictionary of a trained fastText-style classifier (its top-k
    prediction: :class:`classifier.Classifier`)."""

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
    _scored: int = field(default=0, repr=False)  # rows scored without _projected
    _vocab: VocabTable | None = field(default=None, repr=False)  # PlainLines' word table
    # what stands for input (and output) in the file of a quantized model: int8 rows and
    # scales, or product-quantizer codes and codebooks (see packing.py); input and output
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
        A table that stores every bucket (an official dense ``.bin``) maps each row to
        itself.
        """
        nwords = self.dictionary.nwords
        out = rows.copy()
        if len(self.ngram_buckets) == self.dictionary.bucket:  # sorted, distinct: all
            return out
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
        self._scored = 0

    def _line_rows(self, lines: Sequence[Sequence[str]]) -> tuple[np.ndarray, ...]:
        """(rows of ``input`` (R,), weights (R,), offsets (L + 1,)) of tokenized lines.

        The weight of a row is ``1 / |rows of its line|`` (a mean); an n-gram bucket that
        never occurred in training points at row 0 with weight 0 (the zero row of the
        module docstring, never built). Every line has a row (``</s>``). With
        ``args["absent_buckets"] == "skip"`` (fastText's pruned dictionary, an official
        ``.ftz``: :mod:`fasttext_bin`) such a bucket is no row at all, not even in the count.
        """
        rows, offsets = self._encode(lines)
        idx = self.compact_rows(rows)
        lengths = np.diff(offsets)
        missing = idx == len(self.input)
        counted = lengths
        if self.args.get("absent_buckets") == "skip" and missing.any():
            line = np.repeat(np.arange(len(lengths)), lengths)
            counted = lengths - np.bincount(line[missing], minlength=len(lengths))
        weight = np.repeat((1.0 / np.maximum(counted, 1)).astype(np.float32), lengths)
        if missing.any():
            weight[missing] = 0.0
            idx[missing] = 0
        return idx, weight, offsets

    def _encode(self, lines: Sequence[Sequence[str]]) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`Dictionary.encode`; in C for :class:`PlainLines` (without char n-grams)."""
        if isinstance(lines, PlainLines) and self.dictionary.maxn <= 0:
            if self._vocab is None or self._vocab.dictionary is not self.dictionary:
                self._vocab = VocabTable.build(self.dictionary)
            encoded = None if self._vocab is None else self._vocab.encode(lines)
            if encoded is not None:
                return encoded
        return self.dictionary.encode(lines)

    def hidden(self, lines: Sequence[Sequence[str]]) -> np.ndarray:
        """Hidden vectors (L, d) of tokenized lines (``</s>`` is appended)."""
        if not len(lines):
            return np.zeros((0, self.dim), self.input.dtype)
        idx, weight, offsets = self._line_rows(lines)
        return self.forward(self.input, None, idx, weight, offsets)

    def logits(self, lines: Sequence[Sequence[str]]) -> np.ndarray:
        """Output scores ``s = O h`` (L, n_out) of tokenized lines.

        The model is linear, so ``s = mean_r (O W[r])``: the table can be projected once,
        ``P = W O^T`` (N x n_out), and the means taken over n_out columns instead of d.
        Projecting costs about as much as scoring :data:`PROJECT_AFTER` times N rows
        directly with the compiled kernel (a quarter of that without it), so it is done,
        and kept, once the rows scored since the weights last changed reach that number:
        a single test scores directly, many predictions end up on ``P``.
        """
        if not len(lines):
            return np.zeros((0, self.output.shape[0]), self.input.dtype)
        idx, weight, offsets = self._line_rows(lines)
        if self._projected is None:
            self._scored += len(idx)
            compiled = load() is not None and _fits(self.input, self.output)
            if self._scored >= (PROJECT_AFTER if compiled else 0.25) * len(self.input):
                self._projected = self.input @ self.output.T  # (rows, n_out)
        if self._projected is not None:
            return self.forward(self._projected, None, idx, weight, offsets)
        return self.forward(self.input, self.output, idx, weight, offsets)

    @staticmethod
    def forward(
        table: np.ndarray, output: np.ndarray | None, idx: np.ndarray, weight: np.ndarray,
        offsets: np.ndarray, compiled: bool = True,
    ) -> np.ndarray:  # fmt: skip
        """Per line ``i``: ``h_i = sum_j weight[j] table[idx[j]]`` over ``j`` in
        ``offsets[i]:offsets[i+1]``, then ``output @ h_i`` (or ``h_i`` without ``output``).

        One pass in C (``line_scores`` of ``sgd_kernel.c``) where the kernel builds and
        the arrays are contiguous float32/float64; else (or ``compiled=False``) numpy:
        the weighted rows summed with ``reduceat``; with ``output``, the distinct rows
        are projected first, ``mean_r (O W[r])``. Both agree to float rounding.

        Returns:
            (L, n_out), or (L, d) without ``output``.
        """
        kernel = load() if compiled else None
        if kernel is not None and _fits(table, output):
            w = weight.astype(table.dtype, copy=False)
            return kernel.line_scores(table, output, idx, w, offsets)
        if output is not None:  # project the distinct rows only: U x d times d x n_out
            distinct, inverse = np.unique(idx, return_inverse=True)
            table, idx = table[distinct] @ output.T, inverse
        return np.add.reduceat(table[idx] * weight[:, None], offsets[:-1], axis=0)

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

    def line_probabilities(self, lines: Sequence[Sequence[str]]) -> np.ndarray:
        """Label probabilities (L, C) of tokenized lines."""
        return self.probabilities(self.logits(lines))

    def check_predicts(self) -> None:
        """Raise UsageError for word vectors (cbow, skipgram): they have no labels."""
        if self.args.get("model") in ("cbow", "skipgram"):
            raise UsageError(f"this is a {self.args['model']} model (word vectors), not a "
                             "classifier: predict and test need a model trained by danlu "
                             "supervised (fastText: Model needs to be supervised for "
                             "prediction!)")  # fmt: skip

    # ------------------------------------------------------------------ files
    def save(self, path: str | Path) -> Path:
        """Write one safetensors file: weights, with dictionary and args in its metadata."""
        meta = {
            "format": FASTTEXT_FORMAT, "loss": self.loss, "tokenizer": self.tokenizer,
            "dictionary": json.dumps(self.dictionary.to_metadata(), ensure_ascii=False),
            "args": json.dumps(self.args, ensure_ascii=False),
        }  # fmt: skip
        arrays = {"ngram_buckets": self.ngram_buckets.astype(np.int32), **self.packed}
        for name in ("input", "output"):
            if not any(k.startswith(f"{name}_") for k in self.packed):
                arrays[name] = getattr(self, name).astype(np.float32, copy=False)
        return save_arrays(path, arrays, meta)


def read_fasttext(path: str | Path, meta: dict[str, str]) -> FastTextModel:
    """The model in a file written by :meth:`FastTextModel.save` (``meta``: its metadata,
    format :data:`config.FASTTEXT_FORMAT`); reads arrays and JSON, executes nothing."""
    tensors = load_arrays(path)
    args = json.loads(meta["args"])
    packed: dict[str, np.ndarray] = {}
    if "input" not in tensors or "output" not in tensors:  # written by danlu quantize
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


def _fits(table: np.ndarray, output: np.ndarray | None) -> bool:
    """Whether the kernel takes ``table`` (and ``output``): one float dtype, contiguous."""
    arrays = (table,) if output is None else (table, output)
    return table.dtype in (np.float32, np.float64) and all(
        a.dtype == table.dtype and a.flags.c_contiguous for a in arrays
    )
