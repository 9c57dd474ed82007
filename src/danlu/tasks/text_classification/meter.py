"""fastText's meter (``model.get_meter(path, k)``): each label's scores against the truth,
and the precision-recall curves built from them.

Over the lines of a labeled file that have at least one known label, with ``pred_k(line)``
the (at most ``k``; -1: all) labels fastText's ``predict`` reports for the line and
``gold(line)`` its known labels (repeats kept, as fastText keeps them)::

    pairs(c)  = [(score(line, c), c in gold(line))  for the lines with c in pred_k(line)]
              + [(-1, 1)                             for each c in gold(line) not predicted]
    golds(c)  = occurrences of c in the gold labels;     all labels: the union, the sum

``score`` is the probability fastText reports, ``min(p + 1e-5, 1)`` as float32
(:func:`reported_log_scores`). ``score_vs_true(label)`` returns a label's pairs sorted by
(score, gold), as two float64 arrays. The curve walks them from the highest score down,
stopping at the first ``-1`` (a gold label never predicted is never reached)::

    tp_i, fp_i = predictions at or above score s_i that are gold, that are not
    (precision_i, recall_i) = (tp_i / (tp_i + fp_i), tp_i / golds)     (golds 0: recall NaN)

where equal scores make one point (the counts after the last of them), the points stop
at the first that reaches ``tp = golds``, and ``(1, 0)`` ends the curve (no pairs above
-1: an empty curve). ``precision_at_recall(r)`` is the largest precision of a point with
``recall >= r``, ``recall_at_precision(p)`` the largest recall of a point with
``precision >= p`` (0.0 when no point qualifies).

As fastText does, a label name is looked up with ``get_label_id``, and the id -1 (an
unknown label, or no label given) means all labels together; a word's id (negative, but
not -1) has no pairs. Where equal scores straddle the ``k``-th place, the labels fastText's
heap keeps are kept (:func:`_heap_kept`; with hs the lower label id). The scores are
danlu's, computed as fastText computes them, and agree with its own to about 3e-7; a tie
that one package's float32 rounding makes and the other's not can add or merge a point of
a curve, and a score on a step of the ova/ns sigmoid table can fall on the other step.
The definitions are those of fastText's ``Meter`` (``src/meter.cc``, v0.9.2).

Example:
    >>> meter = measure(model, "dev.txt")  # doctest: +SKIP
    >>> precision, recall = meter.precision_recall_curve("__label__sports")  # doctest: +SKIP
    >>> meter.recall_at_precision(0.9)  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import chain

import numpy as np

from danlu.tasks.text_classification.data import read_labeled_file
from danlu.tasks.text_classification.losses import sigmoid
from danlu.tasks.text_classification.model import FastTextModel

__all__ = ["Meter", "measure", "reported_log_scores"]

_STD_LOG_EPS = 1e-5  # fastText ranks log(p + 1e-5) and reports its exp
_MAX_SIGMOID, _STEPS = 8.0, 32.0  # fastText's sigmoid table: 32 steps a unit on [-8, 8]
_CHUNK = 8192  # lines scored at a time


def reported_log_scores(model: FastTextModel, lines: Sequence[Sequence[str]]) -> np.ndarray:
    """(L, C) float32: fastText's ranking score ``log(p + 1e-5)`` of each label of each
    tokenized line (``predict`` with threshold 0 reports ``min(exp(.), 1)``), ``-inf`` where
    it reports none.

    - softmax: ``p`` computed in float32 as fastText does (with many labels its sum of
      exponentials, taken in label order, is what differs most from danlu's ``p``);
      danlu's zlpr: the model's ``p``;
    - hs: ``sum_n log(sigmoid(+-s_n) + 1e-5)`` over the tree path, added from the root in
      float32 as fastText's depth-first search does (its ``sigmoid(s) = 1 / (1 + e^-s)``
      with the denominator in float32); a label is not reported when a partial sum falls
      below ``log(1e-5)``;
    - ova, ns: ``p`` is ``sigmoid`` from fastText's table, ``sigmoid(floor(32 (s + 8)) / 32
      - 8)`` on [-8, 8] (0 and 1 outside), the index computed in float32 as there.
    """
    parts = [np.zeros((0, len(model.labels)), np.float32)]
    for start in range(0, len(lines), _CHUNK):
        x = model.logits(lines[start : start + _CHUNK]).astype(np.float32)  # (L, n_out)
        s = x.astype(np.float64)
        if model.loss == "hs":
            paths, codes, mask = model.tree.padded()  # (C, depth), leaf to root
            # fastText's 1. / (1 + exp(-s)): its denominator is a float32 sum
            f = (1.0 / (np.float32(1.0) + np.exp(-x)).astype(np.float64)).astype(np.float32)
            f = f[:, paths]  # (L, C, depth)
            branch = np.where(codes == 1, f, np.float32(1.0) - f).astype(np.float64)
            terms = (np.log(branch + _STD_LOG_EPS) * mask).astype(np.float32)
            # the search adds them from the root down in float32, and gives up on a label
            # as soon as the sum is below log(1e-5)
            partial = np.cumsum(terms[..., ::-1], axis=-1, dtype=np.float32)
            log_p = partial[..., -1]
            log_p[(partial < np.float32(np.log(_STD_LOG_EPS))).any(-1)] = -np.inf
        elif model.loss in ("ova", "ns"):  # the table's index, in float32 as fastText's
            steps = np.floor((x + np.float32(_MAX_SIGMOID)) * np.float32(_STEPS))
            table = sigmoid(steps / _STEPS - _MAX_SIGMOID).astype(np.float32)
            p = np.where(x < -_MAX_SIGMOID, 0.0, np.where(x > _MAX_SIGMOID, 1.0, table))
            log_p = np.log(p + _STD_LOG_EPS)
        elif model.loss == "softmax":  # float32, the exponentials summed in label order
            e = np.exp(x - x.max(axis=1, keepdims=True))
            p = e / np.cumsum(e, axis=1, dtype=np.float32)[:, -1:]
            log_p = np.log(p.astype(np.float64) + _STD_LOG_EPS)
        else:
            log_p = np.log(model.probabilities(s) + _STD_LOG_EPS)
        parts.append(log_p.astype(np.float32))
    return np.concatenate(parts)


def _top_k(logs: np.ndarray, k: int, loss: str) -> np.ndarray:
    """(L, C) bool: the labels fastText's ``predict`` keeps for each line (``logs``: the
    scores of :func:`reported_log_scores`).

    The ``k`` largest; where equal scores straddle the ``k``-th place, fastText's heap
    decides (:func:`_heap_kept`, for the losses that scan the labels in order; hs searches
    its tree, and there the lower label id is kept).
    """
    reported = np.isfinite(logs)
    if k == -1 or k >= logs.shape[1]:
        return reported
    ranked = np.argsort(-logs, axis=1, kind="stable")  # best first, ties: lower id first
    kept = np.zeros_like(reported)
    np.put_along_axis(kept, ranked[:, :k], True, axis=1)
    edge = np.take_along_axis(logs, ranked[:, k - 1 : k + 1], axis=1)
    for line in np.flatnonzero(edge[:, 0] == edge[:, 1]) if loss != "hs" else ():
        kept[line] = False
        kept[line, _heap_kept(logs[line].tolist(), k)] = True
    return kept & reported


def _heap_kept(scores: list[float], k: int) -> list[int]:
    """The labels fastText's ``findKBest`` keeps: it scans them in order, skips a score below
    the heap's least, pushes the others onto a heap of (score, label) by score only
    (libstdc++'s ``push_heap``), and pops the least when it holds ``k + 1``."""
    heap: list[tuple[float, int]] = []
    for i, v in enumerate(scores):
        if len(heap) == k and v < heap[0][0]:
            continue
        heap.append((v, i))
        _sift_up(heap, len(heap) - 1, 0, heap[-1])
        if len(heap) > k:  # pop_heap: the least goes last, the last sinks from the top
            last = heap[-1]
            heap[-1] = heap[0]
            _sift_down(heap, len(heap) - 1, last)
            heap.pop()
    return [i for _, i in heap]


def _sift_up(heap: list, hole: int, top: int, value: tuple[float, int]) -> None:
    """libstdc++'s ``__push_heap``: move ``value`` up from ``hole`` past greater parents."""
    parent = (hole - 1) // 2
    while hole > top and heap[parent][0] > value[0]:
        heap[hole] = heap[parent]
        hole, parent = parent, (parent - 1) // 2
    heap[hole] = value


def _sift_down(heap: list, size: int, value: tuple[float, int]) -> None:
    """libstdc++'s ``__adjust_heap`` from the top over ``heap[:size]``: the hole goes down
    the lesser children to a leaf, then ``value`` moves up from there."""
    hole = child = 0
    while child < (size - 1) // 2:
        child = 2 * (child + 1)
        if heap[child][0] > heap[child - 1][0]:
            child -= 1
        heap[hole] = heap[child]
        hole = child
    if size % 2 == 0 and child == (size - 2) // 2:
        child = 2 * (child + 1)
        heap[hole] = heap[child - 1]
        hole = child - 1
    _sift_up(heap, hole, 0, value)


@dataclass(frozen=True)
class Meter:
    """The pairs of a test file per label and the curves from them (see the module
    docstring); the methods are those of fastText's ``_Meter``.

    Attributes:
        labels: the model's labels; ids index ``pairs`` and ``golds``.
        pairs: per label, (n, 2) float64 (score, gold), sorted.
        golds: (C,) int64, each label's gold occurrences.
        label_id: name -> id as the model's ``get_label_id`` (default: the label's index,
            -1 for any other name).
    """

    labels: tuple[str, ...]
    pairs: tuple[np.ndarray, ...]
    golds: np.ndarray
    label_id: Callable[[str], int] | None = field(default=None, repr=False)

    def _id(self, label: str | None) -> int:
        if not label:  # fastText's `if label:`: None or "" is all labels
            return -1
        if self.label_id is not None:
            return int(self.label_id(label))
        return self.labels.index(label) if label in self.labels else -1

    def _pairs(self, label_id: int) -> np.ndarray:
        if label_id == -1:
            every = np.concatenate([np.zeros((0, 2)), *self.pairs])
            return every[np.lexsort((every[:, 1], every[:, 0]))]
        if 0 <= label_id < len(self.pairs):
            return self.pairs[label_id]
        return np.zeros((0, 2))

    def score_vs_true(self, label: str) -> tuple[np.ndarray, np.ndarray]:
        """(scores, gold 0/1), float64, sorted by (score, gold); ``-1`` scores a gold label
        that was not predicted."""
        pairs = self._pairs(self._id(label))
        return pairs[:, 0].copy(), pairs[:, 1].copy()

    def precision_recall_curve(self, label: str | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(precision, recall) float64 arrays from the highest score down, then ``(1, 0)``."""
        label_id = self._id(label)
        if label_id == -1:
            golds = int(self.golds.sum())
        else:  # a word's id: no pairs, so no curve whatever its golds
            golds = int(self.golds[label_id]) if 0 <= label_id < len(self.golds) else 0
        return _curve(self._pairs(label_id), golds)

    def precision_at_recall(self, recall: float, label: str | None = None) -> float:
        """The best precision of the curve's points with at least ``recall`` (else 0.0)."""
        precision, rec = self.precision_recall_curve(label)
        return float(np.max(precision[rec >= recall], initial=0.0))

    def recall_at_precision(self, precision: float, label: str | None = None) -> float:
        """The best recall of the curve's points with at least ``precision`` (else 0.0)."""
        prec, recall = self.precision_recall_curve(label)
        return float(np.max(recall[(prec >= precision) & ~np.isnan(recall)], initial=0.0))


def _curve(pairs: np.ndarray, golds: int) -> tuple[np.ndarray, np.ndarray]:
    """fastText's precision-recall curve of sorted (score, gold) pairs (module docstring)."""
    desc = pairs[::-1]
    desc = desc[desc[:, 0] >= 0]  # the -1 of unpredicted gold labels: never reached
    if not len(desc):
        return np.zeros(0), np.zeros(0)
    tp = np.cumsum(desc[:, 1] == 1.0).astype(np.float64)
    fp = np.cumsum(desc[:, 1] != 1.0).astype(np.float64)
    last = np.append(desc[1:, 0] != desc[:-1, 0], True)  # one point per run of equal scores
    tp, fp = tp[last], fp[last]
    stop = int(np.searchsorted(tp, golds, side="left")) + 1  # through the first full recall
    tp, fp = tp[:stop], fp[:stop]
    recall = tp / golds if golds else np.full_like(tp, np.nan)
    return np.append(tp / (tp + fp), 1.0), np.append(recall, 0.0)


def measure(
    model: FastTextModel, path: str, k: int = -1, label_id: Callable[[str], int] | None = None
) -> Meter:
    """The :class:`Meter` of ``model`` on the labeled file ``path`` with the top ``k``
    predictions of each line (-1: every label fastText reports).

    Raises:
        ValueError: ``k`` is neither -1 nor >= 1 (fastText: "k needs to be 1 or higher!").
        UsageError: the model holds word vectors, not a classifier.
    """
    if k != -1 and k < 1:
        raise ValueError(f"k must be >= 1, or -1 for every label; got {k}")
    model.check_predicts()
    corpus = read_labeled_file(path, model.args.get("label", "__label__"), model.tokenizer)
    index = {label: i for i, label in enumerate(model.labels)}
    texts, gold_ids = [], []
    for words, labels in zip(corpus.words, corpus.labels, strict=True):
        known = [index[x] for x in labels if x in index]
        if known:  # fastText's test skips a line without a known label
            texts.append(words)
            gold_ids.append(known)
    n_labels = len(model.labels)
    logs = reported_log_scores(model, texts)  # (L, C)
    predicted = _top_k(logs, k, model.loss)
    scores = np.minimum(np.exp(logs), np.float32(1.0))  # what fastText reports, float32
    gold = np.zeros((len(texts), n_labels), np.int64)  # occurrences of each gold label
    rows = np.repeat(np.arange(len(texts)), [len(g) for g in gold_ids])
    np.add.at(gold, (rows, np.fromiter(chain.from_iterable(gold_ids), np.int64, len(rows))), 1)
    pairs = []
    for c in range(n_labels):
        hit = predicted[:, c]
        misses = int(gold[~hit, c].sum())
        found = np.stack([scores[hit, c], gold[hit, c] > 0], axis=1).astype(np.float64)
        both = np.concatenate([found, np.tile([-1.0, 1.0], (misses, 1))])
        pairs.append(both[np.lexsort((both[:, 1], both[:, 0]))])
    return Meter(tuple(model.labels), tuple(pairs), gold.sum(axis=0), label_id)
