"""Reading a fastText training file in C: each token counted and numbered once.

:func:`data.read_labeled_file`, :meth:`Dictionary.build` and :class:`examples.Examples`
spend their time on Python strings: a list per line, a string per token, a dict lookup per
token (0.4 s for the 531,000 tokens of 45,000 THUCNews titles cut by jieba, longer than
five epochs of training). With ``-tokenizer whitespace`` the compiled kernel
(``read_tokens`` in ``sgd_kernel.c``) reads the file's bytes instead: it cuts lines and
tokens as :mod:`data` does (fastText's rule: lines end at ``\\n`` only) and interns every
distinct token in a hash table. Python then decodes only the distinct tokens (58,000
there) and works on their ids with numpy::

    word_tok (W,)  distinct id of each word of the labelled lines, lines concatenated
    strings, counts, is_label, hashes (D,)  per distinct token, in order of first sight
    Dictionary.from_counts(words and their counts)  ->  dictionary, row of each word
    rows of the lines = Dictionary.encode_ids(row[word_tok], ...)

The dictionary and the examples are the Python path's, array for array (tested, on random
files too). That path stays for the other tokenizers, for ``-engine numpy`` and where the
kernel does not build. ``words_only=True`` reads the corpus of ``danlu skipgram|cbow``
(:mod:`unsupervised`): every token is a word, every line is kept.

Example:
    >>> corpus = read_corpus("train.txt")  # doctest: +SKIP
    >>> dictionary = build_dictionary(corpus, min_count=1, min_count_label=0)  # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from danlu.tasks.text_classification.data import LabeledCorpus, read_labeled_file, require_file
from danlu.tasks.text_classification.dictionary import Dictionary
from danlu.tasks.text_classification.sgd_kernel import Kernel, ReadJob, load, pointer

__all__ = ["Corpus", "TokenizedCorpus", "build_dictionary", "read_corpus", "read_tokenized"]


@dataclass(eq=False)
class TokenizedCorpus:
    """The labelled lines of a file as ids of its distinct tokens (``read_tokens``).

    Attributes:
        strings: the D distinct tokens of the labelled lines, in order of first sight.
        counts: int64 (D,) occurrences of each in those lines.
        is_label: bool (D,) the tokens that start with the label prefix.
        hashes: uint32 (D,) fastText's hash of each (:func:`hashing.fnv1a32`).
        word_tok: int32 (W,) distinct id of every word, lines concatenated.
        word_off: int64 (L + 1,) line ``i``'s words are ``word_tok[word_off[i]:word_off[i+1]]``.
        label_tok, label_off: the same for the labels.
        skipped, ntokens: as in :class:`data.LabeledCorpus`.
    """

    strings: list[str]
    counts: np.ndarray
    is_label: np.ndarray
    hashes: np.ndarray
    word_tok: np.ndarray
    word_off: np.ndarray
    label_tok: np.ndarray
    label_off: np.ndarray
    skipped: int
    ntokens: int
    # the dictionary built from these counts, and the row of each distinct token in it
    _built: tuple[Dictionary, np.ndarray] | None = field(default=None, repr=False)

    @property
    def n_lines(self) -> int:
        return len(self.word_off) - 1

    def dictionary(
        self, min_count: int = 1, min_count_label: int = 0, **settings: Any
    ) -> Dictionary:
        """:meth:`Dictionary.build` on these lines: the same dictionary."""
        words = np.flatnonzero(~self.is_label)
        labels = np.flatnonzero(self.is_label)
        strings = self.strings
        dictionary, rows = Dictionary.from_counts(
            [strings[i] for i in words.tolist()], self.counts[words],
            [strings[i] for i in labels.tolist()], self.counts[labels], self.n_lines,
            min_count, min_count_label, **settings,
        )  # fmt: skip
        row = np.full(len(self.strings), -1, np.int64)
        row[words] = rows[:-1]
        self._built = (dictionary, row)
        return dictionary

    def word_rows(self, dictionary: Dictionary) -> np.ndarray:
        """The row int64 (W,) of every word of the lines in ``dictionary`` (-1: not in it)."""
        if self._built is not None and self._built[0] is dictionary:
            row = self._built[1]
        else:  # another dictionary (a model retrained, -pretrainedVectors' words added)
            row = dictionary.word_ids(self.strings)
        return row[self.word_tok]

    def encode(self, dictionary: Dictionary) -> tuple[np.ndarray, ...]:
        """What :class:`examples.Examples` needs: (label ids int64 (N,) with -1 for labels
        ``dictionary`` lacks, labels per line (L,), rows, offsets (L + 1,), words per line
        (L,)); rows and offsets are :meth:`Dictionary.encode`'s."""
        n_words = np.diff(self.word_off)
        rows, offsets = dictionary.encode_ids(self.word_rows(dictionary), n_words, _Words(self))
        index = {label: i for i, label in enumerate(dictionary.labels)}
        label_id = np.full(len(self.strings), -1, np.int64)
        for i in np.flatnonzero(self.is_label).tolist():
            label_id[i] = index.get(self.strings[i], -1)
        return label_id[self.label_tok], np.diff(self.label_off), rows, offsets, n_words


@dataclass
class _Words:
    """The words of a :class:`TokenizedCorpus` as :class:`dictionary.Tokens`."""

    corpus: TokenizedCorpus

    def distinct(self) -> tuple[list[str], np.ndarray]:
        return self.corpus.strings, self.corpus.word_tok

    def hashes(self, ids: np.ndarray) -> np.ndarray:
        return self.corpus.hashes[self.corpus.word_tok].astype(np.uint64)


Corpus = LabeledCorpus | TokenizedCorpus


def read_corpus(
    path: str | Path,
    label_prefix: str = "__label__",
    tokenizer: str = "whitespace",
    compiled: bool = True,
) -> Corpus:
    """:func:`data.read_labeled_file`, by the compiled reader where it reads the same
    (``-tokenizer whitespace``, ``compiled``, the kernel builds, the file is UTF-8)."""
    kernel = load() if compiled and tokenizer == "whitespace" else None
    corpus = read_tokenized(path, kernel, label_prefix) if kernel is not None else None
    return corpus if corpus is not None else read_labeled_file(path, label_prefix, tokenizer)


def read_tokenized(
    path: str | Path, kernel: Kernel, label_prefix: str = "__label__", words_only: bool = False
) -> TokenizedCorpus | None:
    """The file ``path`` read by ``kernel``; None when it is not UTF-8 (the Python path
    names the line) or too large for int32 ids.

    ``words_only``: no token is a label and every line is kept, an empty one too (a
    word-vector corpus: :func:`unsupervised.read_lines` reads the same lines).
    """
    raw = require_file(path).read_bytes()
    text = np.frombuffer(raw, np.uint8)
    prefix = label_prefix.encode("utf-8")
    job = ReadJob(text=text.ctypes.data, n=len(raw), prefix=prefix, prefix_len=len(prefix),
                  words_only=int(words_only))  # fmt: skip
    kernel.read_tokens(job)  # counts only: the sizes of the outputs
    kept = job.n_words + job.n_labels
    if kept >= 2**31:  # ids are int32
        return None
    i64 = np.int64
    word_tok, label_tok = np.empty(job.n_words, np.int32), np.empty(job.n_labels, np.int32)
    word_off, label_off = np.empty(job.n_lines + 1, i64), np.empty(job.n_lines + 1, i64)
    counts, hashes = np.empty(kept, i64), np.empty(kept, np.uint32)
    is_label, strings = np.empty(kept, np.uint8), np.empty(len(raw) + 1, np.uint8)
    first = np.empty(kept + 1, i64)
    job.word_tok, job.label_tok = word_tok.ctypes.data, label_tok.ctypes.data
    job.word_off, job.label_off = pointer(word_off, i64), pointer(label_off, i64)
    job.count, job.hash = pointer(counts, i64), hashes.ctypes.data
    job.is_label, job.strings = is_label.ctypes.data, strings.ctypes.data
    job.first = pointer(first, i64)
    kernel.read_tokens(job)
    try:
        # every byte of a kept line is in a distinct token or an ASCII separator: decoding
        # the distinct tokens checks those lines
        names = strings[: job.strings_len].tobytes().decode("utf-8").split("\n")[:-1]
        if job.skipped:  # the lines without a label are not among them
            raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    d = job.n_distinct
    return TokenizedCorpus(
        names, counts[:d], is_label[:d].view(bool), hashes[:d], word_tok, word_off,
        label_tok, label_off, job.skipped, job.ntokens,
    )  # fmt: skip


def build_dictionary(
    corpus: Corpus, min_count: int = 1, min_count_label: int = 0, **settings: Any
) -> Dictionary:
    """:meth:`Dictionary.build` of either kind of corpus."""
    if isinstance(corpus, TokenizedCorpus):
        return corpus.dictionary(min_count, min_count_label, **settings)
    return Dictionary.build(corpus.words, corpus.labels, min_count, min_count_label, **settings)
