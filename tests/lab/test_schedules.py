"""Helpers of the schedule claims: where SGDR's maxima are, and where note 000 puts them."""

from __future__ import annotations

import pytest

from danlu.lab.schedules import _torch_multipliers, notes_peaks, restart_peaks, true_peaks
from danlu.optim import cosine_restarts


@pytest.mark.parametrize(("T_0", "T_mult"), [(2, 1), (3, 1), (2, 2), (5, 2), (2, 3), (10, 2)])
def test_the_closed_form_finds_the_restarts_of_danlu_and_torch(T_0, T_mult) -> None:
    schedule = cosine_restarts(T_0, T_mult)
    danlu = [schedule(t) for t in range(200)]
    assert restart_peaks(danlu) == true_peaks(T_0, T_mult, 200)
    assert restart_peaks(_torch_multipliers(T_0, T_mult, 200)) == true_peaks(T_0, T_mult, 200)


def test_true_and_noted_positions() -> None:
    assert true_peaks(2, 2, 40) == [2, 6, 14, 30]
    assert true_peaks(3, 1, 10) == [3, 6, 9]
    assert notes_peaks(3, 1, 10) == [3, 6, 9]  # the note is right when T_mult = 1
    assert notes_peaks(2, 2, 12) == [2, 4, 6, 8, 10]  # T_0 + n·T_mult


def test_restart_peaks_are_the_upward_jumps() -> None:
    assert restart_peaks([1.0, 0.5, 1.0, 0.7, 0.2, 1.0, 1.0]) == [2, 5]
    assert restart_peaks([]) == [] and restart_peaks([1.0]) == []
