"""Incremental decoding (``start``/``step``) equals the teacher-forced forward, for every
model; reordering rows with ``select_rows`` and padding the source change nothing."""

from __future__ import annotations

import pytest
import torch
from tests.nn.seq2seq.conftest import CASES, build, padded_sources, targets

from danlu.decoding.state import select_rows
from danlu.errors import UsageError

TOL = {"atol": 1e-10, "rtol": 0.0}
STEPS = 6


@pytest.mark.parametrize("case", CASES)
def test_step_by_step_equals_the_teacher_forced_forward(case: str) -> None:
    model = build(case)
    src, mask = padded_sources()
    tgt = targets(4, STEPS)
    with torch.no_grad():
        expected = model(src, mask, tgt).log_softmax(-1)  # (B, T, V), the whole prefix at once
        state = model.start(src, mask)
        for t in range(STEPS):
            log_probs, state = model.step(state, tgt[:, t])
            torch.testing.assert_close(log_probs, expected[:, t], **TOL)
    assert torch.allclose(log_probs.exp().sum(-1), torch.ones(4, dtype=torch.float64))


@pytest.mark.parametrize("case", CASES)
def test_decoding_in_chunks_continues_from_the_state(case: str) -> None:
    """``decode`` of 2 tokens, then of 4 more from the state it returns, equals 6 at once."""
    model = build(case)
    src, mask = padded_sources()
    tgt = targets(4, STEPS)
    with torch.no_grad():
        whole, _ = model.decode(model.start(src, mask), tgt)
        first, state = model.decode(model.start(src, mask), tgt[:, :2])
        rest, _ = model.decode(state, tgt[:, 2:])
    torch.testing.assert_close(torch.cat([first, rest], 1), whole, **TOL)


@pytest.mark.parametrize("case", CASES)
def test_select_rows_equals_decoding_the_selected_rows_alone(case: str) -> None:
    model = build(case)
    src, mask = padded_sources()
    tgt = targets(4, 4)
    index = torch.tensor([2, 0, 0, 3, 1])  # reorder, repeat (beams) and drop nothing
    with torch.no_grad():
        state = model.start(src, mask)
        for t in range(3):
            _, state = model.step(state, tgt[:, t])
        reordered, _ = model.step(select_rows(state, index), tgt[index, 3])
        alone = model.start(src[index], mask[index])
        for t in range(3):
            _, alone = model.step(alone, tgt[index, t])
        expected, _ = model.step(alone, tgt[index, 3])
    torch.testing.assert_close(reordered, expected, **TOL)


@pytest.mark.parametrize("case", CASES)
def test_source_padding_never_changes_a_sentence(case: str) -> None:
    model = build(case)
    src, mask = padded_sources()
    tgt = targets(4, STEPS)
    wider = torch.cat([src, torch.zeros(4, 3, dtype=src.dtype)], 1)  # 3 more padding columns
    with torch.no_grad():
        batch = model(src, mask, tgt)
        torch.testing.assert_close(model(wider, wider != 0, tgt), batch, **TOL)
        for row in range(4):
            n = int(mask[row].sum())
            alone = model(src[row : row + 1, :n], mask[row : row + 1, :n], tgt[row : row + 1])
            torch.testing.assert_close(alone, batch[row : row + 1], **TOL)


@pytest.mark.parametrize("case", [c for c in CASES if CASES[c][0] != "gru"])
def test_attention_weights_are_an_alignment_over_the_real_source_tokens(case: str) -> None:
    model = build(case)
    src, mask = padded_sources()
    tgt = targets(4, STEPS)
    with torch.no_grad():
        weights = model.attention_weights(src, mask, tgt)
    if CASES[case][0] == "transformer":  # (B, layers, heads, T, S)
        assert weights.shape == (4, 2, 2, STEPS, 5)
        weights = weights.flatten(1, 2)
    else:  # (B, T, S)
        assert weights.shape == (4, STEPS, 5)
        weights = weights[:, None]
    ones = torch.ones(weights.shape[:-1], dtype=torch.float64)
    torch.testing.assert_close(weights.sum(-1), ones)
    assert (weights.masked_select(~mask[:, None, None, :]) == 0).all()


def test_gru_without_attention_says_it_has_no_alignment() -> None:
    src, mask = padded_sources()
    with pytest.raises(UsageError, match=r"no attention.*gru_attn or transformer"):
        build("gru").attention_weights(src, mask, targets(4, 2))
