"""create_schedule: names, parameters, warm-up, and plot_schedule writing an image."""

from __future__ import annotations

from pathlib import Path

import pytest

from danlu.errors import UsageError
from danlu.optim import (
    cosine,
    cosine_restarts,
    create_schedule,
    noam,
    plot_schedule,
    schedule_names,
    step_decay,
)


def test_names_are_the_table() -> None:
    assert schedule_names() == [
        "constant",
        "step",
        "exponential",
        "linear",
        "cosine",
        "cosine_restarts",
        "noam",
        "piecewise_linear",
    ]


def test_unknown_name_lists_the_valid_ones() -> None:
    with pytest.raises(UsageError) as info:
        create_schedule("cosin", total_steps=100)
    assert "unknown schedule 'cosin'" in str(info.value)
    assert ", ".join(schedule_names()) in str(info.value)


def test_unknown_and_missing_parameters_are_usage_errors() -> None:
    with pytest.raises(UsageError, match=r"does not take T_O; it takes: T_0, T_mult, min_value"):
        create_schedule("cosine_restarts", total_steps=100, T_O=10)
    with pytest.raises(UsageError, match=r"schedule 'step' needs step_size"):
        create_schedule("step", total_steps=100)
    with pytest.raises(UsageError, match=r"does not take gamma; it takes: min_value"):
        create_schedule("cosine", total_steps=100, gamma=0.5)


def test_cosine_restarts_with_warmup_as_the_cli_example() -> None:
    # danlu schedule plot --name cosine_restarts --steps 1000 --T-0 100 --T-mult 2 --warmup 50
    s = create_schedule("cosine_restarts", total_steps=1000, warmup=50, T_0=100, T_mult=2)
    base = cosine_restarts(100, 2)
    assert [s(t) for t in (0, 25)] == [0.0, 0.5]
    assert all(s(t) == base(t - 50) for t in range(50, 1000))
    peaks = [t for t in range(1000) if s(t) == 1.0]
    assert peaks == [50, 150, 350, 750]


def test_decaying_schedules_span_the_steps_after_warmup() -> None:
    s = create_schedule("cosine", total_steps=110, warmup=10, min_value=0.1)
    assert s(10) == 1.0 and s(110) == pytest.approx(0.1)
    assert s(60) == pytest.approx(cosine(100, 0.1)(50))
    lin = create_schedule("linear", total_steps=100)
    assert lin(0) == 1.0 and lin(50) == 0.5 and lin(100) == 0.0


def test_other_names_build_the_matching_schedule() -> None:
    step = create_schedule("step", total_steps=100, step_size=30, gamma=0.5)
    assert [step(t) for t in (0, 29, 30, 90)] == [step_decay(30, 0.5)(t) for t in (0, 29, 30, 90)]
    n = create_schedule("noam", total_steps=10_000, warmup=400, d_model=256)
    assert [n(t) for t in (1, 400, 5000)] == [noam(256, 400)(t) for t in (1, 400, 5000)]
    assert create_schedule("constant", total_steps=5, value=0.2)(3) == 0.2
    assert create_schedule("exponential", total_steps=5, gamma=0.5)(3) == 0.125


def test_piecewise_linear_accepts_a_cli_string() -> None:
    s = create_schedule("piecewise_linear", total_steps=3000, points="0:0, 1000:1,2000:0.1")
    assert s(500) == pytest.approx(0.5) and s(1500) == pytest.approx(0.55) and s(2500) == 0.1
    with pytest.raises(UsageError, match=r"write STEP:VALUE pairs"):
        create_schedule("piecewise_linear", total_steps=10, points="0=1")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(name="cosine", total_steps=0), r"Invalid total_steps: 0"),
        (dict(name="cosine", total_steps=100, warmup=100), r"Invalid warmup: 100"),
        (dict(name="noam", total_steps=100, d_model=64), r"Invalid warmup: 0"),
        (dict(name="cosine_restarts", total_steps=100, T_0=0), r"Invalid T_0: 0"),
    ],
)
def test_invalid_values_are_value_errors(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        create_schedule(**kwargs)


def test_plot_schedule_writes_a_png(tmp_path: Path) -> None:
    path = tmp_path / "lr.png"
    s = create_schedule("cosine_restarts", total_steps=1000, warmup=50, T_0=100, T_mult=2)
    plot_schedule(s, 1000, path, title="cosine_restarts")
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5_000
    with pytest.raises(ValueError, match=r"Invalid steps: 0"):
        plot_schedule(s, 0, tmp_path / "x.png")
