"""Prediction and evaluation as fastText does them: P@k, R@k, per-label scores.

Over the lines with at least one known label (micro-averaged)::

    P@k = sum_lines |pred_k ∩ gold| / sum_lines |pred_k|
    R@k = sum_lines |pred_k ∩ gold| / sum_lines |gold|

where ``pred_k`` are the (at most ``k``) labels whose probability reaches the threshold.

``danlu predict`` answers a batch of lines at a time: a file by name in slices of
:data:`BATCH` lines, standard input in batches of the lines that have arrived (a file or a
pipe full of lines is batched, a line typed or written by a program that waits is
answered at once).

Example:
    >>> n, p, r = evaluate(model, read_labeled_file("dev.txt"), k=1)  # doctest: +SKIP
    >>> predict_stream(model, stdin_batches(BATCH), 1, 0.0, with_prob=False)  # doctest: +SKIP
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from itertools import chain, repeat
from typing import TextIO

import numpy as np

from danlu.tasks.text_classification.classifier import Classifier
from danlu.tasks.text_classification.data import (
    LabeledCorpus,
    ascii_spaces,
    get_tokenizer,
    parse_line,
    read_labeled_file,
)
from danlu.tasks.text_classification.model import FastTextModel
from danlu.tasks.text_classification.plain_text import PlainLines, plain_lines

__all__ = [
    "Confusion",
    "confusion",
    "evaluate",
    "file_batches",
    "format_prediction",
    "format_test",
    "format_test_label",
    "predict_stream",
    "test_file",
    "test_label_file",
]

BATCH = 4096  # lines predicted together


@dataclass(frozen=True)
class Confusion:
    """What a test counts, per label, over the ``n`` lines with at least one known label:
    how often it was predicted, predicted rightly (it is among the line's gold labels), and
    how often it is a gold label (repeats in a line count)."""

    n: int
    predicted: np.ndarray  # int64 (C,)
    correct: np.ndarray  # int64 (C,)
    gold: np.ndarray  # int64 (C,)


def confusion(
    model: Classifier, corpus: LabeledCorpus, k: int = 1, threshold: float = 0.0,
    whitespace: bool = False,
) -> Confusion:  # fmt: skip
    """The :class:`Confusion` of ``model``'s top-``k`` labels on a read corpus
    (``whitespace``: its tokens come from the whitespace tokenizer, which lets the
    fastText model look them up in C, :class:`plain_text.PlainLines`).

    A prediction is right when ``line * C + label`` is among the lines' ``line * C +
    gold label`` keys: one ``np.isin`` for the whole corpus.
    """
    n_labels = len(model.labels)
    index = {label: i for i, label in enumerate(model.labels)}
    per_line = np.fromiter(map(len, corpus.labels), np.int64, len(corpus.labels))
    gold = np.fromiter(map(index.get, chain.from_iterable(corpus.labels), repeat(-1)),
                       np.int64, int(per_line.sum()))  # fmt: skip
    line_of = np.repeat(np.arange(len(per_line)), per_line)[gold >= 0]
    gold = gold[gold >= 0]
    kept = np.unique(line_of)  # the lines with a known label (fastText skips the others)
    texts = (corpus.words if len(kept) == len(corpus.words)
             else [corpus.words[i] for i in kept.tolist()])  # fmt: skip
    if whitespace:  # only where str.split gives the same tokens back (ASCII spaces only)
        joined = PlainLines.joined(texts)
        if ascii_spaces("\n".join(joined.texts)):
            texts = joined
    top, _ = model.predict_topk(texts, k, threshold)  # (n, k'), -1: below the threshold
    pred_line = np.repeat(np.arange(len(kept)), top.shape[1])
    pred = top.ravel()
    pred_line, pred = pred_line[pred >= 0], pred[pred >= 0]
    gold_keys = np.searchsorted(kept, line_of) * n_labels + gold
    right = np.isin(pred_line * n_labels + pred, gold_keys)
    count = partial(np.bincount, minlength=n_labels)
    return Confusion(len(kept), count(pred), count(pred[right]), count(gold))


def evaluate(
    model: Classifier, corpus: LabeledCorpus, k: int = 1, threshold: float = 0.0,
    whitespace: bool = False,
) -> tuple[int, float, float]:  # fmt: skip
    """(N, P@k, R@k) of ``model`` on a read corpus (see the module docstring and
    :func:`confusion`)."""
    c = confusion(model, corpus, k, threshold, whitespace)
    tp, npred, ngold = int(c.correct.sum()), int(c.predicted.sum()), int(c.gold.sum())
    return c.n, (tp / npred if npred else float("nan")), (tp / ngold if ngold else float("nan"))


def test_file(
    model: FastTextModel, path: str, k: int = 1, threshold: float = 0.0
) -> tuple[int, float, float]:
    """(N, P@k, R@k) on a labeled file."""
    corpus = read_labeled_file(path, model.args.get("label", "__label__"), model.tokenizer)
    return evaluate(model, corpus, k, threshold, model.tokenizer == "whitespace")


def test_label_file(
    model: FastTextModel, path: str, k: int = 1, threshold: float = 0.0
) -> dict[str, dict[str, float]]:
    """Per label: ``{"precision", "recall", "f1score"}`` (fastText's ``test_label``)."""
    corpus = read_labeled_file(path, model.args.get("label", "__label__"), model.tokenizer)
    c = confusion(model, corpus, k, threshold, model.tokenizer == "whitespace")
    out: dict[str, dict[str, float]] = {}
    for label, tp, npred, ngold in zip(model.labels, c.correct.tolist(), c.predicted.tolist(),
                                       c.gold.tolist(), strict=True):  # fmt: skip
        p = tp / npred if npred else float("nan")
        r = tp / ngold if ngold else float("nan")
        f1 = 2 * tp / (npred + ngold) if npred + ngold else float("nan")
        out[label] = {"precision": p, "recall": r, "f1score": f1}
    return out


def format_test(n: int, p: float, r: float, k: int) -> str:
    """fastText's ``test`` output: ``N``, ``P@k``, ``R@k`` (3 significant digits)."""
    return f"N\t{n}\nP@{k}\t{p:.3g}\nR@{k}\t{r:.3g}"


def format_test_label(scores: dict[str, dict[str, float]]) -> str:
    """fastText's ``test-label`` lines: F1, precision and recall of each label."""
    return "\n".join(
        f"F1-Score : {s['f1score']:.6f}  Precision : {s['precision']:.6f}  "
        f"Recall : {s['recall']:.6f}   {label}"
        for label, s in scores.items()
    )


def format_prediction(pred: list[tuple[str, float]], with_prob: bool) -> str:
    """One output line of ``predict`` (labels) or ``predict-prob`` (label probability)."""
    if with_prob:
        return " ".join(f"{label} {p:.6g}" for label, p in pred)
    return " ".join(label for label, _ in pred)


def predict_stream(
    model: FastTextModel,
    batches: Iterable[Sequence[str]],
    k: int,
    threshold: float,
    with_prob: bool,
    out: TextIO | None = None,
) -> int:
    """Predict each batch of lines, write one answer per line and flush; returns the
    number of lines.

    Answers leave a batch at a time: :func:`file_batches` for a file read whole,
    :func:`danlu.io.text.stdin_batches` for the lines of standard input that have
    arrived.
    """
    stream = sys.stdout if out is None else out
    tokenize = get_tokenizer(model.tokenizer)
    prefix = model.args.get("label", "__label__")
    n = 0
    for batch in batches:
        plain = plain_lines(batch, prefix) if model.tokenizer == "whitespace" else None
        texts = plain if plain is not None else [parse_line(x, prefix, tokenize)[0] for x in batch]
        stream.write("".join(format_prediction(pred, with_prob) + "\n"
                             for pred in model.predict_tokens(texts, k, threshold)))  # fmt: skip
        stream.flush()
        n += len(texts)
    return n


def file_batches(lines: Sequence[str], size: int = BATCH) -> Iterator[Sequence[str]]:
    """``lines`` in slices of ``size``."""
    for i in range(0, len(lines), size):
        yield lines[i : i + size]
