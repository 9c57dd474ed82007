"""The training examples as the SGD engines read them, and each worker's share of an epoch.

:class:`Examples` encodes a corpus once: the input rows of every line (word rows, then
n-gram rows; ``</s>`` included), its labels, and the tokens fastText counts for the
learning-rate schedule. :class:`Workload` is one training run as a worker sees it: the
options, the examples, the shared weights ``W`` (input rows) and ``O`` (output rows) and
the loss; :meth:`Workload.share` gives worker ``w`` its lines of an epoch::

    order_e = kept[permutation_e]           # permutation from a generator seeded (seed, e)
    share_{e,w} = order_e[w :: workers]     # lines, in visiting order

Both engines (``numpy_engine``, ``c_engine``) take the same shares, so ``-thread 1`` with
a given ``-seed`` visits the lines in the same order in either.

Example:
    >>> data = Examples(corpus, dictionary)  # doctest: +SKIP
    >>> work = Workload(cfg, data, table, out, loss, workers=1)  # doctest: +SKIP
    >>> order, rng, y = work.share(epoch=0, w=0)  # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import chain, repeat

import numpy as np

from danlu.tasks.text_classification.config import SupervisedConfig
from danlu.tasks.text_classification.data import LabeledCorpus
from danlu.tasks.text_classification.dictionary import Dictionary
from danlu.tasks.text_classification.fast_reader import Corpus, TokenizedCorpus
from danlu.tasks.text_classification.losses import OutputLoss
from danlu.tasks.text_classification.model import FastTextModel

__all__ = ["Examples", "Workload"]


class Examples:
    """The encoded corpus: input rows of every line, token counts and label ids.

    Line ``i`` owns ``rows[offsets[i]:offsets[i+1]]`` (rows of the compact table: words,
    then only the n-gram buckets that occur) and labels
    ``label_flat[label_off[i]:label_off[i+1]]``; ``kept`` are the lines with a known label.
    """

    def __init__(
        self, corpus: Corpus, dictionary: Dictionary, init: FastTextModel | None = None
    ) -> None:
        if isinstance(corpus, TokenizedCorpus):
            ids, given, rows, self.offsets, n_words = corpus.encode(dictionary)
        else:
            ids, given, rows, self.offsets, n_words = _encode(corpus, dictionary)
        n = len(given)
        known = ids >= 0  # labels below -minCountLabel are dropped
        self.label_flat = ids[known]
        sizes = np.bincount(np.repeat(np.arange(n), given)[known], minlength=n)
        self.label_off = np.zeros(n + 1, np.int64)
        np.cumsum(sizes, out=self.label_off[1:])
        self.n_labels = sizes
        self.kept = np.flatnonzero(sizes > 0)  # lines with a known label
        if init is not None:  # continue a model: its rows; absent buckets -> a void row
            self.rows = init.compact_rows(rows).astype(np.int64)
            self.buckets = init.ngram_buckets
            self.n_rows = len(init.input) + 1
        else:  # compact table: words, then only the n-gram buckets that occur in training
            nwords = dictionary.nwords
            gram = rows >= nwords
            self.buckets, inverse = _distinct(rows[gram] - nwords, dictionary.bucket)
            self.rows = rows.copy()
            self.rows[gram] = nwords + inverse
            self.n_rows = nwords + self.buckets.size
        self.lengths = np.diff(self.offsets)
        self.ntok = n_words + given + 1  # tokens fastText counts per line: with </s>
        self.total = int(corpus.ntokens)

    def max_share(self) -> float:
        """The largest mean weight of one input row in the hidden vectors of the lines::

            max_r mean_lines n_r(line) / |rows(line)|

        (``n_r``: occurrences of row ``r`` in the line). It is usually ``</s>``'s, the mean
        of ``1 / |rows|``: 0.05 for THUCNews titles cut by jieba, 0.27 left uncut. A batch of
        ``B`` lines moves that row by ``B x max_share`` per-example steps at once
        (:func:`numpy_engine.auto_batch`).
        """
        if not len(self.rows):
            return 0.0
        weight = np.repeat(1.0 / np.maximum(self.lengths, 1), self.lengths)  # per row occurrence
        return float(np.bincount(self.rows, weights=weight).max() / len(self.lengths))


def _distinct(values: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(values, return_inverse=True)`` of ``values`` in ``[0, size)``, by a
    table of ``size`` flags where that is cheaper than sorting (a quarter of the time for
    the 530,000 bigrams of 45,000 titles in 2,000,000 buckets)."""
    if size > 8 * len(values):
        return np.unique(values, return_inverse=True)
    seen = np.zeros(size, bool)
    seen[values] = True
    rank = np.cumsum(seen, dtype=np.int64) - 1
    return np.flatnonzero(seen), rank[values]


def _encode(corpus: LabeledCorpus, dictionary: Dictionary) -> tuple[np.ndarray, ...]:
    """:meth:`fast_reader.TokenizedCorpus.encode` of a corpus read in Python."""
    n = len(corpus.labels)
    given = np.fromiter(map(len, corpus.labels), np.int64, n)
    index = {label: i for i, label in enumerate(dictionary.labels)}
    ids = np.fromiter(map(index.get, chain.from_iterable(corpus.labels), repeat(-1)),
                      np.int64, int(given.sum()))  # fmt: skip
    rows, offsets = dictionary.encode(corpus.words)
    return ids, given, rows, offsets, np.fromiter(map(len, corpus.words), np.int64, n)


@dataclass
class Workload:
    """One training run as its workers see it (every array is shared, updated in place).

    Attributes:
        cfg: the options (``seed``, ``lr``, ``epoch``, ``lr_update_rate``, ``loss``).
        data: the encoded examples.
        table: ``W`` (n_rows, d), the input rows.
        out: ``O`` (n_out, d), the output rows.
        loss: the output loss (its Huffman paths or negative sampling).
        workers: how many workers split each epoch.
        void: a row of ``W`` kept at zero (buckets pruned from a model being retrained).
    """

    cfg: SupervisedConfig
    data: Examples
    table: np.ndarray
    out: np.ndarray
    loss: OutputLoss
    workers: int
    void: int | None = None

    def share(self, epoch: int, w: int) -> tuple[np.ndarray, np.random.Generator, np.ndarray]:
        """Worker ``w``'s lines of ``epoch`` in visiting order (n,), its generator, and one
        label per line (n,) (softmax, ns and hs draw one of a multi-label line's labels)."""
        seed, data = self.cfg.seed, self.data
        order = data.kept[np.random.default_rng([seed, epoch]).permutation(len(data.kept))]
        order = np.ascontiguousarray(order[w :: self.workers])
        rng = np.random.default_rng([seed, epoch, w, 1])  # label draws and negatives
        pick = data.label_off[order] + (rng.random(len(order)) * data.n_labels[order]).astype(
            np.int64
        )
        return order, rng, data.label_flat[pick]
