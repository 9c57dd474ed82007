"""Training batches: length groups, padding, BOS/EOS, truncation with one warning."""

from __future__ import annotations

import numpy as np
import pytest

from danlu.tasks.translation.batches import PairData, length_groups, truncate
from danlu.tasks.translation.data import BOS, EOS, PAD


def lengths(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.integers(1, 40, n), rng.integers(1, 40, n)


@pytest.mark.parametrize("parts", [1, 2, 3])
def test_groups_cover_every_pair_once_with_a_sentence_for_every_part(parts) -> None:
    src, tgt = lengths(1025)  # 16 groups of 64 and one of 1
    groups = length_groups(src, tgt, batch_size=64, parts=parts, seed=1)
    assert sorted(np.concatenate(groups).tolist()) == list(range(1025))
    assert min(len(g) for g in groups) >= parts
    assert [len(g) for g in groups] == [64] * 16 + [1] if parts == 1 else [64] * 15 + [65]
    tokens = length_groups(src, tgt, batch_size=1, batch_tokens=40, parts=parts)
    assert min(len(g) for g in tokens) >= parts


def test_groups_hold_similar_lengths_so_batches_carry_little_padding() -> None:
    src, tgt = lengths(2000)
    groups = length_groups(src, tgt, batch_size=64)
    grouped = sum(len(g) * (tgt[g].max() + 1) for g in groups)  # padded target positions
    rng = np.random.default_rng(0).permutation(2000)
    shuffled = sum(len(g) * (tgt[g].max() + 1) for g in np.array_split(rng, len(groups)))
    assert grouped < 0.6 * shuffled and grouped >= (tgt + 1).sum()
    assert length_groups(src, tgt, 64, seed=3)[5].tolist() != groups[5].tolist()  # seeded ties


def test_token_budgets_bound_each_group() -> None:
    src, tgt = lengths(500)
    groups = length_groups(src, tgt, batch_size=1, batch_tokens=300)
    assert all(len(g) * (tgt[g].max() + 1) <= 300 or len(g) == 1 for g in groups)
    assert sorted(np.concatenate(groups).tolist()) == list(range(500))


def test_a_batch_pads_sources_and_teacher_forced_targets() -> None:
    src = [np.array([5, 6, 7]), np.array([8])]
    tgt = [np.array([9]), np.array([10, 11])]
    data = PairData(src, tgt, batch_size=2)
    assert len(data) == 2 and [g.tolist() for g in data.groups] in ([[0, 1]], [[1, 0]])
    assert [b.tolist() for b in data.batches(seed=0).epoch(0)] == [data.groups[0].tolist()]
    assert data.loss_units(np.array([0, 1])) == 2 + 3  # target tokens with EOS
    batch = data.get(np.array([0, 1]))
    rows = {tuple(r) for r in batch.src.tolist()}
    assert rows == {(5, 6, 7), (8, PAD, PAD)}
    rows_of = zip(batch.src.tolist(), batch.tgt_in.tolist(), batch.tgt_out.tolist(), strict=True)
    by_src = {tuple(s): (i, o) for s, i, o in rows_of}
    assert by_src[(5, 6, 7)] == ([BOS, 9, PAD], [9, EOS, PAD])
    assert by_src[(8, PAD, PAD)] == ([BOS, 10, 11], [10, 11, EOS])
    assert batch.src_mask.tolist() == (batch.src != PAD).tolist()


def test_long_sentences_are_cut_with_one_warning(capsys) -> None:
    seqs = [list("abc"), list("abcdefg"), list("ab"), list("abcdef")]
    out = truncate(seqs, 4, "source", [f"f.tsv:{i + 1}" for i in range(4)])
    assert [len(s) for s in out] == [3, 4, 2, 4]
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["warning: f.tsv:2: source of 7 tokens is longer than --max-len 4; "
                   "truncated (and 1 more)"]  # fmt: skip
