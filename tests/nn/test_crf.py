"""CRF against brute force (every tag sequence enumerated), pytorch-crf and gradcheck."""

from __future__ import annotations

import itertools

import pytest
import torch

from danlu.errors import UsageError
from danlu.nn._sequence_mask import SequenceMaskError
from danlu.nn.crf import CRF
from danlu.nn.transitions import allowed_transitions

# (num_tags, length, lengths, constrained, seed); lengths mixed, the first is the longest
CASES = [
    (1, 3, [3, 1], False, 0),
    (2, 1, [1, 1, 1], False, 1),
    (3, 4, [4, 2, 1], False, 2),
    (4, 5, [5, 3, 4, 1], False, 3),
    (3, 5, [2, 5], False, 4),  # longest not first
    (3, 4, [4, 3, 1], True, 5),
    (4, 5, [5, 2, 4], True, 6),
]
BIO3 = ["O", "B-X", "I-X"]
BIOES4 = ["B-X", "I-X", "E-X", "S-X"]


def make(k: int, t: int, lengths: list[int], constrained: bool, seed: int):
    """A float64 CRF with random (not small) scores, emissions, tags and mask."""
    gen = torch.Generator().manual_seed(seed)
    constraints = None
    if constrained:
        constraints = allowed_transitions(*(("BIO", BIO3) if k == 3 else ("BIOES", BIOES4)))
    crf = CRF(k, constraints=constraints).double()
    with torch.no_grad():
        for p in crf.parameters():
            p.copy_(torch.randn(p.shape, generator=gen, dtype=torch.float64))
    emissions = torch.randn(len(lengths), t, k, generator=gen, dtype=torch.float64) * 2
    mask = torch.arange(t)[None, :] < torch.tensor(lengths)[:, None]
    tags = torch.randint(k, (len(lengths), t), generator=gen).masked_fill(~mask, -1)
    return crf, emissions, tags, mask


def all_paths(crf: CRF, emissions: torch.Tensor, length: int, allowed_only: bool = False):
    """[(score, path)] for every tag sequence of one sentence, by the definition of s(x, y)."""
    start, end, trans = crf.scores()
    out = []
    for path in itertools.product(range(crf.num_tags), repeat=length):
        if allowed_only and crf.constrained:
            ok = bool(crf.allowed_start[path[0]]) and bool(crf.allowed_end[path[-1]])
            ok = ok and all(crf.allowed_transitions[a, b] for a, b in itertools.pairwise(path))
            if not ok:
                continue
        score = start[path[0]] + end[path[-1]]
        score = score + sum(emissions[i, y] for i, y in enumerate(path))
        score = score + sum(trans[a, b] for a, b in itertools.pairwise(path))
        out.append((float(score.detach()), path))
    return out


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("impl", ["fast", "reference"])
def test_nll_equals_brute_force(case, impl):
    crf, emissions, tags, mask = make(*case)
    lengths = mask.sum(1).tolist()
    expected = []
    for b, n in enumerate(lengths):
        paths = all_paths(crf, emissions[b], n)
        log_z = torch.logsumexp(torch.tensor([s for s, _ in paths]), 0)
        gold = dict((p, s) for s, p in paths)[tuple(tags[b, :n].tolist())]
        expected.append(float(log_z) - gold)
    expected = torch.tensor(expected, dtype=torch.float64)
    log_z = crf.log_partition(emissions, mask, impl=impl)
    got = log_z - crf.path_score(emissions, tags, mask)
    torch.testing.assert_close(got, expected)
    if impl == "fast":
        torch.testing.assert_close(crf.nll(emissions, tags, mask, reduction="none"), expected)
        torch.testing.assert_close(crf.nll(emissions, tags, mask), expected.mean())
        torch.testing.assert_close(crf.nll(emissions, tags, mask, "sum"), expected.sum())
        per_token = expected.sum() / sum(lengths)
        torch.testing.assert_close(crf.nll(emissions, tags, mask, "token_mean"), per_token)
        torch.testing.assert_close(crf(emissions, tags, mask.int()), expected.mean())


@pytest.mark.parametrize("case", CASES)
def test_decode_and_top_k_equal_brute_force(case):
    crf, emissions, _, mask = make(*case)
    k = 5
    best, best_scores = crf.decode(emissions, mask)
    tags, scores = crf.decode(emissions, mask, top_k=k)
    assert best.shape == mask.shape and tags.shape == (*mask.shape[:1], k, mask.shape[1])
    for b, n in enumerate(mask.sum(1).tolist()):
        ranked = sorted(all_paths(crf, emissions[b], n), reverse=True)
        assert best[b, :n].tolist() == list(ranked[0][1])
        assert (best[b, n:] == -1).all()
        assert best_scores[b].item() == pytest.approx(ranked[0][0])
        for r in range(k):
            if r < len(ranked):
                assert tags[b, r, :n].tolist() == list(ranked[r][1])
                assert scores[b, r].item() == pytest.approx(ranked[r][0])
                assert (tags[b, r, n:] == -1).all()
            else:  # fewer distinct paths than k
                assert scores[b, r].item() == float("-inf")
                assert (tags[b, r] == -1).all()


@pytest.mark.parametrize("case", [c for c in CASES if c[3]])
def test_constrained_decode_stays_on_allowed_paths(case):
    crf, emissions, _, mask = make(*case)
    emissions = emissions * 3  # strong emissions that would like forbidden moves
    tags, _ = crf.decode(emissions, mask, top_k=3)
    for b, n in enumerate(mask.sum(1).tolist()):
        ranked = sorted(all_paths(crf, emissions[b], n, allowed_only=True), reverse=True)
        for r in range(min(3, len(ranked))):
            path = tags[b, r, :n].tolist()
            assert path == list(ranked[r][1])
            assert crf.allowed_start[path[0]] and crf.allowed_end[path[-1]]
            assert all(crf.allowed_transitions[i, j] for i, j in itertools.pairwise(path))


@pytest.mark.parametrize("case", CASES)
def test_marginals_sum_to_one_and_equal_brute_force(case):
    crf, emissions, _, mask = make(*case)
    got = crf.marginals(emissions, mask)
    for b, n in enumerate(mask.sum(1).tolist()):
        paths = all_paths(crf, emissions[b], n)
        weights = torch.softmax(torch.tensor([s for s, _ in paths]), 0)
        expected = torch.zeros(n, crf.num_tags, dtype=torch.float64)
        for w, (_, path) in zip(weights, paths, strict=True):
            expected[torch.arange(n), torch.tensor(path)] += w
        torch.testing.assert_close(got[b, :n], expected)
        assert (got[b, n:] == 0).all()
    torch.testing.assert_close(got.sum(2), mask.double())


@pytest.mark.parametrize("case", [CASES[3], CASES[4], CASES[6]])
@pytest.mark.parametrize("impl", ["fast", "reference"])
def test_gradcheck_nll(case, impl):
    crf, emissions, tags, mask = make(*case)
    emissions.requires_grad_()
    names = ("start_transitions", "end_transitions", "transitions")
    params = tuple(getattr(crf, n).detach().clone().requires_grad_() for n in names)

    def loss(e, *p):
        def run():
            log_z = crf.log_partition(e, mask, impl=impl)
            return (log_z - crf.path_score(e, tags, mask)).sum()

        return _with_params(crf, names, p, run)

    assert torch.autograd.gradcheck(loss, (emissions, *params))


def _with_params(crf, names, values, fn):
    """Run fn with the CRF's parameters replaced by the given tensors (for gradcheck)."""
    saved = {n: crf._parameters[n] for n in names}
    try:
        for n, v in zip(names, values, strict=True):
            crf._parameters[n] = v
        return fn()
    finally:
        crf._parameters.update(saved)


def test_gradcheck_marginals():
    crf, emissions, _, mask = make(*CASES[3])
    emissions.requires_grad_()
    assert torch.autograd.gradcheck(lambda e: crf.marginals(e, mask), (emissions,))


def test_fast_equals_reference_at_large_scales_and_falls_back():
    crf, emissions, _, mask = make(4, 5, [5, 3, 4, 1], False, 7)
    for scale in (1.0, 30.0, 300.0):
        e = emissions * scale
        torch.testing.assert_close(
            crf.log_partition(e, mask, "fast"), crf.log_partition(e, mask, "reference")
        )
    # Gaps of thousands of nats underflow even float64: the fast path must fall back.
    crf = CRF(2, constraints=torch.tensor([[True, False], [True, True]])).double()
    e = torch.tensor([[[0.0, -2000.0], [-2000.0, 0.0]]], dtype=torch.float64)
    mask = torch.ones(1, 2, dtype=torch.bool)
    ref = crf.log_partition(e, mask, "reference")
    assert torch.isfinite(ref).all()
    torch.testing.assert_close(crf.log_partition(e, mask, "fast"), ref)


def test_float32_gradients_match_float64_reference():
    crf, emissions, tags, mask = make(4, 5, [5, 3, 4, 1], True, 8)
    e64 = emissions.clone().requires_grad_()
    crf.nll(e64, tags, mask, "sum").backward()
    g64 = e64.grad
    crf32 = CRF(4, constraints=allowed_transitions("BIOES", BIOES4))
    crf32.load_state_dict(crf.state_dict())
    e32 = emissions.float().requires_grad_()
    crf32.nll(e32, tags, mask, "sum").backward()
    torch.testing.assert_close(e32.grad.double(), g64, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("case", [c for c in CASES if not c[3] and c[2][0] == c[1]])
def test_equals_pytorch_crf(case):
    ref_module = pytest.importorskip("torchcrf")
    crf, emissions, tags, mask = make(*case)
    theirs = ref_module.CRF(crf.num_tags, batch_first=True).double()
    theirs.load_state_dict(crf.state_dict(), strict=False)
    for name, p in theirs.named_parameters():
        torch.testing.assert_close(p, getattr(crf, name))
    safe_tags = tags.masked_fill(~mask, 0)
    llh = theirs(emissions, safe_tags, mask, reduction="sum")
    torch.testing.assert_close(crf.nll(emissions, tags, mask, "sum"), -llh)
    ours, _ = crf.decode(emissions, mask)
    for b, path in enumerate(theirs.decode(emissions, mask)):
        assert ours[b, : len(path)].tolist() == path


@pytest.mark.parametrize(
    ("mask", "message"),
    [
        (torch.tensor([[1, 0, 1], [1, 1, 0]], dtype=torch.bool), "left-aligned"),
        (torch.tensor([[1, 1, 1], [0, 0, 0]], dtype=torch.bool), "all false"),
        (torch.ones(2, 4, dtype=torch.bool), "shape"),
        (torch.ones(2, 3), "dtype"),
        (torch.tensor([[1, 2, 1], [1, 1, 0]]), "only 0 and 1"),
    ],
)
def test_bad_masks_are_rejected(mask, message):
    crf = CRF(3)
    emissions = torch.randn(2, 3, 3)
    tags = torch.zeros(2, 3, dtype=torch.long)
    with pytest.raises(ValueError, match=message):
        crf.nll(emissions, tags, mask)
    with pytest.raises(SequenceMaskError, match=message):
        crf.decode(emissions, mask)


def test_bad_inputs_are_rejected():
    crf = CRF(3)
    mask = torch.ones(2, 3, dtype=torch.bool)
    with pytest.raises(ValueError, match="out of range"):
        crf.nll(torch.randn(2, 3, 3), torch.full((2, 3), 3), mask)
    with pytest.raises(ValueError, match="emissions have shape"):
        crf.decode(torch.randn(2, 3, 4), mask)
    with pytest.raises(UsageError, match="reduction"):
        crf.nll(torch.randn(2, 3, 3), torch.zeros(2, 3, dtype=torch.long), mask, "avg")
    with pytest.raises(UsageError, match="constraints have shape"):
        CRF(3, constraints=torch.ones(4, 4, dtype=torch.bool))


def test_integer_mask_and_no_mask_equal_bool_mask():
    crf, emissions, tags, mask = make(3, 4, [4, 2, 1], False, 9)
    bool_loss = crf.nll(emissions, tags, mask, "none")
    torch.testing.assert_close(crf.nll(emissions, tags, mask.long(), "none"), bool_loss)
    full = torch.ones_like(mask)
    torch.testing.assert_close(
        crf.nll(emissions, tags.clamp(min=0), None, "none"),
        crf.nll(emissions, tags.clamp(min=0), full, "none"),
    )


def test_state_dict_carries_the_constraints():
    constrained = CRF(3, constraints=allowed_transitions("BIO", BIO3))
    plain = CRF(3)
    plain.load_state_dict(constrained.state_dict())
    assert plain.constrained
    emissions = torch.randn(2, 4, 3) * 5
    assert torch.equal(plain.decode(emissions)[0], constrained.decode(emissions)[0])
    constrained.load_state_dict(CRF(3).state_dict())
    assert not constrained.constrained


def test_float64_emissions_with_float32_parameters():
    crf = CRF(3)
    emissions = torch.randn(2, 4, 3, dtype=torch.float64, requires_grad=True)
    loss = crf.nll(emissions, torch.zeros(2, 4, dtype=torch.long))
    loss.backward()
    assert crf.transitions.grad.dtype == torch.float32 and emissions.grad.dtype == torch.float64
