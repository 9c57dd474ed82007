"""fastText's own model files (``.bin``, ``.ftz``): read one as a FastTextModel, write one.

The file, little-endian, as the official ``FastText::saveModel`` writes it (version 12)::

    int32 magic 793712314, int32 version (11 or 12)
    args        int32 dim ws epoch minCount neg wordNgrams loss model bucket minn maxn
                lrUpdateRate, float64 t        (loss: hs=1 ns=2 softmax=3 ova=4;
                                                model: cbow=1 sg=2 sup=3)
    dictionary  int32 size nwords nlabels, int64 ntokens, int64 pruneidx_size (-1: not
                pruned), size entries (UTF-8 word, NUL, int64 count, int8 type: 0 word,
                1 label; words first), pruneidx_size pairs int32 (bucket, row - nwords)
    bool quant_input, then the input matrix (m = nwords + bucket, or nwords + pruneidx_size)
    bool qout, then the output matrix (m = nlabels; cbow, skipgram: nwords), quantized only
                if quant_input and qout

A dense matrix is ``int64 m, n`` and ``m * n`` float32, row-major. A quantized one is
``bool qnorm, int64 m, n, int32 codesize`` and ``codesize`` uint8 codes (row ``i``'s
sub-vector ``s`` at ``i * nsubq + s``), then its product quantizer (``int32 dim, nsubq,
dsub, lastdsub`` and ``256 * dim`` float32 centroids, sub-quantizer ``s``'s 256 centroids
contiguous from ``s * 256 * dsub``); with qnorm, ``m`` uint8 norm codes and a second,
one-dimensional product quantizer. A row is its decoded sub-vectors times its decoded norm.

Mapping onto :class:`FastTextModel`:

- an unpruned input keeps every bucket row (``ngram_buckets = arange(bucket)``); a pruned
  one (``quantize -cutoff``) keeps its ``pruneidx`` buckets, sorted, with their rows. In
  fastText a pruned bucket gives no row at all, so it is left out of a line's mean too;
  ``args["absent_buckets"] = "skip"`` asks the model for that (danlu's own pruning counts
  an absent bucket as a zero row instead, unless it prunes for an ``.ftz``).
- a quantized matrix is decoded to float32 on load, the way fastText adds up its codes, so
  predictions equal the official ones up to float rounding (about 1e-7). The codes are
  also kept (``packed``, :mod:`packing`) where danlu's packed form holds them exactly (one
  ``dsub`` for both matrices), so saving the model as safetensors keeps it small.
- with ``-loss hs`` fastText's output has one row per label, the last unused; danlu keeps
  the ``C - 1`` rows of the tree's inner nodes.
- the label prefix is not in the file: fastText's default ``__label__`` is recorded.

fastText reports ``p + 1e-5`` (it ranks ``log(p + 1e-5)`` and returns its exp); danlu
reports ``p``. A word-vector model (cbow, skipgram: no labels, an output row per word) reads
as a FastTextModel whose ``args["model"]`` says which. Writing these files:
:mod:`fasttext_bin_write`, with the constants and layout of this module.

Example:
    >>> model = read_bin("cooking.ftz")  # doctest: +SKIP
    >>> model.predict_tokens([["which", "baking", "dish"]], k=2)  # doctest: +SKIP
"""

from __future__ import annotations

import mmap
import struct
from pathlib import Path
from typing import Any

import numpy as np

from danlu.errors import UsageError
from danlu.tasks.text_classification.bin_cursor import Cursor
from danlu.tasks.text_classification.dictionary import Dictionary
from danlu.tasks.text_classification.model import FastTextModel
from danlu.tasks.text_classification.product_quantizer import KSUB, ProductQuantizer, QuantizedRows

__all__ = ["ARGS", "ENTRY", "LOSS_CODES", "MAGIC", "MODEL_CODES", "VERSION", "is_fasttext_file",
           "pq_split", "read_bin"]  # fmt: skip

MAGIC = 793712314
VERSION = 12  # what fastText writes; 11 differs only in ignoring maxn of supervised models
LOSS_CODES = {"hs": 1, "ns": 2, "softmax": 3, "ova": 4}  # fastText's enum loss_name
MODEL_CODES = {"cbow": 1, "skipgram": 2, "fasttext": 3}  # fastText's enum model_name (sup=3)
ARGS = struct.Struct("<12id")
_ARG_NAMES = ("dim", "ws", "epoch", "min_count", "neg", "word_ngrams", "loss", "model",
              "bucket", "minn", "maxn", "lr_update_rate", "t")  # fmt: skip
ENTRY = struct.Struct("<qb")  # an entry's count and type, after its word's NUL


def is_fasttext_file(path: str | Path) -> bool:
    """Whether ``path`` starts with fastText's magic number."""
    with open(path, "rb") as fh:
        return fh.read(4) == struct.pack("<i", MAGIC)


# ---------------------------------------------------------------------------- reading
def read_bin(path: str | Path) -> FastTextModel:
    """The model in an official fastText ``.bin`` or ``.ftz`` file: a classifier, or word
    vectors (cbow, skipgram).

    Raises:
        UsageError: a missing, truncated or foreign file, another version, or sizes that
            disagree (the message names the byte).
    """
    p = Path(path)
    if not p.is_file():
        raise UsageError(f"model file {str(path)!r} does not exist")
    # the header and dictionary are parsed from a read-only map of the file, the matrices
    # read from the file straight into their arrays (reading the whole file into a zeroed
    # buffer first, then copying, took twice as long for an 824 MB .bin)
    with open(p, "rb", buffering=0) as fh:
        if p.stat().st_size == 0:
            return _read(Cursor(b"", str(path)))
        with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
            return _read(Cursor(data, str(path), fh))


def _read(r: Cursor) -> FastTextModel:
    """:func:`read_bin` from a cursor at the start of the file's bytes."""
    data = r.data
    (magic,) = r.take("<i", f"fastText's magic number {MAGIC} (a .bin or .ftz file)")
    if magic != MAGIC:
        raise r.error(f"fastText's magic number {MAGIC} (a .bin or .ftz file)", str(magic), 0)
    (version,) = r.take("<i", "the fastText version")
    if version not in (11, 12):
        raise r.error("fastText version 11 or 12", str(version), 4)
    args = _read_args(r, version)
    dictionary, pruned, ntokens = _read_dictionary(r, args)
    args["ntokens"] = ntokens
    nwords, dim = dictionary.nwords, args["dim"]
    n_grams = args["bucket"] if pruned is None else len(pruned)
    quant_input = r.flag("quant_input")
    input_, in_rows = _read_matrix(r, quant_input, nwords + n_grams, dim, "the input matrix")
    qout = r.flag("qout")
    n_out = len(dictionary.labels) if args["model"] == "fasttext" else nwords
    output, out_rows = _read_matrix(r, quant_input and qout, n_out, dim, "the output matrix")
    if r.pos != len(data):
        raise r.error("the end of the file after the output matrix",
                      f"{len(data) - r.pos} more bytes")  # fmt: skip
    buckets = np.arange(n_grams, dtype=np.int64)
    if args["bucket"] == 0:  # no n-grams; danlu's configs (-retrain) want a bucket >= 1
        args["bucket"] = dictionary.bucket = 2_000_000
    if pruned is not None:  # rows in bucket order, as FastTextModel keeps them
        order = np.argsort(pruned[:, 0], kind="stable")
        buckets = pruned[order, 0].astype(np.int64)
        rows = np.concatenate([np.arange(nwords), nwords + pruned[order, 1]])
        input_ = input_[rows]
        if in_rows is not None:
            in_rows = _take_rows(in_rows, rows)
        args["absent_buckets"] = "skip"
    if args["loss"] == "hs":  # the last row belongs to no inner node of the tree
        output = output[:-1]
        out_rows = None if out_rows is None else _take_rows(out_rows, np.arange(n_out - 1))
    packed = _packed(in_rows, out_rows, args)
    return FastTextModel(dictionary, np.ascontiguousarray(input_), buckets,
                         np.ascontiguousarray(output), args["loss"], args,
                         packed=packed)  # fmt: skip


def _read_args(r: Cursor, version: int) -> dict[str, Any]:
    at = r.pos
    args = dict(zip(_ARG_NAMES, r.take(ARGS, "the training arguments (13 numbers)"), strict=True))
    losses = {code: name for name, code in LOSS_CODES.items()}
    models = {code: name for name, code in MODEL_CODES.items()}
    if args["model"] not in models:
        raise r.error("a model code 1-3 (cbow, skipgram, supervised)", str(args["model"]),
                      at + 28)  # fmt: skip
    if args["loss"] not in losses:
        raise r.error("a loss code 1-4 (hs, ns, softmax, ova)", str(args["loss"]), at + 24)
    if args["dim"] < 1 or args["bucket"] < 0:
        raise r.error("dim >= 1 and bucket >= 0", f"dim {args['dim']}, bucket {args['bucket']}",
                      at)  # fmt: skip
    if version == 11 and args["model"] == MODEL_CODES["fasttext"]:  # maxn was unused there
        args["maxn"] = 0
    if (args["word_ngrams"] > 1 or args["maxn"] > 0) and args["bucket"] < 1:
        raise r.error("bucket >= 1 with word or char n-grams", "bucket 0", at + 32)
    # what the file does not hold: the label prefix is fastText's default, the data unknown
    args.update(loss=losses[args["loss"]], model=models[args["model"]], label="__label__",
                tokenizer="whitespace", input="", output="", fasttext_version=version)  # fmt: skip
    return args


def _read_dictionary(r: Cursor, args: dict[str, Any]) -> tuple[Dictionary, np.ndarray | None, int]:
    """(dictionary, pruneidx pairs (K, 2) int32 or None when not pruned, ntokens)."""
    at = r.pos
    size, nwords, nlabels = r.take("<3i", "the dictionary sizes")
    need = int(args["model"] == "fasttext")  # a classifier needs a label
    if min(nwords, nlabels) < 0 or size != nwords + nlabels or nlabels < need:
        raise r.error("dictionary sizes with size = nwords + nlabels" + " and a label" * need,
                      f"size {size}, nwords {nwords}, nlabels {nlabels}", at)  # fmt: skip
    ntokens, prune_size = r.take("<2q", "ntokens and the pruned index size")
    if prune_size < -1:
        raise r.error("a pruned index size >= -1", str(prune_size), r.pos - 8)
    words: list[str] = []
    counts: list[int] = []
    data, unpack = r.data, ENTRY.unpack_from
    for i in range(size):
        end = data.find(b"\0", r.pos)
        if end < 0:
            raise r.error(f"dictionary entry {i} of {size} (a NUL-terminated word)",
                          "no NUL before the end of the file (truncated?)")  # fmt: skip
        word = data[r.pos : end].decode("utf-8", "replace")
        r.pos = end + 1
        r.need(ENTRY.size, f"the count and type of dictionary entry {i}")
        count, kind = unpack(data, r.pos)
        r.pos += ENTRY.size
        if kind != (i >= nwords):
            want = "0 (a word)" if i < nwords else "1 (a label)"
            raise r.error(f"type {want} for entry {i} ({nwords} words, then labels)",
                          str(kind), r.pos - 1)  # fmt: skip
        words.append(word)
        counts.append(count)
    pruned = None
    if prune_size >= 0:
        at = r.pos
        pruned = r.array("<i4", (prune_size, 2), f"{prune_size} pruned-index pairs")
        if not _is_pruned_index(pruned, args["bucket"]):
            raise r.error(f"pruned-index pairs (bucket < {args['bucket']}, row) with each "
                          f"row 0..{prune_size - 1} once", "other pairs", at)  # fmt: skip
    dictionary = Dictionary(
        words[:nwords], counts[:nwords], words[nwords:], counts[nwords:],
        args["word_ngrams"], args["bucket"], args["minn"], args["maxn"],
    )  # fmt: skip
    return dictionary, pruned, int(ntokens)


def _is_pruned_index(pairs: np.ndarray, bucket: int) -> bool:
    """Whether (bucket, row) pairs (K, 2) map K distinct buckets onto rows 0..K-1."""
    buckets, rows = pairs[:, 0], pairs[:, 1]
    return not len(pairs) or bool(
        buckets.min() >= 0 and buckets.max() < bucket and np.unique(buckets).size == len(pairs)
        and np.array_equal(np.sort(rows), np.arange(len(pairs)))
    )  # fmt: skip


def _read_matrix(
    r: Cursor, quantized: bool, rows: int, dim: int, what: str
) -> tuple[np.ndarray, QuantizedRows | None]:
    """(float32 (rows, dim), its codes when quantized) of the next matrix."""
    qnorm = r.flag(f"{what}'s qnorm") if quantized else False
    at = r.pos
    m, n = r.take("<2q", f"{what}'s shape (two int64)")
    if (m, n) != (rows, dim):
        raise r.error(f"{what} of {rows} x {dim}", f"{m} x {n}", at)
    if not quantized:
        return r.array("<f4", (m, n), f"{what}'s {m} x {n} float32"), None
    at = r.pos
    (codesize,) = r.take("<i", f"{what}'s code size")
    codes = r.array("u1", (max(codesize, 0),), f"{what}'s codes")
    pq = _read_pq(r, dim, f"{what}'s product quantizer")
    if codesize != m * len(pq.spaces):
        raise r.error(f"{m * len(pq.spaces)} codes ({m} rows x {len(pq.spaces)})",
                      str(codesize), at)  # fmt: skip
    norms = None
    if qnorm:
        norm_codes = r.array("u1", (m, 1), f"{what}'s norm codes")
        norms = (_read_pq(r, 1, f"{what}'s norm quantizer"), norm_codes)
    q = QuantizedRows(pq, codes.reshape(m, -1), norms)
    return q.decode(), q


def _read_pq(r: Cursor, dim: int, what: str) -> ProductQuantizer:
    at = r.pos
    d, nsubq, dsub, lastdsub = r.take("<4i", f"{what} (dim, nsubq, dsub, lastdsub)")
    if d != dim or dsub < 1 or (nsubq, lastdsub) != pq_split(dim, dsub):
        raise r.error(f"{what} of dim {dim} with nsubq, lastdsub that fit its dsub",
                      f"dim {d}, nsubq {nsubq}, dsub {dsub}, lastdsub {lastdsub}", at)  # fmt: skip
    flat = r.array("<f4", (KSUB * dim,), f"{what}'s centroids")
    pq = ProductQuantizer(np.empty((KSUB, dim), np.float32), dsub)
    for s, cols in enumerate(pq.spaces):  # sub-quantizer s: 256 centroids of its width
        width = cols.stop - cols.start
        start = s * KSUB * dsub
        pq.centroids[:, cols] = flat[start : start + KSUB * width].reshape(KSUB, width)
    return pq


def pq_split(dim: int, dsub: int) -> tuple[int, int]:
    """fastText's (nsubq, lastdsub): ceil(dim / dsub) sub-vectors, the last maybe shorter."""
    nsubq, last = divmod(dim, dsub)
    return (nsubq, dsub) if last == 0 else (nsubq + 1, last)


def _take_rows(q: QuantizedRows, rows: np.ndarray) -> QuantizedRows:
    norms = None if q.norms is None else (q.norms[0], q.norms[1][rows])
    return QuantizedRows(q.pq, q.codes[rows], norms)


def _packed(
    in_rows: QuantizedRows | None, out_rows: QuantizedRows | None, args: dict[str, Any]
) -> dict[str, np.ndarray]:
    """The codes as :mod:`packing` stores them, where its one ``dsub`` holds them exactly."""
    quantized = {"input": in_rows, "output": out_rows}
    kept = {name: q for name, q in quantized.items() if q is not None}
    if not kept or len({q.pq.dsub for q in kept.values()}) > 1:
        kept = {"input": in_rows} if in_rows is not None else {}
    packed: dict[str, np.ndarray] = {}
    for name, q in kept.items():
        packed.update(q.arrays(name))
        args.update(quantized="pq", dsub=q.pq.dsub)
    if in_rows is not None:
        args.update(qnorm=in_rows.norms is not None, qout=out_rows is not None)
    return packed
