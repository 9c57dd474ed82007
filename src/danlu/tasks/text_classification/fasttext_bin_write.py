"""Writing fastText's own model files: a dense ``.bin``, a product-quantized ``.ftz``.

The layout, and the constants, are :mod:`fasttext_bin`'s (the reader); each writer is the
inverse of the reader's mapping onto :class:`FastTextModel`, so that the official package
loads the file and predicts what danlu predicts from it.

- :func:`write_bin`, the dense model (a classifier, or word vectors): ``pruneidx_size`` -1
  and all ``nwords + bucket`` input rows. A bucket danlu does not store (training never
  saw it) is a zero row, counted in a line's mean, which is what danlu computes. fastText
  rejects a pruned dictionary beside a dense input, so a model that skips absent buckets
  (a pruned ``.ftz`` read by danlu) is refused.
- :func:`write_ftz`, a product-quantized classifier (``danlu quantize -saveFormat ftz``,
  ``FastText.quantize``, or an official ``.ftz`` read by danlu). The dictionary holds the
  model's words: pruning already dropped the others from it, as fastText's ``quantize``
  drops them (they become out of vocabulary; their n-grams still count). The ``K`` stored
  n-gram buckets go through the pruned index, in danlu's (sorted) order::

      pruneidx_size = K, pairs (ngram_buckets[j], j) for j < K      (K = 0: no n-grams)
      quant_input = 1, input = codes of rows 0 .. nwords + K - 1 (words, then the buckets)

  A quantized matrix is its codes, its product quantizer (``nsubq = ceil(dim / dsub)``
  sub-vectors, the last ``lastdsub = dim - (nsubq - 1) dsub`` wide) and, with ``-qnorm``,
  the norm codes and their one-dimensional quantizer. The output is quantized with
  ``-qout`` (``qout = 1``), else dense float32.

  In fastText a bucket outside the pruned index is no row at all, not even in a line's
  count. That is the rule of every pruned ``.ftz`` and the one the reader restores
  (``args["absent_buckets"] = "skip"``); a model quantized for an ``.ftz`` follows it from
  its pruning on (:func:`quantize.quantize_model`), so danlu before writing, danlu after
  reading back and the official package predict alike. A model that counted absent
  buckets as zero rows (``danlu quantize -saveFormat safetensors``) is written all the
  same, and predicts by fastText's rule from its file.

:func:`write_fasttext` (``FastText.save_model``) picks the layout the way fastText's
``saveModel`` does, by what the model is rather than by the file's suffix.

Example:
    >>> write_bin(model_trained_by_danlu, "model.bin")  # doctest: +SKIP
    >>> small = quantize_model(model, QuantizeOptions(save_format="ftz"))  # doctest: +SKIP
    >>> write_ftz(small, "model.ftz")  # doctest: +SKIP
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import IO, Any

import numpy as np

from danlu.errors import UsageError
from danlu.io import atomic_write
from danlu.tasks.text_classification.dictionary import Dictionary
from danlu.tasks.text_classification.fasttext_bin import (
    ARGS,
    ENTRY,
    LOSS_CODES,
    MAGIC,
    MODEL_CODES,
    VERSION,
    pq_split,
)
from danlu.tasks.text_classification.model import FastTextModel
from danlu.tasks.text_classification.product_quantizer import ProductQuantizer, QuantizedRows

__all__ = ["write_bin", "write_fasttext", "write_ftz"]

_WRITE_ROWS = 65536  # bucket rows built and written at a time


def write_bin(model: FastTextModel, path: str | Path) -> Path:
    """Write ``model`` as an official fastText ``.bin`` (dense, version 12): a classifier,
    or word vectors (``args["model"]`` cbow or skipgram).

    The official package loads it and predicts the same labels with the same
    probabilities (up to its ``+ 1e-5``, see :mod:`fasttext_bin`); it reads labels with
    its default prefix ``__label__`` whatever ``-label`` the model was trained with.

    Raises:
        UsageError: the model is not one fastText can hold (a network, ``-loss zlpr``,
            a tokenizer other than whitespace, a pruned model that skips absent buckets).
    """
    why = _unwritable(model)
    if not why and (model.args.get("absent_buckets") == "skip" and model.dictionary.uses_buckets
                    and len(model.ngram_buckets) < model.dictionary.bucket):  # fmt: skip
        why = ("it is pruned (a .ftz read by danlu) and fastText accepts a pruned model only "
               "quantized; save it as .safetensors, or as .ftz")  # fmt: skip
    if why:
        raise UsageError(f"cannot write {path} as a fastText .bin: {why}")
    d = model.dictionary
    bucket = d.bucket if d.uses_buckets else 0  # as fastText: no n-grams, no bucket rows
    head = _header(model, bucket, None) + b"\0"  # quant_input
    output = _dense_output(model)
    n_in = d.nwords + bucket
    size = len(head) + 16 + 4 * n_in * model.dim + 1 + 16 + output.nbytes

    def write(fh: IO[bytes]) -> None:
        fh.write(head + struct.pack("<2q", n_in, model.dim))
        fh.write(np.ascontiguousarray(model.input[: d.nwords], "<f4"))  # no copy if float32
        _write_bucket_rows(fh, model, bucket)
        fh.write(b"\0" + struct.pack("<2q", *output.shape))  # qout, then the output rows
        fh.write(np.ascontiguousarray(output, "<f4"))

    return atomic_write(path, write, size)


def write_ftz(model: FastTextModel, path: str | Path) -> Path:
    """Write a product-quantized classifier as an official fastText ``.ftz`` (version 12,
    pruned dictionary; see the module docstring for the mapping).

    The official package loads it and predicts what :func:`fasttext_bin.read_bin` of the
    file predicts (the labels; the probabilities up to fastText's ``+ 1e-5``).

    Raises:
        UsageError: what :func:`write_bin` refuses, word vectors (fastText quantizes
            classifiers only), or input rows that are not product-quantized (dense or int8:
            ``danlu quantize -saveFormat ftz`` makes them).
    """
    why = _unwritable(model)
    if not why and model.args.get("model", "fasttext") != "fasttext":
        why = f"fastText quantizes classifiers only, this is a {model.args['model']} model"
    if not why and "input_codes" not in model.packed:
        rows = "int8 rows" if "input_q" in model.packed else "dense float32 rows"
        why = (f"its input holds {rows}, a .ftz product-quantized codes: quantize it with "
               "-qtype pq (danlu quantize -saveFormat ftz, or FastText.quantize)")  # fmt: skip
    if why:
        raise UsageError(f"cannot write {path} as a fastText .ftz: {why}")
    d, dsub = model.dictionary, int(model.args.get("dsub", 2))
    k = len(model.ngram_buckets) if d.uses_buckets else 0
    pairs = np.stack([model.ngram_buckets[:k], np.arange(k)], axis=1)
    rows = QuantizedRows.from_arrays(model.packed, "input", dsub)
    if len(rows.codes) != d.nwords + k:
        raise UsageError(f"cannot write {path} as a fastText .ftz: {len(rows.codes)} quantized "
                         f"input rows for {d.nwords} words and {k} n-gram buckets")  # fmt: skip
    parts = [_header(model, d.bucket if d.uses_buckets else 0, pairs), b"\1", _quantized(rows)]
    if "output_codes" in model.packed:  # -qout
        out = QuantizedRows.from_arrays(model.packed, "output", dsub)
        if model.loss == "hs":  # fastText's hs output has a row per label, the last unused
            out = _with_unused_row(out)
        parts += [b"\1", _quantized(out)]
    else:
        output = _dense_output(model)
        parts += [b"\0", struct.pack("<2q", *output.shape), output.tobytes()]
    data = b"".join(parts)
    return atomic_write(path, lambda fh: fh.write(data), len(data))


def write_fasttext(model: Any, path: str | Path) -> Path:
    """``model`` in fastText's file, laid out as fastText's ``saveModel`` would: product-
    quantized input rows as an ``.ftz`` (:func:`write_ftz`), other rows dense
    (:func:`write_bin`), whatever the suffix. int8 rows are danlu's own: they are written
    decoded to a ``.bin`` and refused for a path ending in ``.ftz``."""
    packed = getattr(model, "packed", {})
    if "input_codes" in packed or (str(path).endswith(".ftz") and "input_q" in packed):
        return write_ftz(model, path)  # int8 rows: refused, saying why
    return write_bin(model, path)


# ---------------------------------------------------------------------------- parts
def _unwritable(model: Any) -> str:
    """Why fastText's file cannot hold ``model`` ('' when it can)."""
    if not isinstance(model, FastTextModel):
        return "it is a network (-model textcnn ...), not the fastText model"
    if model.loss not in LOSS_CODES:
        return f"fastText has no -loss {model.loss} (it has {', '.join(LOSS_CODES)})"
    if model.tokenizer != "whitespace":
        return (f"it splits text with -tokenizer {model.tokenizer}, fastText on whitespace; "
                "train on pre-split text with -tokenizer whitespace")  # fmt: skip
    if any("\0" in w for w in [*model.dictionary.words, *model.dictionary.labels]):
        return "a word or label holds a NUL character, which ends one in fastText's file"
    return ""


def _header(model: FastTextModel, bucket: int, pairs: np.ndarray | None) -> bytes:
    """Magic, version, args and the dictionary (``pairs`` (K, 2): the pruned index, bucket
    then row; None: not pruned)."""
    d: Dictionary = model.dictionary
    a = model.args
    args = ARGS.pack(model.dim, a.get("ws", 5), a.get("epoch", 5), a.get("min_count", 1),
                     a.get("neg", 5), d.word_ngrams, LOSS_CODES[model.loss],
                     MODEL_CODES[a.get("model", "fasttext")], bucket,
                     d.minn, d.maxn, a.get("lr_update_rate", 100), a.get("t", 1e-4))  # fmt: skip
    ntokens = a.get("ntokens", sum(d.word_counts) + sum(d.label_counts))
    entries = [w.encode("utf-8") + b"\0" + ENTRY.pack(c, 0)
               for w, c in zip(d.words, d.word_counts, strict=True)]  # fmt: skip
    entries += [w.encode("utf-8") + b"\0" + ENTRY.pack(c, 1)
                for w, c in zip(d.labels, d.label_counts, strict=True)]  # fmt: skip
    prune_size = -1 if pairs is None else len(pairs)
    index = b"" if pairs is None else pairs.astype("<i4").tobytes()
    return b"".join([
        struct.pack("<2i", MAGIC, VERSION), args,
        struct.pack("<3i2q", len(entries), d.nwords, len(d.labels), ntokens, prune_size),
        *entries, index,
    ])  # fmt: skip


def _dense_output(model: FastTextModel) -> np.ndarray:
    """The output rows as fastText stores them: with hs a row per label, the last unused."""
    output = model.output.astype("<f4")
    if model.loss == "hs":
        output = np.concatenate([output, np.zeros((1, model.dim), "<f4")])
    return output


def _quantized(q: QuantizedRows) -> bytes:
    """``qnorm``, ``m, n``, ``codesize``, the codes, the quantizer; with qnorm the norm codes
    and their quantizer."""
    m, nsubq = q.codes.shape
    parts = [struct.pack("<?2qi", q.norms is not None, m, q.pq.dim, m * nsubq),
             np.ascontiguousarray(q.codes, np.uint8).tobytes(), _pq(q.pq)]  # fmt: skip
    if q.norms is not None:
        npq, norm_codes = q.norms
        parts += [np.ascontiguousarray(norm_codes, np.uint8).tobytes(), _pq(npq)]
    return b"".join(parts)


def _pq(pq: ProductQuantizer) -> bytes:
    """``dim, nsubq, dsub, lastdsub`` and the centroids, sub-quantizer ``s``'s 256 (each
    its sub-vector's width) contiguous from ``s * 256 * dsub``."""
    nsubq, lastdsub = pq_split(pq.dim, pq.dsub)
    flat = np.concatenate([pq.centroids[:, cols].ravel() for cols in pq.spaces])
    return struct.pack("<4i", pq.dim, nsubq, pq.dsub, lastdsub) + flat.astype("<f4").tobytes()


def _with_unused_row(q: QuantizedRows) -> QuantizedRows:
    """``q`` and one more row, the codes of a zero row (fastText's unused last hs row)."""
    zero = np.zeros((1, q.pq.dim), np.float32)
    norms = None
    if q.norms is not None:
        npq, codes = q.norms
        norms = (npq, np.concatenate([codes, npq.encode(zero[:, :1])]))
    return QuantizedRows(q.pq, np.concatenate([q.codes, q.pq.encode(zero)]), norms)


def _write_bucket_rows(fh: IO[bytes], model: FastTextModel, bucket: int) -> None:
    """Rows ``nwords .. nwords + bucket``: the stored buckets' rows, zeros for the others."""
    nwords, dim = model.dictionary.nwords, model.dim
    stored = model.ngram_buckets
    for start in range(0, bucket, _WRITE_ROWS):
        stop = min(start + _WRITE_ROWS, bucket)
        block = np.zeros((stop - start, dim), "<f4")
        lo, hi = np.searchsorted(stored, [start, stop])
        block[stored[lo:hi] - start] = model.input[nwords + lo : nwords + hi]
        fh.write(block)
