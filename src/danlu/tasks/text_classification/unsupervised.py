"""``danlu skipgram|cbow`` and ``fasttext.train_unsupervised``: fastText's word vectors.

Read the text (fastText's lines and tokens, :mod:`data`: lines end at ``\\n``, tokens are
split at space, tab, ``\\v``, ``\\f``, ``\\r`` and NUL, a ``</s>`` ends each line; by the
compiled reader, :func:`fast_reader.read_tokenized`, where the kernel builds, else in
Python: the same corpus, tested), keep the
words seen ``-minCount`` times (most frequent first), then ``-epoch`` passes of the
compiled step (:mod:`word_engine`; numpy's where it does not build, :mod:`word_numpy`),
``-thread`` Hogwild threads each on its part of the lines. The weights start as
fastText's: ``W ~ uniform(-1/dim, 1/dim)`` (words, then the n-gram buckets that occur),
``O = 0`` (a row per word; ``-loss hs``: per inner node of the words' Huffman tree). The
learning rate decays linearly, ``lr * (1 - progress)``.

Differences from fastText: a token starting with ``__label__`` is a word here (fastText
files it as a label and leaves it out of word vectors); the last line counts a ``</s>``
even without a final newline; an n-gram bucket that no vocabulary word has is not stored,
a zero row (fastText keeps its random initial values, which only the vectors of
out-of-vocabulary words read); see also :mod:`word_engine`.

The model is a :class:`FastTextModel` without labels (``args["model"]`` is ``skipgram`` or
``cbow``); :func:`fasttext_bin_write.write_bin` writes it as fastText's ``.bin`` and
:func:`vectors.write_vec` as ``.vec``.

Example:
    >>> model = train_word_vectors(SkipgramConfig(input="text.txt", output="m"))  # doctest: +SKIP
    >>> write_bin(model, "m.bin")  # doctest: +SKIP
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import asdict
from itertools import chain
from typing import Any

import numpy as np

from danlu.errors import UsageError
from danlu.tasks.text_classification.config import UnsupervisedConfig
from danlu.tasks.text_classification.data import paused_gc, read_text_lines, whitespace_tokens
from danlu.tasks.text_classification.dictionary import Dictionary
from danlu.tasks.text_classification.fast_reader import read_tokenized
from danlu.tasks.text_classification.model import FastTextModel
from danlu.tasks.text_classification.sgd_kernel import Kernel, load, unavailable_reason
from danlu.tasks.text_classification.train import run_epoch, uniform_rows
from danlu.tasks.text_classification.word_engine import WordData, WordEngine
from danlu.tasks.text_classification.word_numpy import NumpyWordEngine
from danlu.tasks.text_classification.workers import MIN_TOKENS_PER_WORKER, Threads, n_workers

__all__ = ["read_lines", "read_word_data", "train_word_vectors"]

Log = Callable[[str], None]


def read_lines(path: str) -> list[list[str]]:
    """The tokens of each line of ``path`` (fastText's: lines end at ``\\n`` only; a final
    newline starts no line: :func:`data.text_lines`)."""
    return [whitespace_tokens(line) for line in read_text_lines(path)]


def read_word_data(
    cfg: UnsupervisedConfig, kernel: Kernel | None = None
) -> tuple[Dictionary, WordData]:
    """The dictionary and the encoded corpus of ``cfg.input``: by ``kernel``'s reader
    (``read_tokens``), or in Python (:func:`read_lines`) without a kernel or where that
    reader does not apply (a file not UTF-8: Python names the line); the same either way.

    Raises:
        UsageError: fewer than two words seen ``-minCount`` times.
    """
    settings = {"bucket": cfg.bucket, "minn": cfg.minn, "maxn": cfg.maxn}
    corpus = None if kernel is None else read_tokenized(cfg.input, kernel, words_only=True)
    with paused_gc():  # counting and encoding make no cycles; see data.paused_gc
        if corpus is not None:
            ntokens = corpus.ntokens  # every token, </s> included
            d = corpus.dictionary(cfg.min_count, require_labels=False, **settings)
            ids, raw_len = corpus.word_rows(d), np.diff(corpus.word_off)
        else:
            lines = read_lines(cfg.input)
            ntokens = sum(map(len, lines)) + len(lines)
            d = Dictionary.build(lines, [], cfg.min_count, require_labels=False, **settings)
            ids = d.word_ids(list(chain.from_iterable(lines)))
            raw_len = np.fromiter(map(len, lines), np.int64, len(lines))
            del lines
        if d.nwords < 2:
            raise UsageError(
                f"{cfg.input}: {d.nwords} word(s) (</s> included) seen at least -minCount "
                f"{cfg.min_count} times in {ntokens:,} tokens; word vectors need two or more: "
                "give more text or lower -minCount"
            )
        return d, WordData.from_ids(d, ids, raw_len, ntokens, cfg.t)


def train_word_vectors(
    cfg: UnsupervisedConfig,
    log: Log | None = None,
    dtype: Any = np.float32,
    compiled: bool | None = None,
) -> FastTextModel:
    """Read ``cfg.input`` and train word vectors (not yet saved).

    Args:
        cfg: the options.
        log: where progress lines go (default: stderr with ``-verbose 2``).
        dtype: the precision of the weights while training (float64 for tests).
        compiled: the compiled step (True), numpy's (False, about 100 times slower, one
            thread: :mod:`word_numpy`), or the compiled one where it builds (None).

    Raises:
        UsageError: a missing or empty input, or fewer than two words seen ``-minCount``
            times.
    """
    if log is None and cfg.verbose > 1:
        log = lambda msg: print(msg, file=sys.stderr, flush=True)  # noqa: E731
    kernel = load() if compiled is not False else None
    if kernel is None and compiled:
        raise UsageError(f"the compiled step does not build here: {unavailable_reason()}")
    d, data = read_word_data(cfg, kernel)
    ntokens = data.ntokens
    if log is not None:
        log(f"Read {ntokens:,} words\nNumber of words:  {d.nwords:,}\nNumber of labels: 0")
    table = np.empty((data.n_rows, cfg.dim), dtype)  # W: words, then the buckets that occur
    uniform_rows(table, cfg.dim, cfg.seed)
    out = np.zeros((d.nwords - 1 if cfg.loss == "hs" else d.nwords, cfg.dim), dtype)  # O
    workers = n_workers(cfg.thread, len(data.tokens), False, MIN_TOKENS_PER_WORKER)
    if kernel is not None:
        run = WordEngine(cfg, data, table, out, kernel, workers, d.word_counts)
        how = f"compiled steps, {workers} thread{'s' if workers > 1 else ''}"
    else:  # numpy holds the GIL: one worker
        workers = 1
        run = NumpyWordEngine(cfg, data, table, out, None, workers, d.word_counts)
        how = f"numpy, one thread (slow: {unavailable_reason() or 'asked for'})"
    if log is not None:
        log(f"training: {how}")
    args = {**asdict(cfg), "model": cfg.model, "ntokens": ntokens, "word_ngrams": 1,
            "label": "__label__", "tokenizer": "whitespace"}  # fmt: skip
    model = FastTextModel(d, table, data.buckets, out, cfg.loss, args)
    _epochs(cfg, run, workers, len(data.tokens), log)
    return model


def _epochs(cfg: UnsupervisedConfig, run: WordEngine, workers: int, tokens: int,
            log: Log | None) -> None:  # fmt: skip
    """Passes of ``run`` on ``workers`` threads until ``epoch * ntokens`` tokens were read
    (fastText's rule, see :mod:`word_engine`: a little more than ``cfg.epoch`` passes, the
    last one in part); progress as fastText prints it (words/sec/thread: tokens read, per
    second, per thread)."""
    pool = Threads(workers, run) if workers > 1 else None
    t0 = time.perf_counter()
    passes = 0
    try:
        while run.seen[0] < run.total and tokens:
            loss_sum, n, lr = run_epoch(pool, run, passes, run.out)
            passes += 1
            if log is not None:
                seen = float(run.seen[0])
                speed = seen / max(time.perf_counter() - t0, 1e-9) / workers
                log(f"pass {passes}: {100 * min(seen / run.total, 1.0):5.1f}%  "
                    f"avg.loss {loss_sum / max(n, 1):.6f}  words/sec/thread {speed:,.0f}  "
                    f"lr {lr:.6f}")  # fmt: skip
    finally:
        if pool is not None:
            pool.close()
