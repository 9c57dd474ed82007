"""Schedules: against torch.optim.lr_scheduler step by step, the maxima, join, the adapter."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from danlu.optim import (
    as_lr_scheduler,
    constant,
    cosine,
    cosine_restarts,
    exponential_decay,
    join,
    linear_decay,
    linear_warmup,
    noam,
    piecewise_linear,
    step_decay,
)

BASE_LR = 0.5


def _optimizer() -> torch.optim.Optimizer:
    return torch.optim.SGD(nn.Linear(2, 1).parameters(), lr=BASE_LR)


def lrs_of(scheduler_factory, steps: int) -> list[float]:
    """Learning rate seen by each of ``steps`` optimizer steps."""
    opt = _optimizer()
    sched = scheduler_factory(opt)
    out = []
    for _ in range(steps):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return out


def assert_same_lrs(ours: list[float], theirs: list[float]) -> None:
    assert len(ours) == len(theirs)
    for t, (a, b) in enumerate(zip(ours, theirs, strict=True)):
        assert a == pytest.approx(b, rel=1e-12, abs=1e-15), f"step {t}"


RESTART_CASES = [(10, 1, 0.0), (10, 2, 0.0), (7, 3, 0.1), (1, 2, 0.0), (5, 1, 0.05), (16, 2, 0.2)]


@pytest.mark.parametrize(("T_0", "T_mult", "min_value"), RESTART_CASES)
def test_cosine_restarts_matches_torch_at_every_step(
    T_0: int, T_mult: int, min_value: float
) -> None:
    steps = 400
    theirs = lrs_of(
        lambda opt: torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(
            opt, T_0=T_0, T_mult=T_mult, eta_min=min_value * BASE_LR
        ),
        steps,
    )
    ours = lrs_of(lambda opt: as_lr_scheduler(opt, cosine_restarts(T_0, T_mult, min_value)), steps)
    assert_same_lrs(ours, theirs)


@pytest.mark.parametrize(("T_0", "T_mult", "min_value"), RESTART_CASES)
def test_cosine_restarts_maxima_land_on_the_restarts(
    T_0: int, T_mult: int, min_value: float
) -> None:
    # Restarts at 0, T_0, T_0 + T_0·T_mult, ... (the notes: cycle i lasts T_0·T_mult^i).
    restarts, start, length = [], 0, T_0
    while start < 300:
        restarts.append(start)
        start, length = start + length, length * T_mult
    s = cosine_restarts(T_0, T_mult, min_value)
    values = [s(t) for t in range(300)]
    assert [t for t in range(300) if values[t] == 1.0] == restarts
    if T_0 > 1:  # a strict local maximum at each restart, the minimum just before it
        assert all(values[t - 1] < values[t] for t in restarts[1:])
        assert all(values[t - 1] == min(values[:t]) for t in restarts[1:] if t < 300)
    assert min(values) >= min_value


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (step_decay(7, 0.5), lambda opt: torch.optim.lr_scheduler.StepLR(opt, 7, gamma=0.5)),
        (exponential_decay(0.97), lambda opt: torch.optim.lr_scheduler.ExponentialLR(opt, 0.97)),
        (
            cosine(50, min_value=0.1),
            lambda opt: torch.optim.lr_scheduler.CosineAnnealingLR(opt, 50, eta_min=0.05),
        ),
        (
            linear_decay(40, min_value=0.2),
            lambda opt: torch.optim.lr_scheduler.LinearLR(opt, 1.0, 0.2, total_iters=40),
        ),
        (
            constant(0.3),
            lambda opt: torch.optim.lr_scheduler.ConstantLR(opt, 0.3, total_iters=10**6),
        ),
    ],
    ids=["step", "exponential", "cosine", "linear", "constant"],
)
def test_matches_the_torch_scheduler(ours, theirs) -> None:
    assert_same_lrs(lrs_of(lambda opt: as_lr_scheduler(opt, ours), 50), lrs_of(theirs, 50))


def test_linear_warmup_values() -> None:
    s = linear_warmup(4)
    assert [s(t) for t in range(7)] == [0.0, 0.25, 0.5, 0.75, 1.0, 1.0, 1.0]
    assert linear_warmup(2, start=0.5)(1) == 0.75


def test_noam_formula_and_peak() -> None:
    d_model, warmup = 512, 4000
    s = noam(d_model, warmup)
    values = [s(t) for t in range(1, 20_000)]
    assert max(range(len(values)), key=values.__getitem__) + 1 == warmup
    assert s(warmup) == pytest.approx(d_model**-0.5 * warmup**-0.5)
    assert s(100) == pytest.approx(d_model**-0.5 * 100 * warmup**-1.5)
    assert s(16_000) == pytest.approx(d_model**-0.5 * 16_000**-0.5)
    assert s(0) == s(1) > 0


def test_piecewise_linear_interpolates_and_holds_the_ends() -> None:
    s = piecewise_linear({1000: 1.0, 2000: 0.1})
    assert s(0) == 1.0 and s(1000) == 1.0 and s(5000) == 0.1
    assert s(1500) == pytest.approx(0.55)
    w = piecewise_linear({0: 0.0, 10: 1.0, 30: 0.0})
    assert [w(t) for t in (0, 5, 10, 20, 30, 40)] == pytest.approx([0, 0.5, 1, 0.5, 0, 0])


def test_join_restarts_each_schedule_at_its_boundary() -> None:
    s = join([linear_warmup(10), cosine(90), constant(0.0)], [10, 100])
    assert s(0) == 0.0 and s(5) == 0.5
    assert s(10) == 1.0  # cosine's step 0
    assert s(55) == pytest.approx(0.5)  # cosine's step 45 of 90
    assert s(99) == pytest.approx((1 + math.cos(math.pi * 89 / 90)) / 2)
    assert s(100) == 0.0 and s(10_000) == 0.0


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: join([constant()], [5]), "1 schedules need 0 boundaries, got 1"),
        (lambda: join([constant(), constant(), constant()], [5, 5]), r"must increase"),
        (lambda: cosine_restarts(0), r"Invalid T_0: 0 \(must be an integer >= 1\)"),
        (lambda: cosine_restarts(10, T_mult=0), r"Invalid T_mult: 0"),
        (lambda: step_decay(0), r"Invalid step_size: 0"),
        (lambda: exponential_decay(0.0), r"Invalid gamma: 0\.0 \(must be > 0\)"),
        (lambda: noam(512, 0), r"Invalid warmup: 0"),
        (lambda: piecewise_linear({}), r"need at least one knot"),
    ],
)
def test_invalid_arguments(build, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build()


def test_as_lr_scheduler_resumes_the_standard_way() -> None:
    schedule = join([linear_warmup(5), cosine_restarts(10, 2)], [5])
    expected = lrs_of(lambda opt: as_lr_scheduler(opt, schedule), 40)

    opt = _optimizer()
    sched = as_lr_scheduler(opt, schedule)
    for _ in range(17):
        opt.step()
        sched.step()
    saved = sched.state_dict()
    assert saved["last_epoch"] == 17

    opt2 = _optimizer()
    sched2 = as_lr_scheduler(opt2, schedule)  # rebuild the same schedule, then load
    sched2.load_state_dict(saved)
    opt2.param_groups[0]["lr"] = sched2.get_last_lr()[0]  # what the optimizer's dict holds
    resumed = []
    for _ in range(17, 40):
        resumed.append(opt2.param_groups[0]["lr"])
        opt2.step()
        sched2.step()
    assert resumed == pytest.approx(expected[17:], rel=1e-12)


def test_one_schedule_per_param_group() -> None:
    model = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 1))
    opt = torch.optim.SGD(
        [{"params": model[0].parameters()}, {"params": model[1].parameters()}], lr=1.0
    )
    sched = as_lr_scheduler(opt, [constant(0.5), step_decay(1, 0.1)])
    opt.step()
    sched.step()
    assert [g["lr"] for g in opt.param_groups] == pytest.approx([0.5, 0.1])
