"""Early stopping bookkeeping (danlu.train.early_stopping)."""

from __future__ import annotations

import pytest

from danlu.errors import UsageError
from danlu.train.early_stopping import EarlyStopping, infer_mode


@pytest.mark.parametrize(
    ("metric", "mode"),
    [("val_loss", "min"), ("val_mse", "min"), ("val_accuracy", "max"), ("val_f1", "max"),
     ("val_r2", "max"), ("bleu", "max")],
)  # fmt: skip
def test_mode_is_inferred_from_the_name(metric: str, mode: str) -> None:
    assert infer_mode(metric) == mode


def test_stops_after_patience_evaluations_without_gain() -> None:
    es = EarlyStopping("val_accuracy", patience=2)
    gains = [
        es.update({"val_accuracy": v}, step=10 * i) for i, v in enumerate([0.5, 0.7, 0.6, 0.7])
    ]
    assert gains == [True, True, False, False]
    assert es.should_stop and es.best == 0.7 and es.best_step == 10


def test_patience_zero_tracks_the_best_but_never_stops() -> None:
    es = EarlyStopping("val_loss", patience=0)
    for i in range(10):
        es.update({"val_loss": 1.0 + i}, step=i)
    assert not es.should_stop and es.best_step == 0


def test_state_dict_round_trip_and_unknown_metric() -> None:
    es = EarlyStopping("val_loss", patience=3)
    es.update({"val_loss": 2.0}, 1)
    es.update({"val_loss": 3.0}, 2)
    other = EarlyStopping("val_loss", patience=3)
    other.load_state_dict(es.state_dict())
    assert (other.best, other.best_step, other.bad_evals) == (2.0, 1, 1)
    with pytest.raises(UsageError, match="valid: val_mse"):
        es.update({"val_mse": 1.0}, 3)
