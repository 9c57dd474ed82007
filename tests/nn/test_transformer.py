"""Transformer layers and stacks equal PyTorch's, post-norm and pre-norm, copied weights."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from danlu.functional.attention import causal_mask, padding_mask
from danlu.nn.transformer import (
    TransformerDecoder,
    TransformerDecoderLayer,
    TransformerEncoder,
    TransformerEncoderLayer,
)

D = torch.float64
D_MODEL, HEADS, FF = 16, 4, 24


def _x(*shape: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=g, dtype=D, requires_grad=True)


def _assert_match(ours: nn.Module, theirs: nn.Module, run_ours, run_theirs, inputs) -> None:
    """Outputs, input gradients and gradients of every same-named parameter agree."""
    out_a, out_b = run_ours(ours), run_theirs(theirs)
    torch.testing.assert_close(out_a, out_b)
    grad_out = torch.randn_like(out_a)
    pa, pb = dict(ours.named_parameters()), dict(theirs.named_parameters())
    assert pa.keys() == pb.keys()
    names = sorted(pa)
    ga = torch.autograd.grad(out_a, [*inputs, *(pa[n] for n in names)], grad_out)
    gb = torch.autograd.grad(out_b, [*inputs, *(pb[n] for n in names)], grad_out)
    for name, a, b in zip(["input"] * len(inputs) + names, ga, gb, strict=True):
        torch.testing.assert_close(a, b, msg=lambda m, name=name: f"{name}: {m}")


def _common(activation: str) -> dict:
    return {"dim_feedforward": FF, "dropout": 0.0, "activation": activation}


PARAMS = [(False, "relu", "torch"), (True, "relu", "torch"), (True, "gelu", "reference")]


@pytest.mark.parametrize(("norm_first", "activation", "impl"), PARAMS)
def test_encoder_layer_equals_torch(norm_first: bool, activation: str, impl: str) -> None:
    kw = _common(activation)
    torch.manual_seed(0)
    theirs = nn.TransformerEncoderLayer(
        D_MODEL, HEADS, **kw, norm_first=norm_first, batch_first=True, dtype=D
    )
    ours = TransformerEncoderLayer(D_MODEL, HEADS, **kw, norm_first=norm_first, impl=impl).to(D)
    ours.load_state_dict(theirs.state_dict())
    x = _x(2, 6, D_MODEL, seed=1)
    pad = padding_mask(torch.tensor([6, 4]), 6)
    tri = causal_mask(6)
    _assert_match(
        ours,
        theirs,
        lambda m: m(x, src_key_padding_mask=pad, causal=True),
        lambda m: m(x, src_mask=~tri, src_key_padding_mask=~pad),
        [x],
    )


@pytest.mark.parametrize(("norm_first", "activation", "impl"), PARAMS)
def test_decoder_layer_equals_torch(norm_first: bool, activation: str, impl: str) -> None:
    kw = _common(activation)
    torch.manual_seed(0)
    theirs = nn.TransformerDecoderLayer(
        D_MODEL, HEADS, **kw, norm_first=norm_first, batch_first=True, dtype=D
    )
    ours = TransformerDecoderLayer(D_MODEL, HEADS, **kw, norm_first=norm_first, impl=impl).to(D)
    ours.load_state_dict(theirs.state_dict())
    tgt, memory = _x(2, 5, D_MODEL, seed=1), _x(2, 7, D_MODEL, seed=2)
    tgt_pad = padding_mask(torch.tensor([5, 3]), 5)
    mem_pad = padding_mask(torch.tensor([7, 4]), 7)
    _assert_match(
        ours,
        theirs,
        lambda m: m(tgt, memory, tgt_key_padding_mask=tgt_pad, memory_key_padding_mask=mem_pad),
        lambda m: m(
            tgt,
            memory,
            tgt_mask=~causal_mask(5),
            tgt_key_padding_mask=~tgt_pad,
            memory_key_padding_mask=~mem_pad,
        ),
        [tgt, memory],
    )


@pytest.mark.parametrize("norm_first", [False, True])
def test_stacks_equal_torch_stacks(norm_first: bool) -> None:
    kw = _common("relu")
    torch.manual_seed(0)
    their_enc_layer = nn.TransformerEncoderLayer(
        D_MODEL, HEADS, **kw, norm_first=norm_first, batch_first=True, dtype=D
    )
    their_dec_layer = nn.TransformerDecoderLayer(
        D_MODEL, HEADS, **kw, norm_first=norm_first, batch_first=True, dtype=D
    )
    final = nn.LayerNorm(D_MODEL, dtype=D) if norm_first else None
    their_enc = nn.TransformerEncoder(their_enc_layer, 2, norm=final, enable_nested_tensor=False)
    their_dec = nn.TransformerDecoder(their_dec_layer, 2, norm=final)
    ours_enc = TransformerEncoder(
        TransformerEncoderLayer(D_MODEL, HEADS, **kw, norm_first=norm_first), 2
    ).to(D)
    ours_dec = TransformerDecoder(
        TransformerDecoderLayer(D_MODEL, HEADS, **kw, norm_first=norm_first), 2
    ).to(D)
    assert (ours_enc.norm is not None) == norm_first
    # Our stacks re-initialize each copy: the two layers start different.
    assert not torch.equal(ours_enc.layers[0].linear1.weight, ours_enc.layers[1].linear1.weight)
    ours_enc.load_state_dict(their_enc.state_dict())
    ours_dec.load_state_dict(their_dec.state_dict())

    src, tgt = _x(2, 6, D_MODEL, seed=3), _x(2, 4, D_MODEL, seed=4)
    pad = padding_mask(torch.tensor([6, 5]), 6)
    _assert_match(
        ours_enc,
        their_enc,
        lambda m: m(src, src_key_padding_mask=pad),
        lambda m: m(src, src_key_padding_mask=~pad),
        [src],
    )
    memory = src.detach()
    _assert_match(
        ours_dec,
        their_dec,
        lambda m: m(tgt, memory, memory_key_padding_mask=pad),
        lambda m: m(tgt, memory, tgt_mask=~causal_mask(4), memory_key_padding_mask=~pad),
        [tgt],
    )


def test_decoder_is_causal_by_default() -> None:
    torch.manual_seed(0)
    dec = TransformerDecoderLayer(D_MODEL, HEADS, FF, dropout=0.0).to(D)
    tgt, memory = _x(1, 5, D_MODEL, seed=1).detach(), _x(1, 3, D_MODEL, seed=2)
    changed = tgt.clone()
    changed[0, 4] += 1.0
    torch.testing.assert_close(dec(tgt, memory)[0, :4], dec(changed, memory)[0, :4])


def test_talking_heads_and_bottleneck_options_reach_the_attention() -> None:
    layer = TransformerEncoderLayer(D_MODEL, HEADS, FF, key_size=8, talking_heads=True)
    assert layer.self_attn.key_size == 8 and layer.self_attn.talking_heads
    assert layer(torch.randn(2, 3, D_MODEL)).shape == (2, 3, D_MODEL)


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match=r"num_layers must be >= 1, got 0"):
        TransformerEncoder(TransformerEncoderLayer(D_MODEL, HEADS, FF), 0)
    with pytest.raises(ValueError, match=r"dim_feedforward must be >= 1, got 0"):
        TransformerEncoderLayer(D_MODEL, HEADS, 0)
    with pytest.raises(ValueError, match=r"d_model=16 is not divisible by heads=3"):
        TransformerDecoderLayer(D_MODEL, 3, FF)
