"""Blocked sliding-window attention equals full attention with a band mask."""

from __future__ import annotations

import pytest
import torch

from danlu.functional.attention import band_mask, padding_mask, scaled_dot_product_attention
from danlu.nn.attention import MultiHeadAttention
from danlu.nn.local_attention import LocalSelfAttention, sliding_window_attention

D = torch.float64


def _x(*shape: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=g, dtype=D, requires_grad=True)


@pytest.mark.parametrize(
    ("t", "window", "causal", "padded"),
    [
        (12, 3, False, False),  # T a multiple of the block
        (13, 4, False, True),  # ragged last block, padding
        (13, 4, True, True),
        (9, 0, False, False),  # each token sees only itself
        (5, 8, True, False),  # window wider than the sequence = full causal attention
        (1, 2, False, False),
    ],
)
def test_sliding_window_equals_band_masked_full_attention(
    t: int, window: int, causal: bool, padded: bool
) -> None:
    q, k, v = _x(2, 3, t, 4, seed=1), _x(2, 3, t, 4, seed=2), _x(2, 3, t, 5, seed=3)
    pad = padding_mask(torch.tensor([t, max(1, t - 4)]), t) if padded else None
    ours = sliding_window_attention(q, k, v, window, causal=causal, key_padding_mask=pad)
    mask = band_mask(t, window, causal=causal)  # (T, T)
    if pad is not None:
        mask = mask & pad[:, None, None, :]  # (B, 1, T, T)
    ref, _ = scaled_dot_product_attention(q, k, v, mask)
    torch.testing.assert_close(ours, ref)
    grad_out = torch.randn_like(ours)
    for a, b in zip(
        torch.autograd.grad(ours, (q, k, v), grad_out),
        torch.autograd.grad(ref, (q, k, v), grad_out),
        strict=True,
    ):
        torch.testing.assert_close(a, b)


@pytest.mark.parametrize("causal", [False, True])
def test_local_module_fast_equals_reference_and_masked_mha(causal: bool) -> None:
    torch.manual_seed(0)
    fast = LocalSelfAttention(12, 3, window=3, causal=causal, key_size=5).to(D)
    ref = LocalSelfAttention(12, 3, window=3, causal=causal, key_size=5, impl="reference").to(D)
    full = MultiHeadAttention(12, 3, key_size=5, impl="reference").to(D)
    ref.load_state_dict(fast.state_dict())
    full.load_state_dict(fast.state_dict())  # same parameters as MultiHeadAttention
    x = _x(2, 11, 12)
    pad = padding_mask(torch.tensor([11, 7]), 11)
    out = fast(x, key_padding_mask=pad)
    band = band_mask(11, 3, causal=causal)
    torch.testing.assert_close(out, ref(x, key_padding_mask=pad))
    expect = full(x, key_padding_mask=pad, attn_mask=band)
    torch.testing.assert_close(out, expect)
    grad_out = torch.randn_like(out)
    params = [fast.in_proj_weight, fast.out_proj.weight, x]
    g_fast = torch.autograd.grad(out, params, grad_out)
    g_full = torch.autograd.grad(expect, [full.in_proj_weight, full.out_proj.weight, x], grad_out)
    for a, b in zip(g_fast, g_full, strict=True):
        torch.testing.assert_close(a, b)


def test_far_tokens_do_not_interact() -> None:
    attn = LocalSelfAttention(8, 2, window=2)
    x = torch.randn(1, 20, 8)
    y = x.clone()
    y[0, 10] += 5.0
    diff = (attn(x) - attn(y)).abs().sum(-1)[0]  # (T,)
    assert torch.all(diff[8:13] > 0) and torch.all(diff[:8] == 0) and torch.all(diff[13:] == 0)


def test_long_sequence_runs_in_blocks() -> None:
    """T = 20 000 with w = 16: the blocked scores hold 20 000·48 entries per head, where full
    attention would need 4·10⁸."""
    q = k = v = torch.randn(1, 1, 20_000, 8)
    out = sliding_window_attention(q, k, v, window=16, causal=True)
    assert out.shape == (1, 1, 20_000, 8) and torch.isfinite(out).all()


def test_invalid_window_and_mask() -> None:
    with pytest.raises(ValueError, match=r"window must be >= 0, got -2"):
        LocalSelfAttention(8, 2, window=-2)
    q = torch.randn(1, 2, 6, 4)
    with pytest.raises(ValueError, match=r"key_padding_mask must be bool of shape \(B, T\)"):
        sliding_window_attention(q, q, q, 2, key_padding_mask=torch.ones(1, 5, dtype=torch.bool))
