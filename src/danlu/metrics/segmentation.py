"""Word segmentation scores as in the SIGHAN bakeoffs: word-level P/R/F1 and OOV recall.

A segmentation of a sentence is the set of its words as character spans ``[start, end)``.
A predicted word is correct when the gold segmentation has the same span. Over a corpus,

    precision = #correct / #predicted words,   recall = #correct / #gold words,
    F1 = 2PR / (P + R).

The OOV rate is the share of gold words not in the training vocabulary; OOV recall is the
recall over those words only, IV recall over the others (the bakeoff scorer's
``OOV Recall Rate`` / ``IV Recall Rate``).

Example:
    >>> s = segmentation_scores([["我们", "爱", "北京"]], [["我们", "爱北京"]])
    >>> round(s["precision"], 3), round(s["recall"], 3)
    (0.5, 0.333)
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from typing import Any

__all__ = ["segmentation_scores", "word_spans"]


def word_spans(words: Iterable[str]) -> list[tuple[int, int]]:
    """Character spans ``(start, end)`` of consecutive words: ``["ab", "c"] -> [(0,2),(2,3)]``."""
    spans, pos = [], 0
    for w in words:
        spans.append((pos, pos + len(w)))
        pos += len(w)
    return spans


def segmentation_scores(
    gold: Sequence[Sequence[str]],
    pred: Sequence[Sequence[str]],
    train_vocab: Collection[str] | None = None,
) -> dict[str, Any]:
    """Word-level precision, recall, F1 (and OOV/IV recall when ``train_vocab`` is given).

    Args:
        gold: gold words per sentence.
        pred: predicted words per sentence; each must join to the same text as its gold.
        train_vocab: the words of the training data, for OOV statistics.

    Returns:
        ``{precision, recall, f1, gold_words, pred_words, correct}`` plus ``oov_rate``,
        ``oov_recall``, ``iv_recall`` with a vocabulary (``oov_recall`` is 0 without OOV words).

    Raises:
        ValueError: different numbers of sentences, or a sentence whose texts differ.
    """
    if len(gold) != len(pred):
        raise ValueError(f"{len(gold)} gold sentences but {len(pred)} predicted ones")
    correct = n_gold = n_pred = 0
    oov = oov_hit = iv = iv_hit = 0
    for i, (g, p) in enumerate(zip(gold, pred, strict=True)):
        if "".join(g) != "".join(p):
            raise ValueError(
                f"sentence {i}: gold and predicted words spell different texts: "
                f"{''.join(g)[:40]!r} vs {''.join(p)[:40]!r}"
            )
        p_spans = set(word_spans(p))
        n_gold += len(g)
        n_pred += len(p)
        for word, span in zip(g, word_spans(g), strict=True):
            hit = span in p_spans
            correct += hit
            if train_vocab is not None:
                if word in train_vocab:
                    iv, iv_hit = iv + 1, iv_hit + hit
                else:
                    oov, oov_hit = oov + 1, oov_hit + hit
    precision = correct / n_pred if n_pred else 0.0
    recall = correct / n_gold if n_gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    result: dict[str, Any] = {
        "precision": precision, "recall": recall, "f1": f1,
        "gold_words": n_gold, "pred_words": n_pred, "correct": correct,
    }  # fmt: skip
    if train_vocab is not None:
        result["oov_rate"] = oov / n_gold if n_gold else 0.0
        result["oov_recall"] = oov_hit / oov if oov else 0.0
        result["iv_recall"] = iv_hit / iv if iv else 0.0
    return result
