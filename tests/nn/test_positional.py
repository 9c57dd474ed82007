"""Positional-encoding modules add the right table, train, and refuse long inputs."""

from __future__ import annotations

import pytest
import torch

from danlu.functional.positional import sinusoidal_encoding
from danlu.nn.positional import LearnedPositionalEncoding, SinusoidalPositionalEncoding


def test_sinusoidal_adds_the_table_and_is_not_saved() -> None:
    enc = SinusoidalPositionalEncoding(8, max_len=50)
    x = torch.randn(2, 10, 8)
    torch.testing.assert_close(enc(x), x + sinusoidal_encoding(10, 8))
    assert "pe" not in enc.state_dict() and not list(enc.parameters())
    assert enc(x.double()).dtype == torch.float64


def test_learned_encoding_is_a_trained_parameter() -> None:
    torch.manual_seed(0)
    enc = LearnedPositionalEncoding(4, max_len=6)
    x = torch.zeros(3, 5, 4)
    torch.testing.assert_close(enc(x), enc.weight[:5].expand(3, 5, 4))
    enc(x).pow(2).sum().backward()
    assert enc.weight.grad is not None
    assert enc.weight.grad[:5].abs().sum() > 0 and torch.all(enc.weight.grad[5] == 0)


@pytest.mark.parametrize("cls", [SinusoidalPositionalEncoding, LearnedPositionalEncoding])
def test_too_long_or_wrong_width_raises_with_fix(cls) -> None:
    enc = cls(4, max_len=6)
    with pytest.raises(ValueError, match=r"sequence length 7 exceeds max_len=6.*max_len>=7"):
        enc(torch.zeros(1, 7, 4))
    with pytest.raises(ValueError, match=r"expects x of shape \(B, T, 4\), got \(1, 3, 5\)"):
        enc(torch.zeros(1, 3, 5))


def test_dropout_only_in_training() -> None:
    enc = SinusoidalPositionalEncoding(8, max_len=20, dropout=0.5)
    x = torch.ones(4, 10, 8)
    assert (enc(x) == 0).any()
    enc.eval()
    torch.testing.assert_close(enc(x), x + sinusoidal_encoding(10, 8))
