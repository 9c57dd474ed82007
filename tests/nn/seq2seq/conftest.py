"""Tiny float64 models of every kind, and a padded batch of sources of different lengths."""

from __future__ import annotations

from typing import Any

import torch

from danlu.nn.seq2seq import Seq2Seq, create_seq2seq

V_SRC, V_TGT = 23, 19
BOS = 1

_RNN = {"embed_dim": 6, "hidden_size": 8, "num_layers": 2, "dropout": 0.0}
_TRANSFORMER = {"d_model": 8, "heads": 2, "num_encoder_layers": 2, "num_decoder_layers": 2,
                "dim_feedforward": 12, "dropout": 0.0}  # fmt: skip
# case id -> (model name, options): every model, every attention score, both norms
CASES: dict[str, tuple[str, dict[str, Any]]] = {
    "gru": ("gru", _RNN),
    "gru_bidirectional": ("gru", {**_RNN, "bidirectional": True}),
    "gru_attn_dot": ("gru_attn", {**_RNN, "attention": "dot"}),
    "gru_attn_general": ("gru_attn", {**_RNN, "attention": "general", "bidirectional": False}),
    "gru_attn_additive": ("gru_attn", {**_RNN, "attention": "additive", "num_layers": 1}),
    "transformer": ("transformer", _TRANSFORMER),
    "transformer_post_norm": ("transformer", {**_TRANSFORMER, "norm_first": False}),
    "transformer_talking_heads": (
        "transformer",
        {**_TRANSFORMER, "key_size": 6, "talking_heads": True, "tie_output": False},
    ),
}


def build(case: str, seed: int = 0) -> Seq2Seq:
    """The model of ``case`` in float64 and eval mode, with seeded random weights."""
    name, options = CASES[case]
    torch.manual_seed(seed)
    model = create_seq2seq(name, V_SRC, V_TGT, **options).double().eval()
    with torch.no_grad():  # padding rows start at zero; make them count if they leak
        for module in model.modules():
            if isinstance(module, torch.nn.Embedding):
                module.weight[0].normal_()
    return model


def padded_sources() -> tuple[torch.Tensor, torch.Tensor]:
    """Four right-padded sources of lengths 5, 2, 4, 1 (padding id 0)."""
    g = torch.Generator().manual_seed(1)
    lengths = torch.tensor([5, 2, 4, 1])
    tokens = torch.randint(2, V_SRC, (4, 5), generator=g)
    mask = torch.arange(5)[None, :] < lengths[:, None]
    return tokens.masked_fill(~mask, 0), mask


def targets(rows: int, steps: int, seed: int = 2) -> torch.Tensor:
    """``(rows, steps)`` decoder inputs starting with BOS."""
    g = torch.Generator().manual_seed(seed)
    tgt = torch.randint(2, V_TGT, (rows, steps), generator=g)
    tgt[:, 0] = BOS
    return tgt
