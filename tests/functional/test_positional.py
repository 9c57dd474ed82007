"""Sinusoidal positional encoding against the paper's formula, entry by entry."""

from __future__ import annotations

import math

import pytest
import torch

from danlu.functional.positional import sinusoidal_encoding


@pytest.mark.parametrize("d_model", [8, 7, 1])
def test_matches_the_formula_entry_by_entry(d_model: int) -> None:
    pe = sinusoidal_encoding(20, d_model, dtype=torch.float64)
    assert pe.shape == (20, d_model)
    for pos in range(20):
        for col in range(d_model):
            angle = pos / 10000 ** ((col - col % 2) / d_model)
            expect = math.sin(angle) if col % 2 == 0 else math.cos(angle)
            assert pe[pos, col].item() == pytest.approx(expect, abs=1e-12)


def test_relative_positions_are_rotations() -> None:
    """PE[pos + k] is the same linear map (a block rotation) of PE[pos] for every pos."""
    d, k = 6, 3
    pe = sinusoidal_encoding(40, d, dtype=torch.float64)
    # Solve PE[pos + k] = PE[pos] @ M on positions 0..19, check it on 20..36.
    m = torch.linalg.lstsq(pe[:20], pe[k : 20 + k]).solution
    torch.testing.assert_close(pe[20:37] @ m, pe[20 + k : 37 + k])


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match=r"d_model >= 1, got max_len=5, d_model=0"):
        sinusoidal_encoding(5, 0)
    with pytest.raises(ValueError, match=r"base must be > 0, got -1"):
        sinusoidal_encoding(5, 4, base=-1)
