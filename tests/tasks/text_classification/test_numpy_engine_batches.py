"""``-engine numpy``'s automatic batch: it trains where fastText's per-example steps train.

A batch sums its examples' updates computed at the same weights. On lines of one word
(Chinese titles left unsegmented, short queries) ``</s>`` is a third of every hidden
vector: batches of 28 drove that row and the output rows to NaN within the first epoch
at ``-lr 0.5``, where per-example steps (the C engine, ``-batch 1``) train (issue 16).
"""

from __future__ import annotations

import numpy as np
import pytest

from danlu.tasks.text_classification.config import SupervisedConfig
from danlu.tasks.text_classification.data import parse_lines
from danlu.tasks.text_classification.dictionary import Dictionary
from danlu.tasks.text_classification.examples import Examples
from danlu.tasks.text_classification.numpy_engine import REFERENCE_SHARE, auto_batch
from danlu.tasks.text_classification.predict import evaluate
from danlu.tasks.text_classification.train import train_supervised_corpus

# one word a line, 70 words a label: rows word, </s>, bigram (word, </s>)
ONE_WORD = [f"__label__{i % 10} k{i % 10}_{i % 700}" for i in range(14_000)]


def _examples(lines: list[str]) -> Examples:
    corpus = parse_lines(lines)
    return Examples(corpus, Dictionary.build(corpus.words, corpus.labels, word_ngrams=2))


def _first_epoch_loss(log: list[str]) -> float:
    (line,) = [x for x in log if x.startswith("epoch 1/")]
    return float(line.split("avg.loss ")[1].split()[0])


def test_max_share_is_the_weight_of_the_most_shared_row() -> None:
    assert _examples(ONE_WORD[:100]).max_share() == pytest.approx(1 / 3)  # </s> of 3 rows
    # "a b": rows a, b, </s>, (a b), (b </s>); "a": a, </s>, (a </s>): </s> weighs 1/5, 1/3
    assert _examples(["__label__x a b", "__label__y a"]).max_share() == pytest.approx(4 / 15)
    # a word twice in every line weighs more than </s>: (2/4 + 2/4) / 2
    lines = ["__label__x w w", "__label__y w w"]
    corpus = parse_lines(lines)
    plain = Examples(corpus, Dictionary.build(corpus.words, corpus.labels))
    assert plain.max_share() == pytest.approx(2 / 3)


def test_auto_batch_shrinks_when_lines_share_their_rows() -> None:
    assert auto_batch(45_000, 0.5, share=REFERENCE_SHARE) == auto_batch(45_000, 0.5) == 64
    assert auto_batch(45_000, 0.5, share=0.01) == 64  # long lines: as before
    assert auto_batch(45_000, 0.5, share=0.274) == 4  # THUCNews titles left unsegmented
    assert auto_batch(45_000, 1.0, loss="ova", share=0.274) == 1
    assert auto_batch(45_000, 0.5, share=0.11) < auto_batch(45_000, 0.5, share=0.06) < 64


@pytest.mark.parametrize(("loss", "lr"), [("softmax", 0.5), ("softmax", 1.0), ("ova", 0.5),
                                          ("ova", 1.0)])  # fmt: skip
def test_numpy_batches_train_one_word_lines_as_per_example_steps_do(loss: str, lr: float) -> None:
    corpus = parse_lines(ONE_WORD)
    first_loss = {}
    for batch in (0, 1):  # automatic; fastText's per-example step (tested equal to C)
        cfg = SupervisedConfig(input="-", output="-", loss=loss, lr=lr, word_ngrams=2, epoch=2,
                               thread=1, engine="numpy", batch_size=batch, verbose=0)  # fmt: skip
        log: list[str] = []
        model = train_supervised_corpus(cfg, corpus, log.append)  # raised TrainingDiverged
        assert np.isfinite(model.output).all() and np.isfinite(model.input).all()
        assert evaluate(model, corpus, 1)[1] == 1.0
        first_loss[batch] = _first_epoch_loss(log)
    # no excursion on the way (a batch of 2 at -loss ova -lr 1 ended at 1.0 from a mean
    # first-epoch loss of 1,886, against 0.39 per example)
    assert first_loss[0] < 1.3 * first_loss[1] + 0.02
