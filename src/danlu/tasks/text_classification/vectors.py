"""fastText's word vectors, subwords, rows and nearest neighbours of a FastTextModel (numpy).

Rows are numbered as in fastText's input matrix: ``0 .. nwords-1`` words, ``nwords + b``
bucket ``b`` of a hashed n-gram. fastText's ``getId`` also gives a label an id,
``nwords + label index``, and uses it as a row (so a label's "word vector" reads a bucket
row); danlu keeps that quirk so that every id and vector is the official one. A bucket that
danlu does not store (it never occurred in training) is a zero row. In a pruned model read
from an official ``.ftz`` (``args["absent_buckets"] == "skip"``) a pruned bucket is no row
at all, as in fastText, and the kept buckets are rows ``nwords + j`` in the order danlu keeps
them (by bucket), not the order of fastText's file.

::

    word vector   v(w) = (1 / |S(w)|) sum_{r in S(w)} W[r]     S(w): w's id (if any), the
                                                              rows of its char n-grams
    neighbours    cos(q, w) = (q / |q|) . (v(w) / |v(w)|)     over the vocabulary, q excluded
    analogy       q = a / (|a| + 1e-8) - b / (|b| + 1e-8) + c / (|c| + 1e-8)
    sentence      word vectors (cbow, skipgram): (1 / n) sum_{w: |v(w)| > 0} v(w) / |v(w)|,
                  n the words with |v(w)| > 0, no </s>; a classifier: the hidden vector

The analogy is fastText's ``getAnalogies(A, B, C)``: ``A - B + C``, so that
``get_analogies("berlin", "germany", "france")`` answers ``paris``.

Example:
    >>> word_vector(model, "足球").shape  # doctest: +SKIP
    (100,)
    >>> words = model.dictionary.words
    >>> nearest(word_vectors(model), words, word_vector(model, "足球"), 3,
    ...         [words.index("足球")])  # doctest: +SKIP
    [(0.93, '篮球'), (0.91, '球员'), (0.90, '比赛')]
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from danlu.io import atomic_write
from danlu.tasks.text_classification.hashing import fnv1a32_many
from danlu.tasks.text_classification.model import FastTextModel

__all__ = [
    "analogy_query",
    "entry_id",
    "format_vector",
    "input_matrix",
    "input_rows",
    "input_vectors",
    "is_word_model",
    "nearest",
    "output_matrix",
    "sentence_vector",
    "subwords",
    "vocabulary_vectors",
    "with_matrices",
    "word_vector",
    "word_vectors",
    "write_vec",
]

_CHUNK = 10_000  # words whose vectors are built at a time (their n-gram rows stay small)


def _skips(model: FastTextModel) -> bool:
    """Whether a pruned bucket is no row at all (an official pruned ``.ftz``)."""
    return model.args.get("absent_buckets") == "skip"


def input_rows(model: FastTextModel) -> int:
    """Rows of fastText's input matrix: words, then every bucket (none without n-grams)."""
    d = model.dictionary
    if _skips(model):
        return d.nwords + len(model.ngram_buckets)
    return d.nwords + (d.bucket if d.uses_buckets else 0)


def entry_id(model: FastTextModel, token: str) -> int:
    """fastText's ``getId``: a word's row, ``nwords +`` a label's index, or -1."""
    d = model.dictionary
    wid = d.word_id(token)
    if wid >= 0:
        return wid
    labels = d.label_ids([token])
    return d.nwords + labels[0] if labels else -1


def _gram_ids(model: FastTextModel, grams: Sequence[str]) -> np.ndarray:
    """Rows (G,) of char n-grams; -1 for a bucket that a pruned ``.ftz`` dropped."""
    d = model.dictionary
    buckets = (fnv1a32_many(grams) % np.uint64(d.bucket)).astype(np.int64)
    if not _skips(model):
        return d.nwords + buckets
    pos = np.searchsorted(model.ngram_buckets, buckets)  # ngram_buckets is sorted
    pos = np.minimum(pos, len(model.ngram_buckets) - 1)
    kept = len(model.ngram_buckets) > 0
    found = model.ngram_buckets[pos] == buckets if kept else np.zeros(len(grams), bool)
    return np.where(found, d.nwords + pos, -1)


def subwords(model: FastTextModel, word: str) -> tuple[list[str], np.ndarray]:
    """fastText's ``getSubwords``: ``word`` itself if it has an id, then its char n-grams
    (none for ``</s>`` or without ``-maxn``), and their rows (int64).

    A pruned ``.ftz`` drops a pruned n-gram's row and, unlike fastText (whose list of
    strings then no longer lines up with the rows), its string too.
    """
    d = model.dictionary
    wid = entry_id(model, word)
    strings, ids = ([word], [wid]) if wid >= 0 else ([], [])
    grams = d.subword_strings(word)
    if grams:
        rows = _gram_ids(model, grams)
        keep = rows >= 0
        strings += [g for g, k in zip(grams, keep, strict=True) if k]
        ids += rows[keep].tolist()
    return strings, np.array(ids, dtype=np.int64)


def input_vectors(model: FastTextModel, ids: np.ndarray | Sequence[int]) -> np.ndarray:
    """Rows (N, d) float32 of fastText's input matrix; zeros where danlu stores none."""
    ids = np.asarray(ids, dtype=np.int64)
    out = np.zeros((len(ids), model.dim), np.float32)
    valid = (ids >= 0) & (ids < input_rows(model))
    rows = ids[valid] if _skips(model) else model.compact_rows(ids[valid])
    found = rows < len(model.input)  # compact_rows: len(input) for an absent bucket
    out[np.flatnonzero(valid)[found]] = model.input[rows[found]]
    return out


def word_vector(model: FastTextModel, word: str) -> np.ndarray:
    """fastText's ``getWordVector`` (d,) float32: the mean of the rows of
    :func:`subwords`; zeros when there are none (an out-of-vocabulary word without
    n-grams)."""
    ids = subwords(model, word)[1]
    if not len(ids):
        return np.zeros(model.dim, np.float32)
    # as fastText: float32 sums in row order, times the float32 of 1 / n
    return np.add.reduce(input_vectors(model, ids), axis=0) * np.float32(1.0 / len(ids))


def word_vectors(model: FastTextModel) -> np.ndarray:
    """The vocabulary's word vectors (nwords, d) float32, each scaled to norm 1 (zero
    vectors stay zero): fastText's ``precomputeWordVectors``."""
    out = vocabulary_vectors(model)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return np.divide(out, norms, out=np.zeros_like(out), where=norms > 0)


def vocabulary_vectors(model: FastTextModel) -> np.ndarray:
    """:func:`word_vector` of every vocabulary word (nwords, d) float32, at once."""
    d = model.dictionary
    out = np.zeros((d.nwords, model.dim), np.float32)
    for start in range(0, d.nwords, _CHUNK):
        words = d.words[start : start + _CHUNK]
        grams = [d.subword_strings(w) for w in words]
        sizes = np.array([len(g) for g in grams], np.int64)
        gram_rows = _gram_ids(model, [g for gs in grams for g in gs])
        # rows of word i: its id, then its n-grams (pruned ones are -1: left out)
        ids = np.concatenate([np.arange(start, start + len(words)), gram_rows])
        owner = np.concatenate([np.arange(len(words)), np.repeat(np.arange(len(words)), sizes)])
        keep = ids >= 0
        ids, owner = ids[keep], owner[keep]
        order = np.argsort(owner, kind="stable")  # each word's rows together, its id first
        counts = np.bincount(owner, minlength=len(words))  # >= 1: every word has its id
        starts = np.cumsum(counts) - counts
        rows, who = input_vectors(model, ids[order]), owner[order]
        place = np.arange(len(who)) - np.repeat(starts, counts)  # 0: the word's own row
        sums = np.zeros((len(words), model.dim), np.float32)
        for j in range(int(counts.max(initial=0))):  # float32 sums in row order, as fastText
            at = place == j
            sums[who[at]] += rows[at]
        out[start : start + len(words)] = sums * (1.0 / counts[:, None]).astype(np.float32)
    return out


def nearest(
    vectors: np.ndarray, words: Sequence[str], query: np.ndarray, k: int, banned: Iterable[int]
) -> list[tuple[float, str]]:
    """fastText's ``getNN``: the ``k`` words of highest cosine with ``query``.

    Args:
        vectors: (V, d) unit word vectors (:func:`word_vectors`).
        words: the V words.
        query: (d,) the query vector (any norm; below 1e-8 it is used as is).
        k: how many (fewer when the vocabulary is smaller; none when k <= 0).
        banned: rows of the words left out (the query words in the vocabulary).

    Returns:
        ``[(cosine, word), ...]``, highest first; equal scores keep vocabulary order
        (fastText's heap may order them otherwise).
    """
    norm = float(np.linalg.norm(query))
    scores = vectors @ (query / (norm if abs(norm) >= 1e-8 else 1.0)).astype(np.float32)
    allowed = np.ones(len(words), bool)
    allowed[[i for i in banned if 0 <= i < len(words)]] = False
    candidates = np.flatnonzero(allowed)
    order = candidates[np.argsort(-scores[candidates], kind="stable")[: max(k, 0)]]
    return [(float(scores[i]), words[i]) for i in order]


def is_word_model(model: FastTextModel) -> bool:
    """Whether ``model`` holds word vectors (cbow, skipgram), not a classifier."""
    return model.args.get("model") in ("cbow", "skipgram")


def sentence_vector(model: FastTextModel, tokens: Sequence[str]) -> np.ndarray:
    """fastText's ``getSentenceVector`` (d,) float32 of one line's tokens.

    Word vectors: the mean of the tokens' word vectors each scaled to norm 1 (tokens with a
    zero vector left out; zeros when none is left), no ``</s>``. A classifier: the hidden
    vector, the mean of the line's input rows, ``</s>`` included.
    """
    if not is_word_model(model):
        return np.asarray(model.hidden([list(tokens)])[0], np.float32)
    total = np.zeros(model.dim, np.float64)
    count = 0
    for token in tokens:
        v = word_vector(model, token).astype(np.float64)
        norm = float(np.linalg.norm(v))
        if norm > 0:
            total += v / norm
            count += 1
    return (total / max(count, 1)).astype(np.float32)


def format_vector(values: np.ndarray, digits: int = 5) -> str:
    """fastText's ``operator<<`` of a vector: each value with ``digits`` significant digits
    (C's ``%g``), each followed by one space (so the line ends in a space).

    Example:
        >>> format_vector(np.array([0.123456, -1e-05, 2.0], np.float32))
        '0.12346 -1e-05 2 '
    """
    return (f"%.{digits}g " * len(values)) % tuple(values.tolist())


def write_vec(model: FastTextModel, path: str | Path) -> Path:
    """fastText's ``saveVectors``: ``nwords dim``, then ``word v1 ... vd `` per word in
    vocabulary order (:func:`word_vector`, :func:`format_vector`)."""
    d = model.dictionary
    rows = vocabulary_vectors(model)
    line = "%s " + "%.5g " * model.dim + "\n"  # format_vector's, with the word in front
    lines = [f"{d.nwords} {model.dim}\n"]
    lines += [line % (w, *v) for w, v in zip(d.words, rows.tolist(), strict=True)]
    data = "".join(lines).encode("utf-8")
    return atomic_write(path, lambda fh: fh.write(data), len(data))


def analogy_query(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """fastText's analogy query ``a - b + c`` of vectors scaled to about norm 1."""

    def unit(v: np.ndarray) -> np.ndarray:
        return v / (np.linalg.norm(v) + 1e-8)

    return (unit(a) - unit(b) + unit(c)).astype(np.float32)


def input_matrix(model: FastTextModel) -> np.ndarray:
    """fastText's dense input matrix (:func:`input_rows`, d) float32: the rows danlu does
    not store are zeros.

    Raises:
        ValueError: the model is quantized (as fastText: "Can't get quantized Matrix").
    """
    _dense(model)
    if _skips(model):
        return model.input.copy()
    d = model.dictionary
    full = np.zeros((input_rows(model), model.dim), np.float32)
    full[: d.nwords] = model.input[: d.nwords]
    if d.uses_buckets:
        full[d.nwords + model.ngram_buckets] = model.input[d.nwords :]
    return full


def output_matrix(model: FastTextModel) -> np.ndarray:
    """fastText's output matrix (nlabels, d) float32: with ``-loss hs`` a row per inner
    node of the tree, then an unused zero row, as fastText keeps it.

    Raises:
        ValueError: the model is quantized.
    """
    _dense(model)
    out = model.output.astype(np.float32)
    if model.loss == "hs":
        out = np.concatenate([out, np.zeros((1, model.dim), np.float32)])
    return out


def with_matrices(
    model: FastTextModel, input_matrix: np.ndarray, output_matrix: np.ndarray
) -> FastTextModel:
    """``model`` with dense weights laid out as :func:`input_matrix` and
    :func:`output_matrix` give them (fastText's ``setMatrices``); not quantized any more.

    Raises:
        ValueError: the shapes are not those layouts (any width, the same for both).
    """
    inp = np.ascontiguousarray(input_matrix, dtype=np.float32)
    out = np.ascontiguousarray(output_matrix, dtype=np.float32)
    rows, n_out = input_rows(model), len(model.labels)
    if inp.ndim != 2 or len(inp) != rows or out.shape != (n_out, inp.shape[1]):
        raise ValueError(
            f"set_matrices needs an input of {rows} rows and an output of {n_out} rows of "
            f"its width; got {inp.shape}, {out.shape}"
        )
    buckets = model.ngram_buckets if _skips(model) else np.arange(rows - model.dictionary.nwords)
    args = {k: v for k, v in model.args.items() if k not in ("quantized", "qnorm", "qout")}
    return dataclasses.replace(
        model, input=inp, output=out[:-1] if model.loss == "hs" else out, args=args,
        ngram_buckets=buckets, packed={}, _bucket_rows=None, _projected=None, _scored=0,
    )  # fmt: skip


def _dense(model: FastTextModel) -> None:
    if model.args.get("quantized"):
        raise ValueError("Can't get quantized Matrix (the model is quantized: its rows are "
                         "codes; get_input_vector and get_word_vector decode them)")  # fmt: skip
