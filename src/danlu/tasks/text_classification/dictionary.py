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
from dataclasses import dataclass, field
from itertools import chain, repeat
from operator import itemgetter
from typing import Any

import numpy as np

from danlu.errors import UsageError
from danlu.tasks.text_classification.hashing import fnv1a32, fnv1a32_many, word_ngram_buckets

__all__ = ["EOS", "Dictionary", "char_ngram_buckets", "char_ngrams"]

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


def char_ngram_buckets(word: str, minn: int, maxn: int, bucket: int) -> list[int]:
    """Bucket ids (``fnv1a32 % bucket``) of :func:`char_ngrams`."""
    return [fnv1a32(g) % bucket for g in char_ngrams(word, minn, maxn)]


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
    _index: dict[str, int] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._index = {w: i for i, w in enumerate(self.words)}
        self._label_index = {w: i for i, w in enumerate(self.labels)}
        self._hashes: np.ndarray | None = None

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
        wc: Counter[str] = Counter(chain.from_iterable(words))
        wc[EOS] += len(words)
        lc: Counter[str] = Counter(chain.from_iterable(labels))
        # most frequent first; the sort is stable (ties keep first-seen order) with reverse
        by_count = itemgetter(1)
        kept_w = sorted(wc.items() if min_count <= 1 else
                        ((w, c) for w, c in wc.items() if c >= min_count),
                        key=by_count, reverse=True)  # fmt: skip
        kept_l = sorted(
            ((w, c) for w, c in lc.items() if c >= min_count_label), key=by_count, reverse=True
        )
        if not kept_l and require_labels:
            raise UsageError(
                f"no label is seen at least -minCountLabel {min_count_label} times; lower it"
            )
        return cls(
            [w for w, _ in kept_w], [c for _, c in kept_w],
            [w for w, _ in kept_l], [c for _, c in kept_l], **settings,
        )  # fmt: skip

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
        ranked = sorted(counts.items(), key=itemgetter(1), reverse=True)  # stable on ties
        return Dictionary(
            [w for w, _ in ranked], [c for _, c in ranked], list(self.labels),
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
        n_lines = len(lines)
        raw_len = np.fromiter(map(len, lines), dtype=np.int64, count=n_lines)
        lengths = raw_len + 1  # with </s>
        line_of = np.repeat(np.arange(n_lines, dtype=np.int64), lengths)
        flat = list(chain.from_iterable(lines))
        eos = self._index.get(EOS, -1)
        ids = np.fromiter(map(self._index.get, flat, repeat(-1)), np.int64, len(flat))
        ids = np.insert(ids, np.cumsum(raw_len), eos)  # </s> at every line end
        parts_rows: list[np.ndarray] = []
        parts_line: list[np.ndarray] = []
        if self.maxn <= 0:
            keep = ids >= 0
            parts_rows.append(ids[keep])
            parts_line.append(line_of[keep])
        else:
            # per distinct token: its rows (id and/or char n-grams), then expanded
            distinct = list(dict.fromkeys(flat))
            distinct.append(EOS)
            local = {t: i for i, t in enumerate(distinct)}  # EOS: its last index
            tok = np.fromiter(map(local.__getitem__, flat), np.int64, len(flat))
            tok = np.insert(tok, np.cumsum(raw_len), local[EOS])
            sub = [self._subword_rows(t, self._index.get(t, -1)) for t in distinct]
            sizes = np.fromiter((len(x) for x in sub), np.int64, len(sub))
            rows_flat = np.fromiter((r for x in sub for r in x), np.int64, int(sizes.sum()))
            starts = np.cumsum(sizes) - sizes
            occ = sizes[tok]
            total = int(occ.sum())
            begin = np.repeat(starts[tok] - (np.cumsum(occ) - occ), occ)
            parts_rows.append(rows_flat[begin + np.arange(total)])
            parts_line.append(np.repeat(line_of, occ))
        if self.word_ngrams > 1:
            hashes = self._word_hashes()[np.maximum(ids, 0)]
            is_eos = np.zeros(ids.size, bool)
            is_eos[np.cumsum(lengths) - 1] = True
            hashes[is_eos] = fnv1a32(EOS)  # also right when </s> was pruned away
            oov = np.flatnonzero((ids < 0) & ~is_eos)
            if oov.size:  # hash out-of-vocabulary tokens too: they still form n-grams
                pos = oov - line_of[oov]  # index in `flat` (one </s> per earlier line)
                hashes[oov] = fnv1a32_many([flat[i] for i in pos])
            b, lo = word_ngram_buckets(hashes, line_of, self.word_ngrams, self.bucket)
            parts_rows.append(b + self.nwords)
            parts_line.append(lo)
        rows = np.concatenate(parts_rows)
        owner = np.concatenate(parts_line)
        order = np.argsort(owner, kind="stable")
        counts = np.bincount(owner, minlength=n_lines)
        offsets = np.zeros(n_lines + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        return rows[order], offsets

    def _word_hashes(self) -> np.ndarray:
        if self._hashes is None:
            self._hashes = fnv1a32_many(self.words)
        return self._hashes

    def subword_strings(self, token: str) -> list[str]:
        """The char n-grams fastText gives ``token`` (none for ``</s>`` or without
        ``-maxn``): :func:`char_ngrams` with this dictionary's ``minn``/``maxn``."""
        return [] if token == EOS or self.maxn <= 0 else char_ngrams(token, self.minn, self.maxn)

    def subword_buckets(self, token: str) -> list[int]:
        """Bucket ids (``fnv1a32 % bucket``) of :meth:`subword_strings`."""
        return [] if token == EOS else char_ngram_buckets(token, self.minn, self.maxn, self.bucket)

    def _subword_rows(self, token: str, wid: int) -> list[int]:
        head = [wid] if wid >= 0 else []
        return head + [self.nwords + g for g in self.subword_buckets(token)]

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
