"""fastText's cbow and skipgram: the encoded corpus and the compiled step that trains on it.

:class:`WordData` holds what ``train_words`` in ``sgd_kernel.c`` reads:

- the corpus as word ids, ``</s>`` ending each line, out-of-vocabulary words dropped, lines
  cut after ``MAX_LINE_SIZE + 1`` tokens (fastText's ``getLine``);
- each word's input rows: its own row, then its char n-grams' rows (none for ``</s>``),
  with only the n-gram buckets that occur kept, as rows ``nwords + j`` (the buckets of
  all words at once: :func:`hashing.char_ngram_buckets_many`);
- fastText's probability of *keeping* a token (``initTableDiscard``; kept when a uniform
  draw ``u <= p``), with ``f = count / ntokens``::

      p(w) = sqrt(t / f(w)) + t / f(w)

- the negatives table of ``-loss ns``: word ``w`` fills ``ceil(count(w)^0.5 * 1e7 / z)``
  of its entries, ``z = sum_w count(w)^0.5``. fastText draws negatives from **counts to
  the power 0.5** (``NegativeSamplingLoss``), not word2vec's 0.75; danlu does the same. A
  negative equal to the target is drawn again, as fastText's ``getNegative`` does.
- the Huffman paths of the words (``-loss hs``), see :mod:`huffman`.

:class:`WordEngine` runs worker ``w``'s lines of an epoch (a contiguous slice, as
fastText's threads each read their part of the file) through the kernel; the call
releases the GIL, so ``-thread N`` runs N Hogwild threads on the same weights. Each
update is fastText's ``Model::update`` for word vectors (the input rows' gradient is not
divided by their number); the C file's comment gives the whole step. The numbers it
draws come from one minstd stream per worker (seeded ``seed + w``), so ``-thread 1`` is
reproducible; a test replays the stream in Python and checks the updates in float64.

Training stops as fastText's does: once ``epoch * ntokens`` tokens of the vocabulary were
read, ``ntokens`` counting every token (those below ``-minCount`` too), so the workers
read a little more than ``epoch`` passes (the last one in part), and the learning rate
reaches 0 there. Difference from fastText, on purpose: the logistic function and ``log``
are computed, not read from fastText's 512-entry tables.

Example:
    >>> data = WordData.build(dictionary, lines, ntokens, cfg.t)  # doctest: +SKIP
    >>> run = WordEngine(cfg, data, table, out, load(), workers=1)  # doctest: +SKIP
    >>> loss_sum, n, lr = run(epoch=0, w=0)  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain

import numpy as np

from danlu.tasks.text_classification.config import UnsupervisedConfig
from danlu.tasks.text_classification.dictionary import EOS, Dictionary
from danlu.tasks.text_classification.huffman import HuffmanTree
from danlu.tasks.text_classification.sgd_kernel import LOSS_CODES, Kernel, WordJob, pointer

__all__ = [
    "MAX_LINE_SIZE",
    "MINSTD_M",
    "NEGATIVE_TABLE_SIZE",
    "WordData",
    "WordEngine",
    "keep_probabilities",
    "negatives_table",
]

MAX_LINE_SIZE = 1024  # fastText's getLine stops after this many tokens + 1
NEGATIVE_TABLE_SIZE = 10_000_000
MINSTD_M = 2_147_483_647
LINES_PER_CALL = 20_000  # lines per kernel call: Ctrl-C gets a turn between calls


def keep_probabilities(counts: Sequence[int], ntokens: int, t: float) -> np.ndarray:
    """fastText's ``pdiscard`` (W,) float64: a token of word ``w`` is kept when a uniform
    draw is at most ``sqrt(t / f) + t / f``, ``f = count(w) / ntokens``.

    Example:
        >>> keep_probabilities([100, 1], 10_000, 1e-4).round(3).tolist()
        [0.11, 2.0]
    """
    f = np.asarray(counts, np.float64) / ntokens
    return np.sqrt(t / f) + t / f


def negatives_table(counts: Sequence[int], size: int = NEGATIVE_TABLE_SIZE) -> np.ndarray:
    """fastText's negatives (about ``size``,) int32: word ``w`` fills
    ``ceil(sqrt(count(w)) * size / z)`` entries, ``z = sum sqrt(count)`` (unshuffled: the
    draws are uniform over the entries, so their order does not matter).

    Example:
        >>> np.bincount(negatives_table([9, 1], size=8)).tolist()
        [6, 2]
    """
    root = np.sqrt(np.asarray(counts, np.float64))
    reps = np.ceil(root * size / root.sum()).astype(np.int64)
    return np.repeat(np.arange(len(reps), dtype=np.int32), reps)


def minstd_seed(seed: int) -> int:
    """The first state of ``std::minstd_rand(seed)`` (0 is not a state: it becomes 1)."""
    return seed % MINSTD_M or 1


@dataclass
class WordData:
    """The corpus and tables of a cbow or skipgram run (see the module docstring).

    Attributes:
        tokens: (T,) int64 word ids of all lines, ``</s>`` included.
        line_off: (L + 1,) int64: line ``i`` is ``tokens[line_off[i]:line_off[i+1]]``.
        sub_off, sub_rows: word ``v``'s input rows are ``sub_rows[sub_off[v]:sub_off[v+1]]``.
        buckets: (K,) the n-gram buckets stored, sorted: row ``nwords + j`` is ``buckets[j]``.
        keep: (W,) float64 probability of keeping each word's tokens.
        ntokens: every token read, those below ``-minCount`` too (fastText's ``ntokens``).
    """

    tokens: np.ndarray
    line_off: np.ndarray
    sub_off: np.ndarray
    sub_rows: np.ndarray
    buckets: np.ndarray
    keep: np.ndarray
    ntokens: int

    @property
    def n_rows(self) -> int:
        return len(self.sub_off) - 1 + len(self.buckets)

    @classmethod
    def build(
        cls, d: Dictionary, lines: Sequence[Sequence[str]], ntokens: int, t: float
    ) -> WordData:
        """Encode ``lines`` (tokens, without ``</s>``) with the dictionary ``d``."""
        raw_len = np.fromiter(map(len, lines), np.int64, len(lines))
        return cls.from_ids(d, d.word_ids(list(chain.from_iterable(lines))), raw_len, ntokens, t)

    @classmethod
    def from_ids(
        cls, d: Dictionary, ids: np.ndarray, raw_len: np.ndarray, ntokens: int, t: float
    ) -> WordData:
        """:meth:`build` of lines given as the rows of their tokens in ``d``: ``ids`` int64
        (T,) (-1: not in ``d``), lines concatenated without ``</s>``, ``raw_len`` (L,) tokens
        per line (what :func:`fast_reader.read_tokenized` gives, ``words_only``)."""
        tokens, line_off = _encode_lines(d, ids, raw_len)
        sub_off, sub_rows, buckets = _subword_rows(d)
        keep = keep_probabilities(d.word_counts, ntokens, t)
        return cls(tokens, line_off, sub_off, sub_rows, buckets, keep, ntokens)


def _encode_lines(d: Dictionary, ids: np.ndarray, raw_len: np.ndarray) -> tuple[np.ndarray, ...]:
    """(word ids (T,), line offsets (L + 1,)): ``</s>`` ends each line, unknown words are
    dropped, a line is cut after every ``MAX_LINE_SIZE + 1`` tokens."""
    ids = np.insert(ids, np.cumsum(raw_len), d.word_id(EOS))  # </s> ends every line
    line = np.repeat(np.arange(len(raw_len)), raw_len + 1)
    known = ids >= 0
    ids, line = ids[known], line[known]
    # a new line where a line starts, and after every MAX_LINE_SIZE + 1 tokens of one
    first = np.r_[True, line[1:] != line[:-1]] if len(line) else np.zeros(0, bool)
    starts = np.flatnonzero(first)
    pos = np.arange(len(ids)) - np.repeat(starts, np.diff(np.r_[starts, len(ids)]))
    cuts = np.flatnonzero(pos % (MAX_LINE_SIZE + 1) == 0)
    return ids, np.r_[cuts, len(ids)].astype(np.int64)


def _subword_rows(d: Dictionary) -> tuple[np.ndarray, ...]:
    """(offsets (W + 1,), rows, buckets (K,)): word ``v``'s input rows are
    ``rows[offsets[v]:offsets[v+1]]``, itself then its char n-grams' (``nwords + j`` for
    bucket ``buckets[j]``, only the buckets that occur, sorted)."""
    rows, sub_off = d.subword_rows_many(d.words)  # its own row, then nwords + bucket
    gram = rows >= d.nwords
    buckets, inverse = np.unique(rows[gram] - d.nwords, return_inverse=True)
    rows[gram] = d.nwords + inverse.ravel()
    return sub_off, rows, buckets.astype(np.int64)


class WordEngine:
    """Runs worker ``w``'s lines of one epoch of cbow or skipgram with the compiled step.

    Args:
        cfg: the options (``model``, ``loss``, ``ws``, ``neg``, ``lr``, ...).
        data: the encoded corpus.
        table, out: ``W`` (n_rows, d) and ``O`` (n_out, d), float32 or float64, shared.
        kernel: the loaded kernel.
        workers: how many workers split the lines.
        counts: the word counts (Huffman tree of ``hs``, negatives of ``ns``).
    """

    def __init__(self, cfg: UnsupervisedConfig, data: WordData, table: np.ndarray,
                 out: np.ndarray, kernel: Kernel | None, workers: int,
                 counts: Sequence[int]) -> None:  # fmt: skip
        self.cfg, self.data, self.table, self.out, self.kernel = cfg, data, table, out, kernel
        n_lines = len(data.line_off) - 1
        # worker w reads a contiguous part of the corpus, of about T / workers tokens
        marks = np.arange(workers + 1) * (len(data.tokens) / workers)
        self.bounds = np.searchsorted(data.line_off[:-1], marks).tolist()
        self.bounds[-1] = n_lines
        self.rng = [minstd_seed(cfg.seed + w) for w in range(workers)]
        self.local = [0] * workers
        self.seen = np.zeros(1, np.int64)  # tokens all workers processed (shared)
        # fastText's threads read until epoch * ntokens tokens of the vocabulary were read,
        # ntokens counting every token (those below -minCount too): a little more than
        # `epoch` passes (14 % more on THUCNews titles at -minCount 5); lr reaches 0 there
        self.total = float(cfg.epoch * data.ntokens)
        self.negatives = negatives_table(counts) if cfg.loss == "ns" else None
        if cfg.loss == "hs":
            paths, codes, mask = HuffmanTree.build(list(counts)).padded()
            self.paths, self.codes = paths, codes.astype(table.dtype)
            self.path_len = mask.sum(axis=1).astype(np.int64)
        longest = int(np.diff(data.line_off).max(initial=0))
        widest = int(np.diff(data.sub_off).max(initial=1))
        self.kept_size = longest + 2 * cfg.ws * widest + 1

    def __call__(self, epoch: int, w: int) -> tuple[float, int, float]:
        """(loss sum, number of updates, last learning rate) of worker ``w``'s lines."""
        assert self.kernel is not None
        cfg, data = self.cfg, self.data
        dim = self.table.shape[1]
        scratch = np.empty(2 * dim + len(self.out), self.table.dtype)  # h, grad, scores
        kept = np.empty(self.kept_size, np.int64)  # the kept line, then cbow's context rows
        job = self._job(scratch, kept)
        loss_sum, n, lr = 0.0, 0, cfg.lr * max(0.0, 1.0 - float(self.seen[0]) / self.total)
        first, last = self.bounds[w], self.bounds[w + 1]
        job.rng, job.local = self.rng[w], self.local[w]
        for c0 in range(first, last, LINES_PER_CALL):
            c1 = min(c0 + LINES_PER_CALL, last)
            job.line_off = pointer(data.line_off[c0:], np.int64)
            job.n_lines, job.flush = c1 - c0, int(c1 == last)
            self.kernel.train_words(job, self.table.dtype)  # releases the GIL
            loss_sum, n, lr = loss_sum + job.loss_sum, n + job.n_examples, job.last_lr
        self.rng[w], self.local[w] = job.rng, job.local
        return loss_sum, n, lr

    def _job(self, scratch: np.ndarray, kept: np.ndarray) -> WordJob:
        """The kernel's arguments but the lines (set per call); the caller keeps
        ``scratch`` and ``kept`` alive while it runs."""
        cfg, data, dtype, i64 = self.cfg, self.data, self.table.dtype, np.int64
        hs = cfg.loss == "hs"
        neg = self.negatives
        return WordJob(
            input=pointer(self.table, dtype), output=pointer(self.out, dtype),
            dim=self.table.shape[1], n_out=len(self.out),
            tokens=pointer(data.tokens, i64),
            sub_off=pointer(data.sub_off, i64), sub_rows=pointer(data.sub_rows, i64),
            pdiscard=pointer(data.keep, np.float64),
            negatives=pointer(neg, np.int32), n_table=0 if neg is None else len(neg),
            neg=cfg.neg,
            paths=pointer(self.paths, i64) if hs else None,
            codes=pointer(self.codes, dtype) if hs else None,
            path_len=pointer(self.path_len, i64) if hs else None,
            depth=self.paths.shape[1] if hs else 0,
            ws=cfg.ws, cbow=int(cfg.model == "cbow"), loss=LOSS_CODES[cfg.loss],
            seen=pointer(self.seen, i64), lr=cfg.lr, total_tokens=self.total,
            rate=cfg.lr_update_rate, scratch=pointer(scratch, dtype), kept=pointer(kept, i64),
        )  # fmt: skip
