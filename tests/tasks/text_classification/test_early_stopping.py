"""``-validation FILE -patience N`` of the fastText model (danlu.train's EarlyStopping)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from tests.tasks.text_classification.conftest import TOY_LINES

from danlu.errors import UsageError
from danlu.tasks.text_classification.config import SupervisedConfig
from danlu.tasks.text_classification.data import parse_lines
from danlu.tasks.text_classification.model import FastTextModel
from danlu.tasks.text_classification.predict import evaluate
from danlu.tasks.text_classification.train import train_fasttext


def _validated_epochs(data: Path, patience: int) -> tuple[list[str], FastTextModel]:
    cfg = SupervisedConfig(input=str(data), output="", validation=str(data), epoch=6,
                           patience=patience, lr=0.5, thread=1, verbose=0)  # fmt: skip
    log: list[str] = []
    model = train_fasttext(cfg, log.append)
    return [line for line in log if "validation P@1" in line], model


def test_stops_after_patience_epochs_without_gain_and_keeps_the_best(toy_data) -> None:
    # P@1 is 1 after the first epoch and cannot rise: two more epochs, then stop
    seen, model = _validated_epochs(toy_data, patience=2)
    assert len(seen) == 3 and seen[0].endswith("validation P@1 1.0000")
    assert evaluate(model, parse_lines(TOY_LINES), 1)[1] == 1.0


def test_patience_zero_never_stops(toy_data) -> None:
    seen, _ = _validated_epochs(toy_data, patience=0)
    assert len(seen) == 6


def test_negative_patience_is_refused() -> None:
    with pytest.raises(UsageError, match="-patience must be >= 0"):
        SupervisedConfig(input="t", output="m", patience=-1)


def test_the_best_epoch_is_restored(toy_data, monkeypatch) -> None:
    """The weights returned are those of the best validation epoch, not the last."""
    from danlu.tasks.text_classification import train

    scores = iter([0.5, 0.9, 0.7, 0.6])
    snapshots: list[np.ndarray] = []

    def fake_evaluate(model, corpus, k):
        snapshots.append(model.output.copy())
        return 0, next(scores), 0.0

    monkeypatch.setattr(train, "evaluate", fake_evaluate)
    cfg = SupervisedConfig(input=str(toy_data), output="", validation=str(toy_data), epoch=4,
                           patience=5, lr=0.5, thread=1, verbose=0)  # fmt: skip
    model = train_fasttext(cfg)
    assert len(snapshots) == 4
    np.testing.assert_array_equal(model.output, snapshots[1])  # P@1 0.9, the second epoch
