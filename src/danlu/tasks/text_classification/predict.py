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
from typing import TextIO

from danlu.tasks.text_classification.data import (
    LabeledCorpus,
    get_tokenizer,
    parse_line,
    read_labeled_file,
)
from danlu.tasks.text_classification.model import FastTextModel

__all__ = [
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


def evaluate(
    model: FastTextModel, corpus: LabeledCorpus, k: int = 1, threshold: float = 0.0
) -> tuple[int, float, float]:
    """(N, P@k, R@k) of ``model`` on a read corpus (see the module docstring)."""
    counts = _confusion(model, corpus, k, threshold)
    n, tp, npred, ngold = counts["_n"], counts["_tp"], counts["_npred"], counts["_ngold"]
    return n, (tp / npred if npred else float("nan")), (tp / ngold if ngold else float("nan"))


def _confusion(
    model: FastTextModel, corpus: LabeledCorpus, k: int, threshold: float
) -> dict[str, int]:
    gold_lines, texts = [], []
    known = set(model.labels)
    for words, labels in zip(corpus.words, corpus.labels, strict=True):
        gold = [x for x in labels if x in known]
        if gold:
            gold_lines.append(gold)
            texts.append(words)
    preds = model.predict_tokens(texts, k, threshold)
    counts: dict[str, int] = {"_n": len(texts), "_tp": 0, "_npred": 0, "_ngold": 0}
    for gold, pred in zip(gold_lines, preds, strict=True):
        gold_set = set(gold)
        counts["_ngold"] += len(gold)
        counts["_npred"] += len(pred)
        for label, _ in pred:
            hit = label in gold_set
            counts["_tp"] += hit
            counts[f"pred:{label}"] = counts.get(f"pred:{label}", 0) + 1
            counts[f"tp:{label}"] = counts.get(f"tp:{label}", 0) + hit
        for label in gold:
            counts[f"gold:{label}"] = counts.get(f"gold:{label}", 0) + 1
    return counts


def test_file(
    model: FastTextModel, path: str, k: int = 1, threshold: float = 0.0
) -> tuple[int, float, float]:
    """(N, P@k, R@k) on a labeled file."""
    corpus = read_labeled_file(path, model.args.get("label", "__label__"), model.tokenizer)
    return evaluate(model, corpus, k, threshold)


def test_label_file(
    model: FastTextModel, path: str, k: int = 1, threshold: float = 0.0
) -> dict[str, dict[str, float]]:
    """Per label: ``{"precision", "recall", "f1score"}`` (fastText's ``test_label``)."""
    corpus = read_labeled_file(path, model.args.get("label", "__label__"), model.tokenizer)
    counts = _confusion(model, corpus, k, threshold)
    out: dict[str, dict[str, float]] = {}
    for label in model.labels:
        tp = counts.get(f"tp:{label}", 0)
        npred, ngold = counts.get(f"pred:{label}", 0), counts.get(f"gold:{label}", 0)
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
        texts = [parse_line(line, prefix, tokenize)[0] for line in batch]
        stream.write("".join(format_prediction(pred, with_prob) + "\n"
                             for pred in model.predict_tokens(texts, k, threshold)))  # fmt: skip
        stream.flush()
        n += len(texts)
    return n


def file_batches(lines: Sequence[str], size: int = BATCH) -> Iterator[Sequence[str]]:
    """``lines`` in slices of ``size``."""
    for i in range(0, len(lines), size):
        yield lines[i : i + size]
