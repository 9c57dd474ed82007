"""SIGHAN word-level scores, checked against hand-computed values."""

from __future__ import annotations

import pytest

from danlu.metrics.segmentation import segmentation_scores, word_spans


def test_word_spans() -> None:
    assert word_spans(["我们", "爱", "北京"]) == [(0, 2), (2, 3), (3, 5)]


def test_scores_by_hand() -> None:
    gold = [["我们", "爱", "北京", "天安门"], ["他", "说"]]
    pred = [["我们", "爱北京", "天安", "门"], ["他", "说"]]
    s = segmentation_scores(gold, pred, train_vocab={"我们", "爱", "他", "说", "北京"})
    # correct: 我们, 他, 说 = 3; pred 6 words, gold 6 words
    assert s["correct"] == 3 and s["pred_words"] == 6 and s["gold_words"] == 6
    assert s["precision"] == pytest.approx(0.5) and s["recall"] == pytest.approx(0.5)
    assert s["f1"] == pytest.approx(0.5)
    # OOV: 天安门 (missed) -> rate 1/6, OOV recall 0; IV: 我们 爱 北京 他 说 -> 3 of 5
    assert s["oov_rate"] == pytest.approx(1 / 6)
    assert s["oov_recall"] == 0.0
    assert s["iv_recall"] == pytest.approx(3 / 5)


def test_perfect_and_no_vocab() -> None:
    s = segmentation_scores([["a", "bc"]], [["a", "bc"]])
    assert s["f1"] == 1.0 and "oov_recall" not in s


def test_different_texts_are_an_error() -> None:
    with pytest.raises(ValueError, match="different texts"):
        segmentation_scores([["ab"]], [["ac"]])
