"""The next-token constraints against plain-Python definitions."""

from __future__ import annotations

import pytest
import torch

from danlu.decoding import apply_constraints, banned_ngram_tokens


def banned_by_definition(row: list[int], n: int, vocab: int) -> set[int]:
    """Tokens w such that (row[-(n-1):], w) is an n-gram that already occurs in row."""
    if len(row) < n:
        return set()
    grams = {tuple(row[i : i + n]) for i in range(len(row) - n + 1)}
    suffix = tuple(row[len(row) - n + 1 :]) if n > 1 else ()
    return {w for w in range(vocab) if (*suffix, w) in grams}


@pytest.mark.parametrize("n", [1, 2, 3, 4])
@pytest.mark.parametrize("length", [0, 1, 3, 8])
def test_banned_ngram_tokens_match_the_definition(n: int, length: int) -> None:
    gen = torch.Generator().manual_seed(n * 10 + length)
    vocab = 4
    history = torch.randint(vocab, (50, length), generator=gen)
    banned = banned_ngram_tokens(history, n, vocab)
    for r, row in enumerate(history.tolist()):
        expected = banned_by_definition(row, n, vocab)
        got = set() if banned is None else set(banned[r].nonzero().flatten().tolist())
        assert got == expected


def test_apply_constraints_forbids_eos_up_to_min_len_and_keeps_the_input() -> None:
    log_probs = torch.randn(3, 5).log_softmax(1)
    before = log_probs.clone()
    history = torch.tensor([[1, 2], [1, 2], [3, 4]])
    for position, eos_allowed in ((2, False), (3, True)):
        out = apply_constraints(
            log_probs, history[:, : position - 1], position, eos=0, min_len=2,
            no_repeat_ngram_size=0,
        )  # fmt: skip
        assert bool(torch.isinf(out[:, 0]).all()) != eos_allowed
        torch.testing.assert_close(out[:, 1:], log_probs[:, 1:])
    out = apply_constraints(log_probs, history, 3, eos=0, min_len=0, no_repeat_ngram_size=1)
    assert torch.isinf(out[0, [1, 2]]).all() and torch.isinf(out[2, [3, 4]]).all()
    assert torch.isfinite(out[2, [0, 1, 2]]).all()
    torch.testing.assert_close(log_probs, before)  # never in place
