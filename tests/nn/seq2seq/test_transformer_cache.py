"""The Transformer's key/value cache: ``TransformerDecoder.forward_cached`` equals the
pre-existing ``forward`` on the whole prefix; the seq2seq model's wiring equals PyTorch's
``nn.TransformerEncoder``/``nn.TransformerDecoder``; tied and shared embeddings."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from danlu.errors import UsageError
from danlu.functional.attention import padding_mask
from danlu.nn.attention import MultiHeadAttention
from danlu.nn.seq2seq import TransformerSeq2Seq
from danlu.nn.transformer import TransformerDecoder, TransformerDecoderLayer

D = torch.float64
TOL = {"atol": 1e-10, "rtol": 0.0}

LAYERS = {
    "pre_norm": {"norm_first": True},
    "post_norm": {"norm_first": False},
    "key_size_talking_heads": {"norm_first": True, "key_size": 5, "talking_heads": True},
    "reference_impl": {"norm_first": False, "impl": "reference", "activation": "gelu"},
}


def _decoder(options: dict) -> TransformerDecoder:
    torch.manual_seed(0)
    layer = TransformerDecoderLayer(8, 2, 12, dropout=0.0, **options)
    return TransformerDecoder(layer, num_layers=2).to(D).eval()


def _inputs() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(3)
    tgt = torch.randn(3, 7, 8, generator=g, dtype=D)
    memory = torch.randn(3, 5, 8, generator=g, dtype=D)
    return tgt, memory, padding_mask(torch.tensor([5, 2, 4]), 5)


@pytest.mark.parametrize("options", LAYERS.values(), ids=list(LAYERS))
def test_cached_steps_equal_the_decoder_forward_on_the_whole_prefix(options: dict) -> None:
    dec = _decoder(options)
    tgt, memory, pad = _inputs()
    with torch.no_grad():
        expected = dec(tgt, memory, memory_key_padding_mask=pad)  # causal, the whole prefix
        caches, kvs = dec.empty_cache(3, memory), dec.memory_key_values(memory)
        for t in range(7):
            out, caches, _ = dec.forward_cached(tgt[:, t : t + 1], caches, kvs, pad)
            torch.testing.assert_close(out[:, 0], expected[:, t], **TOL)
    assert caches[1][0].shape == (3, 2, 7, options.get("key_size", 4))


@pytest.mark.parametrize("options", LAYERS.values(), ids=list(LAYERS))
def test_cached_chunks_equal_the_decoder_forward(options: dict) -> None:
    """From an empty cache (the causal fast path), then 1 and 3 positions after a cache."""
    dec = _decoder(options)
    tgt, memory, pad = _inputs()
    with torch.no_grad():
        expected = dec(tgt, memory, memory_key_padding_mask=pad)
        caches, kvs = dec.empty_cache(3, memory), dec.memory_key_values(memory)
        outs = []
        for a, b in ((0, 3), (3, 4), (4, 7)):
            out, caches, weights = dec.forward_cached(
                tgt[:, a:b], caches, kvs, pad, need_weights=True
            )
            outs.append(out)
            assert len(weights) == 2 and weights[0].shape == (3, 2, b - a, 5)
    torch.testing.assert_close(torch.cat(outs, 1), expected, **TOL)


def test_attention_halves_equal_forward() -> None:
    """``attend(project_query(x), *project_key_value(m))`` is ``forward(x, m, m)``."""
    torch.manual_seed(0)
    mha = MultiHeadAttention(8, 2, key_size=3).to(D)
    _, memory, pad = _inputs()
    x = torch.randn(3, 4, 8, dtype=D)
    q = mha.project_query(x)
    k, v = mha.project_key_value(memory)
    torch.testing.assert_close(
        mha.attend(q, k, v, key_padding_mask=pad), mha(x, memory, memory, key_padding_mask=pad)
    )
    out, weights = mha.attend_with_weights(q, k, v, key_padding_mask=pad)
    ref_out, ref_weights = mha.forward_with_weights(x, memory, memory, key_padding_mask=pad)
    torch.testing.assert_close(out, ref_out)
    torch.testing.assert_close(weights, ref_weights)


@pytest.mark.parametrize("norm_first", [True, False])
def test_seq2seq_forward_equals_torch_modules_with_the_same_weights(norm_first: bool) -> None:
    """Embeddings·√d + PE, PyTorch's encoder and decoder stacks, logits = y Eᵀ."""
    torch.manual_seed(0)
    kw = {"d_model": 8, "heads": 2, "dim_feedforward": 12, "dropout": 0.0}
    model = TransformerSeq2Seq(
        13, 11, num_encoder_layers=2, num_decoder_layers=2, norm_first=norm_first, **kw
    )
    model = model.to(D).eval()
    layer_kw = {"dim_feedforward": 12, "dropout": 0.0, "batch_first": True,
                "norm_first": norm_first, "dtype": D}  # fmt: skip
    final = (lambda: nn.LayerNorm(8, dtype=D)) if norm_first else (lambda: None)
    enc_layer = nn.TransformerEncoderLayer(8, 2, **layer_kw)
    enc = nn.TransformerEncoder(enc_layer, 2, norm=final(), enable_nested_tensor=False)
    dec = nn.TransformerDecoder(nn.TransformerDecoderLayer(8, 2, **layer_kw), 2, norm=final())
    enc.load_state_dict(model.encoder.state_dict())
    dec.load_state_dict(model.decoder.state_dict())
    enc.eval(), dec.eval()
    src = torch.tensor([[3, 4, 5, 6], [7, 8, 0, 0]])
    tgt = torch.tensor([[1, 5, 6], [1, 9, 2]])

    def embed(table: nn.Embedding, tokens: torch.Tensor) -> torch.Tensor:
        return table(tokens) * math.sqrt(8) + model.pe[: tokens.size(1)]

    with torch.no_grad():
        memory = enc(embed(model.src_embedding, src), src_key_padding_mask=src == 0)
        causal = nn.Transformer.generate_square_subsequent_mask(3, dtype=D)
        y = dec(embed(model.tgt_embedding, tgt), memory, tgt_mask=causal,
                memory_key_padding_mask=src == 0)  # fmt: skip
        expected = y @ model.tgt_embedding.weight.T
        torch.testing.assert_close(model(src, src != 0, tgt), expected, **TOL)


def test_output_projection_is_the_target_embedding_table() -> None:
    model = TransformerSeq2Seq(13, 11, d_model=8, heads=2, num_encoder_layers=1,
                               num_decoder_layers=1)  # fmt: skip
    assert model.output_weight.data_ptr() == model.tgt_embedding.weight.data_ptr()
    assert model.output_weight is model.tgt_embedding.weight
    assert model.src_embedding is not model.tgt_embedding
    names = [n for n, _ in model.named_parameters()]
    assert not any(n.startswith("output") for n in names)  # no second (V, d) table
    untied = TransformerSeq2Seq(13, 11, d_model=8, heads=2, num_encoder_layers=1,
                                num_decoder_layers=1, tie_output=False)  # fmt: skip
    assert untied.output_weight.data_ptr() != untied.tgt_embedding.weight.data_ptr()


def test_shared_embeddings_use_one_table_for_both_sides() -> None:
    model = TransformerSeq2Seq(13, 13, d_model=8, heads=2, num_encoder_layers=1,
                               num_decoder_layers=1, shared_embeddings=True)  # fmt: skip
    assert model.src_embedding is model.tgt_embedding
    tables = [p for p in model.parameters() if p.shape == (13, 8)]
    assert len(tables) == 1  # one parameter, shared by the encoder, decoder and output
    src = torch.tensor([[3, 4, 5]])
    loss = model(src, src != 0, torch.tensor([[1, 5]])).sum()
    loss.backward()
    assert model.tgt_embedding.weight.grad[[3, 4]].abs().sum() > 0  # reached by the encoder
    with pytest.raises(UsageError, match="joint vocabulary"):
        TransformerSeq2Seq(13, 11, d_model=8, heads=2, shared_embeddings=True)


def test_key_size_and_talking_heads_reach_every_attention() -> None:
    model = TransformerSeq2Seq(13, 11, d_model=8, heads=2, key_size=6, talking_heads=True)
    attentions = [m for m in model.modules() if isinstance(m, MultiHeadAttention)]
    assert len(attentions) == 3 + 2 * 3  # encoder self, decoder self + cross
    assert all(m.key_size == 6 and m.talking_heads and m.head_size == 4 for m in attentions)


def test_a_target_longer_than_max_len_is_a_usage_error() -> None:
    model = TransformerSeq2Seq(13, 11, d_model=8, heads=2, max_len=4).eval()
    src = torch.tensor([[3, 4]])
    state = model.start(src, src != 0)
    for _ in range(4):
        _, state = model.step(state, torch.tensor([1]))
    with pytest.raises(UsageError, match="exceeds max_len=4"):
        model.step(state, torch.tensor([1]))
