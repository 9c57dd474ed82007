"""Generic Viterbi and k-best Viterbi against brute force, shared and per-position pairs."""

from __future__ import annotations

import itertools

import pytest
import torch

from danlu.decoding.viterbi import backtrack, kbest_viterbi, viterbi

# (num_tags, length, lengths, per_position_pairs, with_edges, seed)
CASES = [
    (1, 3, [3, 2], False, True, 0),
    (3, 1, [1, 1], True, False, 1),
    (3, 4, [4, 1, 2], False, False, 2),
    (4, 5, [2, 5, 3, 4], True, True, 3),
    (2, 5, [3, 2], False, True, 4),  # trailing columns no sequence reaches
]


def make(k, t, lengths, per_position, with_edges, seed):
    gen = torch.Generator().manual_seed(seed)

    def rand(*shape):
        return torch.randn(*shape, generator=gen, dtype=torch.float64)

    b = len(lengths)
    unary = rand(b, t, k)
    pairs = rand(b, t, k, k) if per_position else rand(k, k)
    start, end = (rand(k), rand(k)) if with_edges else (None, None)
    mask = torch.arange(t)[None, :] < torch.tensor(lengths)[:, None]
    return unary, mask, pairs, start, end


def ranked_paths(unary, pairs, start, end, b, n):
    out = []
    for path in itertools.product(range(unary.shape[2]), repeat=n):
        s = sum(float(unary[b, t, y]) for t, y in enumerate(path))
        for t in range(1, n):
            pair = pairs if pairs.dim() == 2 else pairs[b, t]
            s += float(pair[path[t - 1], path[t]])
        if start is not None:
            s += float(start[path[0]]) + float(end[path[-1]])
        out.append((s, path))
    return sorted(out, reverse=True)


@pytest.mark.parametrize("case", CASES)
def test_viterbi_and_kbest_equal_brute_force(case):
    unary, mask, pairs, start, end = make(*case)
    tags, scores = viterbi(unary, mask, pairs, start, end)
    k = 4
    ktags, kscores = kbest_viterbi(unary, mask, pairs, k, start, end)
    one, one_scores = kbest_viterbi(unary, mask, pairs, 1, start, end)
    assert torch.equal(one[:, 0], tags)
    torch.testing.assert_close(one_scores[:, 0], scores)
    for b, n in enumerate(mask.sum(1).tolist()):
        ranked = ranked_paths(unary, pairs, start, end, b, n)
        assert tags[b, :n].tolist() == list(ranked[0][1]) and (tags[b, n:] == -1).all()
        assert scores[b].item() == pytest.approx(ranked[0][0])
        for r in range(k):
            if r < len(ranked):
                assert ktags[b, r, :n].tolist() == list(ranked[r][1])
                assert kscores[b, r].item() == pytest.approx(ranked[r][0])
            else:
                assert kscores[b, r].item() == float("-inf") and (ktags[b, r] == -1).all()


def test_backtrack_follows_pointers():
    # 3 positions, 1 sequence, 2 states; pointers[t, 0, s] = state at t-1
    pointers = torch.tensor([[[0, 0]], [[1, 0]], [[0, 1]]])
    paths = backtrack(pointers, torch.tensor([[1, 0]]))
    assert paths.tolist() == [[[0, 1, 1], [1, 0, 0]]]


def test_kbest_rejects_k_below_one():
    unary, mask, pairs, _, _ = make(*CASES[2])
    with pytest.raises(ValueError, match="k must be >= 1"):
        kbest_viterbi(unary, mask, pairs, 0)
