"""ZLPR and one-vs-all losses against their formulas computed naively in float64."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from danlu.functional.multilabel import (
    one_vs_all_loss,
    one_vs_all_predict,
    zlpr_loss,
    zlpr_predict,
)


def _naive_zlpr(scores: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """``log(1 + Σ_neg e^{s_i}) + log(1 + Σ_pos e^{-s_j})`` row by row, in float64."""
    out = []
    for s, y in zip(scores.double().tolist(), targets.bool().tolist(), strict=True):
        neg = sum(math.exp(v) for v, pos in zip(s, y, strict=True) if not pos)
        pos = sum(math.exp(-v) for v, p in zip(s, y, strict=True) if p)
        out.append(math.log1p(neg) + math.log1p(pos))
    return torch.tensor(out, dtype=torch.float64)


def _random_case(seed: int, rows: int = 16, labels: int = 7) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    scores = torch.randn(rows, labels, generator=g, dtype=torch.float64) * 3
    targets = torch.rand(rows, labels, generator=g) < 0.3
    targets[0] = True  # an all-positive row
    targets[1] = False  # an all-negative row
    return scores, targets


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_zlpr_matches_the_formula(seed: int) -> None:
    scores, targets = _random_case(seed)
    expected = _naive_zlpr(scores, targets)
    torch.testing.assert_close(zlpr_loss(scores, targets, reduction="none"), expected)
    torch.testing.assert_close(zlpr_loss(scores, targets), expected.mean())
    torch.testing.assert_close(zlpr_loss(scores, targets, reduction="sum"), expected.sum())
    # float32 scores and 0/1 float targets give the same numbers (to float32 precision)
    got32 = zlpr_loss(scores.float(), targets.float(), reduction="none")
    torch.testing.assert_close(got32.double(), expected, rtol=1e-5, atol=1e-5)


def test_zlpr_all_positive_and_all_negative_rows_have_one_term() -> None:
    s = torch.tensor([[2.0, -1.0, 0.5]], dtype=torch.float64)
    all_pos = zlpr_loss(s, torch.ones_like(s, dtype=torch.bool), reduction="none")
    all_neg = zlpr_loss(s, torch.zeros_like(s, dtype=torch.bool), reduction="none")
    torch.testing.assert_close(all_pos, torch.log1p(torch.exp(-s).sum(-1)))
    torch.testing.assert_close(all_neg, torch.log1p(torch.exp(s).sum(-1)))


def test_zlpr_is_the_pairwise_ranking_loss_with_a_zero_threshold_class() -> None:
    # log(1 + Σ_{i∈neg∪{0}, j∈pos∪{0}, (i,j)≠(0,0)} e^{s_i - s_j}) with s_0 = 0
    scores, targets = _random_case(3)
    expected = []
    for s, y in zip(scores.tolist(), targets.tolist(), strict=True):
        neg = [v for v, p in zip(s, y, strict=True) if not p] + [0.0]
        pos = [v for v, p in zip(s, y, strict=True) if p] + [0.0]
        pairs = sum(math.exp(a - b) for a in neg for b in pos) - 1.0  # drop (0, 0)
        expected.append(math.log1p(pairs))
    got = zlpr_loss(scores, targets, reduction="none")
    torch.testing.assert_close(got, torch.tensor(expected, dtype=torch.float64))


def test_zlpr_with_one_positive_is_two_softmax_cross_entropies_with_a_zero_logit() -> None:
    g = torch.Generator().manual_seed(4)
    scores = torch.randn(8, 5, generator=g, dtype=torch.float64) * 2
    target = torch.randint(0, 5, (8,), generator=g)
    multi_hot = F.one_hot(target, 5).bool()
    zero = torch.zeros(8, 1, dtype=torch.float64)
    s_t = scores.gather(1, target[:, None])  # (B, 1)
    positive_vs_zero = F.cross_entropy(torch.cat([s_t, zero], 1), torch.zeros(8, dtype=torch.long))
    negatives = scores.masked_fill(multi_hot, float("-inf"))  # the positive drops out
    zero_vs_negatives = F.cross_entropy(
        torch.cat([zero, negatives], 1), torch.zeros(8, dtype=torch.long)
    )
    torch.testing.assert_close(zlpr_loss(scores, multi_hot), positive_vs_zero + zero_vs_negatives)
    # C = 1: the binary logistic loss log(1 + e^{-s})
    s1 = scores[:, :1]
    one = zlpr_loss(s1, torch.ones_like(s1), reduction="none")
    torch.testing.assert_close(one, F.softplus(-s1[:, 0]))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_zlpr_large_logits_stay_finite(dtype: torch.dtype) -> None:
    scores = torch.tensor(
        [[1e4, -1e4, 1e4, -1e4], [-1e4, 1e4, 5.0, -3.0], [1e4, 1e4, 1e4, 1e4]], dtype=dtype
    ).requires_grad_()
    targets = torch.tensor([[1, 0, 1, 0], [1, 0, 1, 1], [0, 0, 0, 0]], dtype=torch.bool)
    loss = zlpr_loss(scores, targets, reduction="none")
    assert torch.isfinite(loss).all()
    # row 0 is perfectly separated: loss ~ 0; rows 1 and 2 are wrong by ~1e4
    assert loss[0].item() < 1e-6
    assert loss[1].item() == pytest.approx(2e4, rel=1e-4)
    assert loss[2].item() == pytest.approx(1e4 + math.log(4), rel=1e-6)
    loss.sum().backward()
    assert scores.grad is not None and torch.isfinite(scores.grad).all()
    # gradient of a wrong row pushes the offending scores in the right direction
    assert scores.grad[1, 0] < 0 and scores.grad[1, 1] > 0 and (scores.grad[2] > 0).all()


def test_zlpr_gradcheck() -> None:
    scores, targets = _random_case(5, rows=4, labels=5)
    scores.requires_grad_()
    assert torch.autograd.gradcheck(lambda s: zlpr_loss(s, targets, reduction="none"), (scores,))


def test_zlpr_predict_is_the_sign_of_the_score() -> None:
    s = torch.tensor([[0.1, -0.1, 0.0], [-5.0, -1.0, -2.0]])
    expected = torch.tensor([[True, False, False], [False, False, False]])
    assert torch.equal(zlpr_predict(s), expected)


def test_one_vs_all_matches_the_formula() -> None:
    scores, targets = _random_case(6)
    p = torch.sigmoid(scores)
    y = targets.double()
    expected = -(y * torch.log(p) + (1 - y) * torch.log1p(-p)).sum(-1)
    torch.testing.assert_close(one_vs_all_loss(scores, targets, reduction="none"), expected)
    torch.testing.assert_close(one_vs_all_loss(scores, targets), expected.mean())
    big = torch.tensor([[1e4, -1e4]], requires_grad=True)
    loss = one_vs_all_loss(big, torch.tensor([[0, 1]]))
    loss.backward()
    assert torch.isfinite(loss) and big.grad is not None and torch.isfinite(big.grad).all()
    predicted = one_vs_all_predict(torch.tensor([[0.1, -0.1, 2.0]]), threshold=0.5)
    assert predicted.tolist() == [[True, False, True]]
    assert one_vs_all_predict(torch.tensor([[1.0]]), threshold=0.9).tolist() == [[False]]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"targets": torch.zeros(2, 4)}, "shape of scores"),
        ({"targets": torch.full((2, 3), 0.5)}, "only 0 and 1"),
        ({"reduction": "max"}, "reduction must be one of"),
    ],
)
def test_bad_arguments_say_what_is_wrong(kwargs: dict[str, object], match: str) -> None:
    args: dict[str, object] = {"scores": torch.zeros(2, 3), "targets": torch.zeros(2, 3)}
    args.update(kwargs)
    for fn in (zlpr_loss, one_vs_all_loss):
        with pytest.raises(ValueError, match=match):
            fn(**args)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="threshold"):
        one_vs_all_predict(torch.zeros(1, 2), threshold=1.5)
