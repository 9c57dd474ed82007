"""Helpers of the seq2seq claims: the toy translation task, teacher forcing, the end scores."""

from __future__ import annotations

import itertools
import math

import pytest
import torch

from danlu.decoding import SearchResult
from danlu.lab.seq2seq import (
    FIRST,
    _outputs_count,
    end_accuracy,
    outputs,
    phrase_table,
    sample_pairs,
    teacher_forcing,
)
from danlu.tasks.translation.data import BOS, EOS, PAD


def test_phrase_table_is_seeded_and_well_formed() -> None:
    table = phrase_table(words=5, tokens=4, options=3, longest=2, seed=7)
    assert table == phrase_table(words=5, tokens=4, options=3, longest=2, seed=7)
    assert table != phrase_table(words=5, tokens=4, options=3, longest=2, seed=8)
    assert (table.src_vocab, table.tgt_vocab) == (FIRST + 5, FIRST + 4)
    for options, probs in zip(table.phrases, table.probs, strict=True):
        assert len(options) == len(probs) == 3
        assert math.isclose(sum(probs), 1.0)
        assert all(1 <= len(p) <= 2 and all(FIRST <= t < FIRST + 4 for t in p) for p in options)


def test_deterministic_pairs_are_the_phrases_in_order() -> None:
    table = phrase_table(words=6, tokens=5, options=1, longest=3, seed=0)
    sources, targets = sample_pairs(table, 20, 2, 4, torch.Generator().manual_seed(0))
    for src, tgt in zip(sources, targets, strict=True):
        assert 2 <= len(src) <= 4
        assert tgt == [t for w in src for t in table.phrases[w - FIRST][0]]


def test_ambiguous_pairs_follow_the_probabilities() -> None:
    table = phrase_table(words=1, tokens=6, options=2, longest=1, seed=3)
    _, targets = sample_pairs(table, 2000, 1, 1, torch.Generator().manual_seed(1))
    first = table.phrases[0][0]
    share = sum(t == list(first) for t in targets) / len(targets)
    assert share == pytest.approx(table.probs[0][0], abs=0.04)


def test_teacher_forcing_shifts_and_pads() -> None:
    tgt_in, tgt_out = teacher_forcing([[5, 6], [7]])
    assert tgt_in.tolist() == [[BOS, 5, 6], [BOS, 7, PAD]]
    assert tgt_out.tolist() == [[5, 6, EOS], [7, EOS, PAD]]


def test_outputs_drop_eos_and_padding() -> None:
    tokens = torch.tensor([[[5, 6, EOS, PAD]], [[7, 8, 9, 9]]])  # (B, 1, T)
    result = SearchResult(tokens, torch.tensor([[3], [4]]), torch.zeros(2, 1), torch.zeros(2, 1))
    assert outputs(result) == [[5, 6], [7, 8, 9, 9]]


def test_end_accuracy_aligns_each_end() -> None:
    ref = [1, 2, 3, 4, 5, 6]
    assert end_accuracy([[1, 2, 3, 4, 5, 6]], [ref]) == (1.0, 1.0)
    assert end_accuracy([[1, 2, 9, 4, 5, 6, 7]], [ref]) == (1.0, 0.0)  # an extra token at the end
    assert end_accuracy([[0, 2, 3, 5, 6]], [ref]) == (0.5, 1.0)  # one token lost in the middle
    assert end_accuracy([[], [1]], [[1, 2, 3], [1]]) == (0.5, 0.5)


@pytest.mark.parametrize(("vocab", "longest"), [(3, 2), (4, 3), (2, 4)])
def test_outputs_count_matches_enumeration(vocab: int, longest: int) -> None:
    eos = 0
    ending = sum(1 for t in range(1, longest + 1)
                 for seq in itertools.product(range(vocab), repeat=t)
                 if seq[-1] == eos and eos not in seq[:-1])  # fmt: skip
    unfinished = sum(1 for seq in itertools.product(range(vocab), repeat=longest) if eos not in seq)
    assert _outputs_count(vocab, longest) == ending + unfinished
