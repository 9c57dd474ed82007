"""Reference attention (the four steps) against PyTorch and against naive loops."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from danlu.functional.attention import (
    additive_attention,
    band_mask,
    causal_mask,
    dot_product_attention,
    masked_softmax,
    padding_mask,
    scaled_dot_product_attention,
)

D = torch.float64


def _inputs(b: int, t_q: int, t_k: int, d_k: int, d_v: int, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    return [
        torch.randn(*shape, generator=g, dtype=D, requires_grad=True)
        for shape in ((b, 2, t_q, d_k), (b, 2, t_k, d_k), (b, 2, t_k, d_v))
    ]


def test_masks_have_the_documented_values() -> None:
    assert padding_mask(torch.tensor([2, 0, 3]), 3).tolist() == [
        [True, True, False],
        [False, False, False],
        [True, True, True],
    ]
    assert padding_mask(torch.tensor([1, 2])).shape == (2, 2)
    assert causal_mask(2, 3).tolist() == [[True, False, False], [True, True, False]]
    assert band_mask(4, 1, causal=True).int().tolist() == [
        [1, 0, 0, 0],
        [1, 1, 0, 0],
        [0, 1, 1, 0],
        [0, 0, 1, 1],
    ]


def test_mask_errors_name_the_value_and_the_rule() -> None:
    with pytest.raises(ValueError, match=r"length 5 exceeds max_len=3"):
        padding_mask(torch.tensor([5]), 3)
    with pytest.raises(ValueError, match=r"window must be >= 0, got -1"):
        band_mask(3, -1)
    with pytest.raises(TypeError, match=r"True = keep.*float"):
        masked_softmax(torch.zeros(2, 3), torch.ones(2, 3))


def test_masked_softmax_zeroes_blocked_and_fully_masked_rows_without_nan() -> None:
    scores = torch.randn(3, 4, dtype=D, requires_grad=True)
    mask = torch.tensor([[1, 1, 0, 1], [0, 0, 0, 0], [1, 0, 0, 0]], dtype=torch.bool)
    w = masked_softmax(scores, mask)
    assert torch.equal(w[~mask], torch.zeros_like(w[~mask]))
    torch.testing.assert_close(w.sum(-1), torch.tensor([1.0, 0.0, 1.0], dtype=D))
    # Partially masked rows equal the -inf formulation.
    expect = torch.softmax(scores.masked_fill(~mask, -math.inf), -1)
    torch.testing.assert_close(w[[0, 2]], expect[[0, 2]])
    (w * torch.randn_like(w)).sum().backward()
    assert torch.isfinite(scores.grad).all()
    assert torch.equal(scores.grad[1], torch.zeros(4, dtype=D))


MASK_CASES = ["none", "padding", "causal", "padding+causal", "full", "fully_masked_row"]


def _mask(case: str, b: int, t_q: int, t_k: int) -> tuple[torch.Tensor | None, bool]:
    g = torch.Generator().manual_seed(1)
    pad = padding_mask(torch.randint(1, t_k + 1, (b,), generator=g), t_k)[:, None, None, :]
    return {
        "none": (None, False),
        "padding": (pad, False),
        "causal": (None, True),
        "padding+causal": (pad, True),
        "full": (torch.rand(b, 1, t_q, t_k, generator=g) > 0.3, False),
        "fully_masked_row": (torch.arange(t_q)[:, None] != 1, False),  # row 1 sees nothing
    }[case]


@pytest.mark.parametrize("case", MASK_CASES)
@pytest.mark.parametrize(("t_q", "t_k"), [(5, 5), (3, 7)])
def test_scaled_dot_product_equals_torch_values_and_gradients(
    case: str, t_q: int, t_k: int
) -> None:
    q, k, v = _inputs(2, t_q, t_k, 4, 3)
    mask, causal = _mask(case, 2, t_q, t_k)
    ours, weights = scaled_dot_product_attention(q, k, v, mask, causal=causal)
    full = mask
    if causal:
        tri = causal_mask(t_q, t_k)
        full = tri if mask is None else mask & tri
    theirs = F.scaled_dot_product_attention(q, k, v, attn_mask=full)
    torch.testing.assert_close(ours, theirs)
    if full is not None:
        assert (weights.masked_fill(full, 0.0) == 0).all()  # blocked positions get 0
    grad_out = torch.randn_like(ours)
    g_ours = torch.autograd.grad(ours, (q, k, v), grad_out)
    g_theirs = torch.autograd.grad(theirs, (q, k, v), grad_out)
    for a, b in zip(g_ours, g_theirs, strict=True):
        torch.testing.assert_close(a, b)


def test_causal_flag_matches_torch_is_causal() -> None:
    q, k, v = _inputs(2, 6, 6, 4, 4, seed=3)
    ours, _ = scaled_dot_product_attention(q, k, v, causal=True)
    torch.testing.assert_close(ours, F.scaled_dot_product_attention(q, k, v, is_causal=True))


def test_dot_product_is_scaled_dot_product_with_scale_one() -> None:
    q, k, v = _inputs(2, 4, 6, 5, 3, seed=4)
    ours, w = dot_product_attention(q, k, v, causal=True)
    ref, w_ref = scaled_dot_product_attention(q, k, v, causal=True, scale=1.0)
    torch.testing.assert_close(ours, ref)
    torch.testing.assert_close(w, w_ref)


def test_additive_attention_equals_naive_loops_values_and_gradients() -> None:
    """Bahdanau attention against a per-pair Python loop of e_ij = vᵀ tanh(W_q q_i + W_k k_j)."""
    g = torch.Generator().manual_seed(5)
    q = torch.randn(2, 3, 4, generator=g, dtype=D, requires_grad=True)
    k = torch.randn(2, 5, 6, generator=g, dtype=D, requires_grad=True)
    val = torch.randn(2, 5, 2, generator=g, dtype=D, requires_grad=True)
    w_q = torch.randn(7, 4, generator=g, dtype=D, requires_grad=True)
    w_k = torch.randn(7, 6, generator=g, dtype=D, requires_grad=True)
    v = torch.randn(7, generator=g, dtype=D, requires_grad=True)
    mask = padding_mask(torch.tensor([5, 2]), 5)[:, None, :]  # (B, 1, T_k)
    ours, weights = additive_attention(q, k, val, w_q, w_k, v, mask)

    rows = []
    for b in range(2):
        for i in range(3):
            kept = [j for j in range(5) if mask[b, 0, j]]
            e = torch.stack([v @ torch.tanh(w_q @ q[b, i] + w_k @ k[b, j]) for j in kept])
            alpha = torch.exp(e) / torch.exp(e).sum()
            rows.append(sum(a * val[b, j] for a, j in zip(alpha, kept, strict=True)))
    naive = torch.stack(rows).reshape(2, 3, 2)
    torch.testing.assert_close(ours, naive)
    assert torch.equal(weights[1, :, 2:], torch.zeros(3, 3, dtype=D))
    grad_out = torch.randn_like(ours)
    params = (q, k, val, w_q, w_k, v)
    for a, b in zip(
        torch.autograd.grad(ours, params, grad_out),
        torch.autograd.grad(naive, params, grad_out),
        strict=True,
    ):
        torch.testing.assert_close(a, b)
