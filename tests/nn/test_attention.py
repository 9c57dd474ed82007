"""MultiHeadAttention: fast path = reference path = nn.MultiheadAttention; bottleneck and
talking-heads options; additive and dot-product modules."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from danlu.errors import UsageError
from danlu.functional.attention import (
    additive_attention,
    causal_mask,
    padding_mask,
    scaled_dot_product_attention,
)
from danlu.nn.attention import AdditiveAttention, DotProductAttention, MultiHeadAttention

D = torch.float64


def _mha(seed: int = 0, **kwargs) -> MultiHeadAttention:
    torch.manual_seed(seed)
    kwargs.setdefault("d_model", 12)
    kwargs.setdefault("heads", 3)
    return MultiHeadAttention(**kwargs).to(D)


def _x(*shape: int, seed: int = 1) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=g, dtype=D, requires_grad=True)


def _assert_same_outputs_and_grads(a: nn.Module, b: nn.Module, run_a, run_b, inputs) -> None:
    """run_a(a) and run_b(b) agree, and so do the gradients of inputs and same-named params."""
    out_a, out_b = run_a(a), run_b(b)
    torch.testing.assert_close(out_a, out_b)
    grad_out = torch.randn_like(out_a)
    pa, pb = dict(a.named_parameters()), dict(b.named_parameters())
    names = sorted(pa.keys() & pb.keys())
    assert names, "the modules share no parameter names"
    ga = torch.autograd.grad(out_a, [*inputs, *(pa[n] for n in names)], grad_out)
    gb = torch.autograd.grad(out_b, [*inputs, *(pb[n] for n in names)], grad_out)
    for x, y in zip(ga, gb, strict=True):
        torch.testing.assert_close(x, y)


# Each case: MHA kwargs, (T_q, T_k or None for self-attention), mask kinds.
CASES = {
    "self": ({}, (6, None), ()),
    "self_causal": ({}, (6, None), ("causal",)),
    "self_padding_causal": ({}, (6, None), ("padding", "causal")),
    "cross_padding": ({}, (4, 7), ("padding",)),
    "cross_separate_value": ({}, (4, -7), ("padding",)),
    "cross_attn_mask_3d": ({}, (4, 7), ("attn3d",)),
    "cross_causal": ({}, (4, 7), ("causal", "attn2d")),
    "bottleneck_key_size": ({"key_size": 8}, (6, None), ("padding", "causal")),
    "small_value_heads": ({"key_size": 2, "head_size": 5}, (5, 6), ("padding",)),
    "no_bias": ({"bias": False}, (5, None), ("causal",)),
}


def _masks(kinds, b: int, t_q: int, t_k: int) -> dict:
    g = torch.Generator().manual_seed(7)
    out: dict = {}
    if "padding" in kinds:
        out["key_padding_mask"] = padding_mask(torch.tensor([t_k, max(1, t_k - 3)]), t_k)
    if "attn2d" in kinds:
        out["attn_mask"] = torch.rand(t_q, t_k, generator=g) > 0.3
    if "attn3d" in kinds:
        out["attn_mask"] = torch.rand(b, t_q, t_k, generator=g) > 0.3
    if "causal" in kinds:
        out["causal"] = True
    return out


def _qkv(t_q: int, t_k: int | None, d: int = 12):
    """Self-attention (t_k None), one memory for keys and values (t_k > 0), or separate key
    and value tensors (t_k < 0, length -t_k)."""
    query = _x(2, t_q, d, seed=2)
    if t_k is None:
        return (query,), [query]
    memory = _x(2, abs(t_k), d, seed=3)
    if t_k < 0:
        value = _x(2, -t_k, d, seed=4)
        return (query, memory, value), [query, memory, value]
    return (query, memory, memory), [query, memory]


@pytest.mark.parametrize("case", CASES)
def test_fast_path_equals_reference_path(case: str) -> None:
    kwargs, (t_q, t_k), kinds = CASES[case]
    fast, ref = _mha(**kwargs, impl="torch"), _mha(**kwargs, impl="reference")
    ref.load_state_dict(fast.state_dict())
    args, inputs = _qkv(t_q, t_k)
    masks = _masks(kinds, 2, t_q, abs(t_k or t_q))
    _assert_same_outputs_and_grads(
        fast, ref, lambda m: m(*args, **masks), lambda m: m(*args, **masks), inputs
    )


@pytest.mark.parametrize(
    "case", ["self", "self_padding_causal", "cross_padding", "cross_causal", "cross_separate_value"]
)
@pytest.mark.parametrize("impl", ["torch", "reference"])
def test_equals_torch_multihead_attention_with_copied_weights(case: str, impl: str) -> None:
    kwargs, (t_q, t_k), kinds = CASES[case]
    ours = _mha(**kwargs, impl=impl)
    theirs = nn.MultiheadAttention(12, 3, batch_first=True, dtype=D)
    theirs.load_state_dict(ours.state_dict())  # same names and packed layout
    args, inputs = _qkv(t_q, t_k)
    masks = _masks(kinds, 2, t_q, abs(t_k or t_q))
    # PyTorch's boolean masks mean True = ignore: invert ours, and spell causal as a mask.
    attn = masks.get("attn_mask")
    if masks.get("causal"):
        tri = causal_mask(t_q, abs(t_k or t_q))
        attn = tri if attn is None else attn & tri
    torch_kw = {"need_weights": False}
    if attn is not None:
        torch_kw["attn_mask"] = ~attn
    if "key_padding_mask" in masks:
        torch_kw["key_padding_mask"] = ~masks["key_padding_mask"]
    full = args if len(args) == 3 else args * 3
    _assert_same_outputs_and_grads(
        ours, theirs, lambda m: m(*args, **masks), lambda m: m(*full, **torch_kw)[0], inputs
    )


def test_forward_with_weights_returns_masked_weights_that_sum_to_one() -> None:
    mha = _mha()
    x = _x(2, 5, 12)
    pad = padding_mask(torch.tensor([5, 3]), 5)
    out, w = mha.forward_with_weights(x, key_padding_mask=pad, causal=True)
    torch.testing.assert_close(out, mha(x, key_padding_mask=pad, causal=True))
    assert w.shape == (2, 3, 5, 5)
    torch.testing.assert_close(w.sum(-1), torch.ones(2, 3, 5, dtype=D))
    blocked = ~(pad[:, None, None, :] & causal_mask(5))
    assert (w.masked_fill(~blocked, 0) == 0).all()


def test_low_rank_bottleneck_key_size_shapes() -> None:
    mha = _mha(d_model=8, heads=4, key_size=16, head_size=3)  # d/h = 2 < key_size
    assert mha.in_proj_weight.shape == (2 * 4 * 16 + 4 * 3, 8)
    assert mha.out_proj.weight.shape == (8, 4 * 3)
    assert mha(_x(2, 5, 8), causal=True).shape == (2, 5, 8)


@pytest.mark.parametrize(
    "kwargs", [{"key_size": 8}, {"talking_heads": True}, {"talking_heads": True, "key_size": 8}]
)
def test_masks_are_respected(kwargs: dict) -> None:
    """Padded keys and future positions cannot influence the output."""
    mha = _mha(**kwargs)
    with torch.no_grad():
        if kwargs.get("talking_heads"):  # non-trivial mixing
            mha.pre_softmax_mix.add_(0.3 * torch.randn(3, 3, dtype=D))
            mha.post_softmax_mix.add_(0.3 * torch.randn(3, 3, dtype=D))
    x = _x(2, 6, 12).detach()
    pad = padding_mask(torch.tensor([6, 4]), 6)
    out = mha(x, key_padding_mask=pad, causal=True)
    y = x.clone()
    y[1, 4:] = 100.0  # change the padded keys of sequence 1
    y[0, 5] = -50.0  # change the last (future) token of sequence 0
    out_y = mha(y, key_padding_mask=pad, causal=True)
    torch.testing.assert_close(out[1, :4], out_y[1, :4])
    torch.testing.assert_close(out[0, :5], out_y[0, :5])


def test_talking_heads_with_identity_mixing_equals_plain_attention() -> None:
    plain = _mha(key_size=5)
    talking = _mha(key_size=5, talking_heads=True)
    assert torch.equal(talking.pre_softmax_mix, torch.eye(3, dtype=D))
    talking.load_state_dict(plain.state_dict(), strict=False)
    x = _x(2, 6, 12)
    pad = padding_mask(torch.tensor([6, 2]), 6)
    _assert_same_outputs_and_grads(
        talking,
        plain,
        lambda m: m(x, key_padding_mask=pad, causal=True),
        lambda m: m(x, key_padding_mask=pad, causal=True),
        [x],
    )


def test_talking_heads_mix_heads_as_the_equations_say() -> None:
    mha = _mha(talking_heads=True)
    with torch.no_grad():
        mha.pre_softmax_mix.copy_(torch.randn(3, 3, dtype=D))
        mha.post_softmax_mix.copy_(torch.randn(3, 3, dtype=D))
    x = _x(2, 4, 12)
    out, w = mha.forward_with_weights(x, causal=True)
    q, k, _ = mha._project(x, None, None)
    logits = q @ k.transpose(-2, -1) / 2.0  # d_k = 4
    mixed = torch.zeros_like(logits)
    for g in range(3):
        for i in range(3):
            mixed[:, g] += logits[:, i] * mha.pre_softmax_mix[i, g]
    a = torch.softmax(mixed.masked_fill(~causal_mask(4), float("-inf")), -1)
    expect = torch.einsum("bhqk,hg->bgqk", a, mha.post_softmax_mix)
    torch.testing.assert_close(w, expect)
    assert out.shape == (2, 4, 12)
    grads = torch.autograd.grad(out.sum(), [mha.pre_softmax_mix, mha.post_softmax_mix])
    assert all(g.abs().sum() > 0 for g in grads)


def test_invalid_arguments_raise_with_value_and_fix() -> None:
    with pytest.raises(ValueError, match=r"d_model=10 is not divisible by heads=3.*key_size"):
        MultiHeadAttention(10, 3)
    MultiHeadAttention(10, 3, key_size=4, head_size=4)  # explicit sizes are fine
    with pytest.raises(UsageError, match=r"unknown impl 'flash'; valid: torch, reference"):
        MultiHeadAttention(12, 3, impl="flash")  # type: ignore[arg-type]
    mha = MultiHeadAttention(12, 3)
    x = torch.randn(2, 5, 12)
    with pytest.raises(TypeError, match=r"True = keep.*~mask"):
        mha(x, key_padding_mask=torch.zeros(2, 5))
    with pytest.raises(ValueError, match=r"key_padding_mask must have shape \(B, T_k\) = \(2, 5\)"):
        mha(x, key_padding_mask=torch.ones(5, 2, dtype=torch.bool))
    with pytest.raises(ValueError, match=r"attn_mask must have shape"):
        mha(x, attn_mask=torch.ones(4, 5, dtype=torch.bool))
    with pytest.raises(ValueError, match=r"expected query \(B, T_q, 12\).*got query \(5, 12\)"):
        mha(torch.randn(5, 12))
    with pytest.raises(ValueError, match=r"key \(2, 4, 12\), value \(2, 3, 12\)"):
        mha(x, torch.randn(2, 4, 12), torch.randn(2, 3, 12))


def test_additive_attention_module_uses_its_weights() -> None:
    torch.manual_seed(0)
    attn = AdditiveAttention(query_size=4, key_size=6, hidden_size=8).to(D)
    q, k, v = _x(2, 3, 4), _x(2, 5, 6, seed=2), _x(2, 5, 2, seed=3)
    mask = padding_mask(torch.tensor([5, 2]), 5)[:, None, :]
    ctx, w = attn(q, k, v, mask)
    ref = additive_attention(
        q, k, v, attn.w_q.weight, attn.w_k.weight, attn.v.weight.squeeze(0), mask
    )
    torch.testing.assert_close(ctx, ref[0])
    assert w.shape == (2, 3, 5) and (w[1, :, 2:] == 0).all()


def test_dot_product_attention_module() -> None:
    q, k, v = _x(2, 3, 4), _x(2, 5, 4, seed=2), _x(2, 5, 2, seed=3)
    ctx, _ = DotProductAttention()(q, k, v, causal=True)
    torch.testing.assert_close(ctx, scaled_dot_product_attention(q, k, v, causal=True)[0])
    unscaled, _ = DotProductAttention(scaled=False)(q, k, v)
    torch.testing.assert_close(unscaled, scaled_dot_product_attention(q, k, v, scale=1.0)[0])
