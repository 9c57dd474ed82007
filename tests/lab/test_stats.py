"""The lab's summaries: mean and sd over seeds, "in at least k of n seeds"."""

from __future__ import annotations

import pytest

from danlu.lab.stats import at_least, mean_sd


@pytest.mark.parametrize(("flags", "fraction", "expected"), [
    ([True] * 4 + [False], 0.8, True), ([True] * 3 + [False] * 2, 0.8, False),
    ([True], 0.8, True), ([False], 0.8, False), ([True] * 3 + [False] * 2, 0.6, True),
    ([], 0.8, False),
])  # fmt: skip
def test_at_least(flags: list[bool], fraction: float, expected: bool) -> None:
    assert at_least(flags, fraction) is expected


def test_at_least_defaults_to_four_of_five() -> None:
    assert at_least([True, True, True, True, False]) and not at_least([True] * 3 + [False] * 2)
    assert at_least([True, True, True]) and not at_least([True, True, False])
    assert at_least([True]) and not at_least([False])


def test_mean_sd_is_the_sample_sd() -> None:
    assert mean_sd([1.0, 2.0, 3.0]) == (2.0, 1.0)
    assert mean_sd([5.0]) == (5.0, 0.0)
