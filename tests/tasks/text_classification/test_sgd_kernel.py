"""The C step and the Python side name the same things: loss codes, learning-rate decay."""

from __future__ import annotations

import itertools
import re

import pytest

from danlu.tasks.text_classification.config import LOSSES
from danlu.tasks.text_classification.numpy_engine import decayed_lr
from danlu.tasks.text_classification.sgd_kernel import (
    LOSS_CODES,
    SOURCE,
    load,
    unavailable_reason,
)


def test_the_c_loss_enum_is_loss_codes() -> None:
    body = re.search(r"enum\s+Loss\s*\{([^}]*)\}", SOURCE.read_text(encoding="utf-8"))
    assert body is not None, "enum Loss not found in sgd_kernel.c"
    enum = {name.lower(): int(value)
            for name, value in re.findall(r"LOSS_(\w+)\s*=\s*(\d+)", body[1])}  # fmt: skip
    assert enum == LOSS_CODES
    assert list(LOSS_CODES) == list(LOSSES)  # every loss has a code, in the table's order


def test_the_c_step_uses_named_loss_codes_only() -> None:
    assert re.search(r"job->loss\s*==\s*\d", SOURCE.read_text(encoding="utf-8")) is None


def test_decayed_lr_is_fasttexts_schedule() -> None:
    # constant within -lrUpdateRate tokens, linear to 0 at the end, never negative
    assert decayed_lr(0.5, 0, 100, 1000.0) == 0.5
    assert decayed_lr(0.5, 199, 100, 1000.0) == decayed_lr(0.5, 100, 100, 1000.0) == 0.45
    assert decayed_lr(0.5, 1000, 100, 1000.0) == 0.0
    assert decayed_lr(0.5, 1234, 100, 1000.0) == 0.0


@pytest.mark.skipif(load() is None, reason=f"the C step does not build: {unavailable_reason()}")
def test_c_decayed_lr_equals_the_python_one_in_float64() -> None:
    kernel = load()
    assert kernel is not None
    lrs = (0.1, 0.5, 1.7, 1e-3)
    totals = (1.0, 977.0, 4.5e6, 1e12 + 3)
    seens = (0, 1, 99, 100, 101, 12_345, 4_500_000, 10**12 + 7, 2**52 - 1)
    rates = (1, 7, 100, 4096)
    for lr, total, seen, rate in itertools.product(lrs, totals, seens, rates):
        ours = decayed_lr(lr, seen, rate, total)
        assert kernel.decayed_lr(lr, seen, rate, total) == ours, (lr, seen, rate, total)
