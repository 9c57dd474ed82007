"""MEMM and Bi-MEMM against brute force over every tag sequence, and gradcheck."""

from __future__ import annotations

import itertools

import pytest
import torch

from danlu.nn.memm import MEMM, BiMEMM
from danlu.nn.transitions import allowed_transitions

# (cls, num_tags, length, lengths, rank, constrained, seed)
CASES = [
    (MEMM, 1, 2, [2, 1], None, False, 0),
    (MEMM, 3, 4, [4, 2, 1], None, False, 1),
    (MEMM, 4, 5, [3, 5, 1], 2, False, 2),
    (MEMM, 3, 4, [4, 3, 2], None, True, 3),
    (BiMEMM, 2, 1, [1, 1], None, False, 4),
    (BiMEMM, 3, 4, [4, 2, 1], None, False, 5),
    (BiMEMM, 4, 5, [5, 3, 4], 1, False, 6),
    (BiMEMM, 3, 4, [2, 4, 3], None, True, 7),
]


def make(cls, k, t, lengths, rank, constrained, seed):
    gen = torch.Generator().manual_seed(seed)
    constraints = allowed_transitions("BIO", ["O", "B-X", "I-X"]) if constrained else None
    model = cls(k, constraints=constraints, rank=rank).double()
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=gen, dtype=torch.float64))
    emissions = torch.randn(len(lengths), t, k, generator=gen, dtype=torch.float64) * 2
    mask = torch.arange(t)[None, :] < torch.tensor(lengths)[:, None]
    tags = torch.randint(k, (len(lengths), t), generator=gen).masked_fill(~mask, -1)
    return model, emissions, tags, mask


def log_probs(model, emissions, path):
    """(log p_LR(path), log q_RL(path)) from the definitions, one softmax at a time."""
    start, end, g = model.scores()
    lsm = torch.log_softmax
    lr = lsm(emissions[0] + start, 0)[path[0]]
    for t in range(1, len(path)):
        lr = lr + lsm(emissions[t] + g[path[t - 1]], 0)[path[t]]
    last = len(path) - 1
    rl = lsm(emissions[last] + end, 0)[path[last]]
    for t in range(last):
        rl = rl + lsm(emissions[t] + g[:, path[t + 1]], 0)[path[t]]
    return float(lr.detach()), float(rl.detach())


def path_scores(model, emissions, length):
    """[(decoding score, lr, rl, path)] for every path, by the documented decoding score."""
    out = []
    for path in itertools.product(range(model.num_tags), repeat=length):
        lr, rl = log_probs(model, emissions, path)
        if isinstance(model, BiMEMM):
            score = 0.5 * (lr + rl)
        else:
            score = lr + (0.0 if model.allowed_end[path[-1]] else -1e4)
        out.append((score, lr, rl, path))
    return out


@pytest.mark.parametrize("case", CASES)
def test_nll_equals_brute_force(case):
    model, emissions, tags, mask = make(*case)
    expected = []
    for b, n in enumerate(mask.sum(1).tolist()):
        lr, rl = log_probs(model, emissions[b], tags[b, :n].tolist())
        expected.append(-0.5 * (lr + rl) if isinstance(model, BiMEMM) else -lr)
        if not model.constrained:  # local normalisation: the path probabilities sum to 1
            total = sum(torch.tensor(s[1]).exp() for s in path_scores(model, emissions[b], n))
            assert float(total) == pytest.approx(1.0)
    expected = torch.tensor(expected, dtype=torch.float64)
    torch.testing.assert_close(model.nll(emissions, tags, mask, "none"), expected)
    torch.testing.assert_close(model.nll(emissions, tags, mask), expected.mean())
    tokens = mask.sum()
    torch.testing.assert_close(model(emissions, tags, mask, "token_mean"), expected.sum() / tokens)


@pytest.mark.parametrize("case", CASES)
def test_decode_and_top_k_equal_brute_force(case):
    model, emissions, _, mask = make(*case)
    best, best_scores = model.decode(emissions, mask)
    tags, scores = model.decode(emissions, mask, top_k=3)
    for b, n in enumerate(mask.sum(1).tolist()):
        ranked = sorted(path_scores(model, emissions[b], n), reverse=True)
        assert best[b, :n].tolist() == list(ranked[0][3]) and (best[b, n:] == -1).all()
        assert best_scores[b].item() == pytest.approx(ranked[0][0])
        for r in range(min(3, len(ranked))):
            assert tags[b, r, :n].tolist() == list(ranked[r][3])
            assert scores[b, r].item() == pytest.approx(ranked[r][0])
        if model.constrained:
            path = best[b, :n].tolist()
            assert path[0] != 2 and all(
                not (i != 1 and j == 2) for i, j in itertools.pairwise(path)
            )


@pytest.mark.parametrize("case", [CASES[2], CASES[3], CASES[6], CASES[7]])
def test_gradcheck_nll(case):
    model, emissions, tags, mask = make(*case)
    emissions.requires_grad_()
    names = [n for n, _ in model.named_parameters()]
    params = tuple(getattr(model, n).detach().clone().requires_grad_() for n in names)

    def loss(e, *p):
        saved = {n: model._parameters[n] for n in names}
        try:
            model._parameters.update(dict(zip(names, p, strict=True)))
            return model.nll(e, tags, mask, "sum")
        finally:
            model._parameters.update(saved)

    assert torch.autograd.gradcheck(loss, (emissions, *params))


def test_low_rank_transition_matrix_is_u_v_transpose():
    model = MEMM(6, rank=2)
    _, _, g = model.scores()
    torch.testing.assert_close(g, model.transitions_u @ model.transitions_v.t())
    assert torch.linalg.matrix_rank(g.detach()) <= 2
    assert model.end_transitions is None and BiMEMM(6).end_transitions is not None


def test_bad_mask_is_rejected():
    model = BiMEMM(3)
    with pytest.raises(ValueError, match="left-aligned"):
        model.nll(
            torch.randn(1, 3, 3), torch.zeros(1, 3, dtype=torch.long), torch.tensor([[1, 0, 1]])
        )
