"""fastText's dictionary: words, labels, and the input rows of a line.

Rows of the input matrix, as in fastText:

- ``0 .. nwords-1``: words seen at least ``minCount`` times (``</s>``, the end-of-line
  token, included), most frequent first;
- ``nwords + b`` for bucket ``b`` of a hashed word n-gram (``-wordNgrams``) or character
  n-gram (``-minn/-maxn``, the word wrapped in ``<`` and ``>``), see :mod:`.hashing`.

A line's input rows are its in-vocabulary words (or, with character n-grams, each word's
id and its n-grams; an out-of-vocabulary word gives its n-grams only), then its word
n-grams; the hidden vector is the mean of those rows.

Example:
    >>> d = Dictionary.build([["a", "b"], ["a"]], [["__label__x"], ["__label__y"]])
    >>> d.words, d.labels
    (['a', '</s>', 'b'], ['__label__x', '__label__y'])
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from itertools import chain, repeat
from typing import Any, Protocol

import numpy as np

from danlu.errors import UsageError
from danlu.tasks.text_classification.hashing import (
    char_ngram_buckets_many,
    fnv1a32,
    fnv1a32_many,
    word_ngram_buckets,
)

__all__ = ["EOS", "Dictionary", "Tokens", "char_ngram_buckets", "char_ngrams"]

EOS = "</s>"


def char_ngrams(word: str, minn: int, maxn: int) -> list[str]:
    """fastText's ``computeSubwords``: the char n-grams of ``<word>``, in its order.

    n-grams of ``minn..maxn`` characters (Unicode code points) by start, then length; the
    one-character n-grams ``<`` and ``>`` are left out.
    """
    chars = "<" + word + ">"
    out = []
    size = len(chars)
    for i in range(size):
        for n in range(max(minn, 1), maxn + 1):
            j = i + n
            if j > size:
                break
            if not (n == 1 and (i == 0 or j == size)):
                out.append(chars[i:j])
    return out


def _ranked(counts: np.ndarray, min_count: int) -> np.ndarray:
    """fastText's order of a vocabulary: the indices of the entries counted at least
    ``min_count`` times, most frequent first, ties in their given order (first sight).
    With ``min_count <= 1`` all are kept (``</s>`` of an empty corpus too)."""
    keep = np.flatnonzero(counts >= min_count) if min_count > 1 else np.arange(len(counts))
    return keep[np.argsort(-counts[keep], kind="stable")]


def char_ngram_buckets(word: str, minn: int, maxn: int, bucket: int) -> list[int]:
    """Bucket ids (``fnv1a32 % bucket``) of :func:`char_ngrams`."""
    return [fnv1a32(g) % bucket for g in char_ngrams(word, minn, maxn)]


class Tokens(Protocol):
    """The tokens of L lines, concatenated without ``</s>``: what
    :meth:`Dictionary.encode_ids` needs to know of them beyond their rows (for n-grams)."""

    def distinct(self) -> tuple[list[str], np.ndarray]:
        """The distinct tokens (D,) and the index int64 (T,) of each token among them."""
        ...

    def hashes(self, ids: np.ndarray) -> np.ndarray:
        """fastText's hash uint64 (T,) of each token (``ids``: their rows, -1: none)."""
        ...


@dataclass
class Dictionary:
    """Vocabulary, labels and the n-gram settings that turn a line into input rows."""

    words: list[str]
    word_counts: list[int]
    labels: list[str]
    label_counts: list[int]
    word_ngrams: int = 1
    bucket: int = 2_000_000
    minn: int = 0
    maxn: int = 0

    def __post_init__(self) -> None:
        self._hashes: np.ndarray | None = None

    # built on first use: training with the compiled reader never looks a word up
    @cached_property
    def _index(self) -> dict[str, int]:
        return {w: i for i, w in enumerate(self.words)}

    @cached_property
    def _label_index(self) -> dict[str, int]:
        return {w: i for i, w in enumerate(self.labels)}

    @cached_property
    def _eos_row(self) -> int:
        try:
            return self.words.index(EOS)  # usually the first few: as frequent as lines
        except ValueError:
            return -1

    @property
    def nwords(self) -> int:
        return len(self.words)

    @property
    def uses_buckets(self) -> bool:
        return self.word_ngrams > 1 or self.maxn > 0

    @classmethod
    def build(
        cls,
        words: Sequence[Sequence[str]],
        labels: Sequence[Sequence[str]],
        min_count: int = 1,
        min_count_label: int = 0,
        require_labels: bool = True,
        **settings: Any,
    ) -> Dictionary:
        """Count words (one ``</s>`` per line) and labels; keep those frequent enough
        (``require_labels=False``: a word-vector model, labels optional)."""
        wc: Counter[str] = Counter(chain.from_iterable(words))  # in order of first sight
        lc: Counter[str] = Counter(chain.from_iterable(labels))
        return cls.from_counts(
            list(wc), list(wc.values()), list(lc), list(lc.values()), len(words),
            min_count, min_count_label, require_labels, **settings,
        )[0]  # fmt: skip

    @classmethod
    def from_counts(
        cls,
        words: Sequence[str],
        word_counts: Sequence[int] | np.ndarray,
        labels: Sequence[str],
        label_counts: Sequence[int] | np.ndarray,
        n_lines: int,
        min_count: int = 1,
        min_count_label: int = 0,
        require_labels: bool = True,
        **settings: Any,
    ) -> tuple[Dictionary, np.ndarray]:
        """The dictionary of ``n_lines`` lines whose words and labels were counted.

        ``words`` and ``labels`` are in order of first sight. One ``</s>`` per line joins the
        words (at its place if the text holds the token ``</s>``, else last). Kept are the
        entries seen ``min_count`` (labels: ``min_count_label``) times, most frequent
        first, ties in order of first sight (fastText's order).

        Returns:
            (dictionary, rows int64 (len(words) + 1,)): the row of each of ``words``, then
            of ``</s>``; -1 for those left out.
        """
        given = len(words)
        words = list(words)
        counts = np.array(word_counts, np.int64)
        try:
            eos = words.index(EOS)
        except ValueError:
            eos = given
            words.append(EOS)
            counts = np.append(counts, 0)
        counts[eos] += n_lines
        order = _ranked(counts, min_count)
        lcounts = np.asarray(label_counts, np.int64)
        label_order = _ranked(lcounts, min_count_label)
        if not len(label_order) and require_labels:
            raise UsageError(
                f"no label is seen at least -minCountLabel {min_count_label} times; lower it"
            )
        row = np.full(len(words), -1, np.int64)
        row[order] = np.arange(len(order))
        dictionary = cls(
            [words[i] for i in order.tolist()], counts[order].tolist(),
            [labels[i] for i in label_order.tolist()], lcounts[label_order].tolist(), **settings,
        )  # fmt: skip
        return dictionary, np.append(row[:given], row[eos])

    def with_words(self, words: Sequence[str]) -> Dictionary:
        """This dictionary with each of ``words`` counted once more (new ones enter with
        count 1), re-sorted most frequent first; what fastText does with the words of
        ``-pretrainedVectors`` (``Dictionary::add`` each, then ``threshold(1, 0)``), so a
        word seen only in the vectors still has its row at test time.

        Example:
            >>> d = Dictionary.build([["a", "b"], ["a"]], [["__label__x"], ["__label__y"]])
            >>> d.with_words(["b", "c"]).words, d.with_words(["b", "c"]).word_counts
            (['a', '</s>', 'b', 'c'], [2, 2, 2, 1])
        """
        counts = dict(zip(self.words, self.word_counts, strict=True))
        for w in words:
            counts[w] = counts.get(w, 0) + 1
        names = list(counts)
        values = np.fromiter(counts.values(), np.int64, len(counts))
        order = _ranked(values, 1).tolist()
        return Dictionary(
            [names[i] for i in order], values[order].tolist(), list(self.labels),
            list(self.label_counts), self.word_ngrams, self.bucket, self.minn, self.maxn,
        )  # fmt: skip

    def word_id(self, word: str) -> int:
        """Row of ``word`` (-1 when out of vocabulary)."""
        return self._index.get(word, -1)

    def word_ids(self, tokens: Sequence[str]) -> np.ndarray:
        """Rows (N,) int64 of ``tokens`` (-1 for those out of vocabulary)."""
        return np.fromiter(map(self._index.get, tokens, repeat(-1)), np.int64, len(tokens))

    def label_ids(self, labels: Sequence[str]) -> list[int]:
        """Indices of the known labels among ``labels`` (unknown ones are dropped)."""
        return [self._label_index[x] for x in labels if x in self._label_index]

    def encode(self, lines: Sequence[Sequence[str]]) -> tuple[np.ndarray, np.ndarray]:
        """Input rows of many lines (``</s>`` is appended to each).

        Args:
            lines: L lists of tokens.

        Returns:
            (rows int64 (R,), offsets int64 (L + 1,)): line ``i`` owns
            ``rows[offsets[i]:offsets[i+1]]``; n-gram rows are ``nwords + bucket``.
        """
        flat = list(chain.from_iterable(lines))
        raw_len = np.fromiter(map(len, lines), dtype=np.int64, count=len(lines))
        return self.encode_ids(self.word_ids(flat), raw_len, _Listed(flat, self))

    def encode_ids(
        self, ids: np.ndarray, raw_len: np.ndarray, tokens: Tokens
    ) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`encode` of lines given as the rows of their tokens.

        Args:
            ids: int64 (T,) the row of every token, lines concatenated, no ``</s>``
                (-1: out of vocabulary).
            raw_len: int64 (L,) tokens per line.
            tokens: the same T tokens as strings and hashes (for the n-grams).
        """
        n_lines = len(raw_len)
        lengths = raw_len + 1  # with </s>
        line_of = np.repeat(np.arange(n_lines, dtype=np.int64), lengths)
        ends = np.cumsum(raw_len)  # where each line's </s> goes
        token_ids, ids = ids, np.insert(ids, ends, self._eos_row)
        parts_rows: list[np.ndarray] = []
        parts_line: list[np.ndarray] = []
        if self.maxn <= 0:
            keep = ids >= 0
            parts_rows.append(ids[keep])
            parts_line.append(line_of[keep])
        else:
            # per distinct token: its rows (id and/or char n-grams), then expanded
            distinct, tok = tokens.distinct()
            distinct = [*distinct, EOS]
            tok = np.insert(tok, ends, len(distinct) - 1)
            rows_flat, sub_off = self.subword_rows_many(distinct)
            sizes, starts = np.diff(sub_off), sub_off[:-1]
            occ = sizes[tok]
            total = int(occ.sum())
            begin = np.repeat(starts[tok] - (np.cumsum(occ) - occ), occ)
            parts_rows.append(rows_flat[begin + np.arange(total)])
            parts_line.append(np.repeat(line_of, occ))
        if self.word_ngrams > 1:  # out-of-vocabulary tokens take part too
            hashes = np.insert(tokens.hashes(token_ids), ends, np.uint64(fnv1a32(EOS)))
            b, lo = word_ngram_buckets(hashes, line_of, self.word_ngrams, self.bucket)
            parts_rows.append(b + self.nwords)
            parts_line.append(lo)
        rows = np.concatenate(parts_rows)
        owner = np.concatenate(parts_line)
        if len(parts_rows) > 1:  # each part is in line order: group them by line
            order = np.argsort(owner, kind="stable")
            rows, owner = rows[order], owner[order]
        offsets = np.zeros(n_lines + 1, dtype=np.int64)
        np.cumsum(np.bincount(owner, minlength=n_lines), out=offsets[1:])
        return rows, offsets

    def _word_hashes(self) -> np.ndarray:
        if self._hashes is None:
            self._hashes = fnv1a32_many(self.words)
        return self._hashes

    def subword_strings(self, token: str) -> list[str]:
        """The char n-grams fastText gives ``token`` (none for ``</s>`` or without
        ``-maxn``): :func:`char_ngrams` with this dictionary's ``minn``/``maxn``."""
        return [] if token == EOS or self.maxn <= 0 else char_ngrams(token, self.minn, self.maxn)

    def subword_rows_many(self, tokens: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """The input rows of many tokens at once: each token's own row (when it is in the
        vocabulary), then ``nwords + bucket`` of each of its :meth:`subword_strings` (none
        for ``</s>`` or without ``-maxn``), hashed together by
        :func:`hashing.char_ngram_buckets_many`.

        Returns:
            (rows int64 (R,), offsets int64 (N + 1,)): token ``i``'s rows are
            ``rows[offsets[i]:offsets[i+1]]``.
        """
        grams, gram_off = char_ngram_buckets_many(tokens, self.minn, self.maxn, self.bucket)
        n_grams = np.diff(gram_off)
        is_eos = np.fromiter(map(EOS.__eq__, tokens), bool, len(tokens))
        if n_grams[is_eos].any():  # </s> has no n-grams
            grams = grams[~np.repeat(is_eos, n_grams)]
            n_grams[is_eos] = 0
        wid = self.word_ids(tokens)
        has = wid >= 0
        offsets = np.zeros(len(tokens) + 1, np.int64)
        np.cumsum(has + n_grams, out=offsets[1:])
        head = offsets[:-1][has]
        rows = np.empty(int(offsets[-1]), np.int64)
        rows[head] = wid[has]
        is_gram = np.ones(len(rows), bool)
        is_gram[head] = False
        rows[is_gram] = self.nwords + grams
        return rows, offsets

    def to_metadata(self) -> dict[str, Any]:
        return {
            "words": self.words, "word_counts": self.word_counts,
            "labels": self.labels, "label_counts": self.label_counts,
            "word_ngrams": self.word_ngrams, "bucket": self.bucket,
            "minn": self.minn, "maxn": self.maxn,
        }  # fmt: skip

    @classmethod
    def from_metadata(cls, meta: dict[str, Any]) -> Dictionary:
        return cls(
            list(meta["words"]), list(meta["word_counts"]),
            list(meta["labels"]), list(meta["label_counts"]),
            int(meta["word_ngrams"]), int(meta["bucket"]), int(meta["minn"]), int(meta["maxn"]),
        )  # fmt: skip


@dataclass
class _Listed:
    """:class:`Tokens` given as strings (:meth:`Dictionary.encode`)."""

    flat: list[str]
    dictionary: Dictionary

    def distinct(self) -> tuple[list[str], np.ndarray]:
        distinct = list(dict.fromkeys(self.flat))
        local = {t: i for i, t in enumerate(distinct)}
        return distinct, np.fromiter(map(local.__getitem__, self.flat), np.int64, len(self.flat))

    def hashes(self, ids: np.ndarray) -> np.ndarray:
        hashes = np.empty(len(ids), np.uint64)
        known = ids >= 0
        hashes[known] = self.dictionary._word_hashes()[ids[known]]
        oov = np.flatnonzero(~known)  # out-of-vocabulary tokens: hashed from their strings
        hashes[oov] = fnv1a32_many([self.flat[i] for i in oov.tolist()])
        return hashes
