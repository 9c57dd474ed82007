"""The bidirectional Transformer: incremental decoding equals teacher forcing (float64), the
cross-direction attention is causal and live, padding changes nothing, both directions
learn a toy task."""

from __future__ import annotations

import time
from typing import Any

import pytest
import torch
from tests.nn.seq2seq.conftest import V_SRC, V_TGT, padded_sources

from danlu.decoding import reverse_padded, select_rows
from danlu.errors import UsageError
from danlu.functional import label_smoothed_nll
from danlu.nn import BidirectionalTransformerSeq2Seq, create_bidirectional_seq2seq
from danlu.nn.seq2seq import SynchronousDecoderLayer

TOL = {"atol": 1e-10, "rtol": 0.0}
PAD, BOS, EOS = 0, 1, 2
STEPS = 6
_SMALL = {"d_model": 8, "heads": 2, "num_encoder_layers": 2, "num_decoder_layers": 2,
          "dim_feedforward": 12, "dropout": 0.0}  # fmt: skip
CASES: dict[str, dict[str, Any]] = {
    "pre_norm": _SMALL,
    "post_norm": {**_SMALL, "norm_first": False},
    "key_size_talking_heads": {**_SMALL, "key_size": 6, "talking_heads": True},
    "untied_shared": {**_SMALL, "tie_output": False, "shared_embeddings": True},
}


def build(case: str, seed: int = 0) -> BidirectionalTransformerSeq2Seq:
    """The model of ``case`` in float64 and eval mode; padding rows made nonzero."""
    torch.manual_seed(seed)
    options = CASES[case]
    src_vocab = V_TGT if options.get("shared_embeddings") else V_SRC
    model = create_bidirectional_seq2seq(src_vocab, V_TGT, **options).double().eval()
    with torch.no_grad():  # padding rows start at zero; make them count if they leak
        for module in model.modules():
            if isinstance(module, torch.nn.Embedding):
                module.weight[0].normal_()
    return model


def sources(case: str) -> tuple[torch.Tensor, torch.Tensor]:
    src, mask = padded_sources()
    return (src.clamp(max=V_TGT - 1), mask) if CASES[case].get("shared_embeddings") else (src, mask)


def pairs(rows: int = 4, steps: int = STEPS, seed: int = 2) -> torch.Tensor:
    """``(rows, steps, 2)`` decoder inputs from BOS; row 0's L2R and row 2's R2L have ended
    (PAD inputs), as in a search after EOS."""
    g = torch.Generator().manual_seed(seed)
    tgt = torch.randint(3, V_TGT, (rows, steps, 2), generator=g)
    tgt[:, 0] = BOS
    tgt[0, 3:, 0] = PAD
    tgt[2, 4:, 1] = PAD
    return tgt


@pytest.mark.parametrize("case", CASES)
def test_step_by_step_equals_the_teacher_forced_forward(case: str) -> None:
    model = build(case)
    src, mask = sources(case)
    tgt = pairs()
    with torch.no_grad():
        expected = model(src, mask, tgt).log_softmax(-1)  # (B, T, 2, V), all at once
        assert expected.shape == (4, STEPS, 2, V_TGT)
        state = model.start(src, mask)
        for t in range(STEPS):
            log_probs, state = model.step(state, tgt[:, t])  # (B, 2, V)
            torch.testing.assert_close(log_probs, expected[:, t], **TOL)
        first, state = model.decode(model.start(src, mask), tgt[:, :2])  # in chunks
        rest, _ = model.decode(state, tgt[:, 2:])
        whole, _ = model.decode(model.start(src, mask), tgt)
    torch.testing.assert_close(torch.cat([first, rest], 1), whole, **TOL)


@pytest.mark.parametrize("case", ["pre_norm", "post_norm"])
def test_a_later_token_changes_no_earlier_position_of_either_direction(case: str) -> None:
    """Changing the input at position p (token p-1 of one direction) leaves positions < p
    of both directions unchanged and changes position p of both: each direction sees the
    other's states up to its own position, no further."""
    model = build(case)
    src, mask = sources(case)
    tgt = pairs()[1:2]  # one row without PAD
    src, mask = src[1:2], mask[1:2]
    with torch.no_grad():
        base = model(src, mask, tgt)  # (1, T, 2, V)
        for p in range(1, STEPS):
            for d in (0, 1):
                changed = tgt.clone()
                changed[0, p, d] = 3 + (int(tgt[0, p, d]) - 2) % (V_TGT - 3)  # another token
                out = model(src, mask, changed)
                torch.testing.assert_close(out[:, :p], base[:, :p], atol=1e-12, rtol=0.0)
                assert (out[0, p] - base[0, p]).abs().amax(-1).min() > 1e-6, (p, d)


@pytest.mark.parametrize("case", ["pre_norm", "key_size_talking_heads"])
def test_select_rows_equals_decoding_the_selected_rows_alone(case: str) -> None:
    model = build(case)
    src, mask = sources(case)
    tgt = pairs(steps=4)
    index = torch.tensor([2, 0, 0, 3, 1])  # reorder and repeat rows, as beams do
    with torch.no_grad():
        state = model.start(src, mask)
        for t in range(3):
            _, state = model.step(state, tgt[:, t])
        reordered, _ = model.step(select_rows(state, index), tgt[index, 3])
        alone = model.start(src[index], mask[index])
        for t in range(3):
            _, alone = model.step(alone, tgt[index, t])
        expected, _ = model.step(alone, tgt[index, 3])
    torch.testing.assert_close(reordered, expected, **TOL)


def test_source_padding_never_changes_a_sentence() -> None:
    model = build("pre_norm")
    src, mask = padded_sources()
    tgt = pairs()
    wider = torch.cat([src, torch.zeros(4, 3, dtype=src.dtype)], 1)
    with torch.no_grad():
        batch = model(src, mask, tgt)
        torch.testing.assert_close(model(wider, wider != 0, tgt), batch, **TOL)
        for row in range(4):
            n = int(mask[row].sum())
            alone = model(src[row : row + 1, :n], mask[row : row + 1, :n], tgt[row : row + 1])
            torch.testing.assert_close(alone, batch[row : row + 1], **TOL)


def test_attention_weights_are_an_alignment_per_direction() -> None:
    model = build("pre_norm")
    src, mask = padded_sources()
    with torch.no_grad():
        weights = model.attention_weights(src, mask, pairs())
    assert weights.shape == (4, 2, 2, 2, STEPS, 5)  # (B, directions, layers, heads, T, S)
    torch.testing.assert_close(weights.sum(-1), torch.ones(weights.shape[:-1], dtype=weights.dtype))
    assert (weights.masked_select(~mask[:, None, None, None, None, :]) == 0).all()


def test_the_model_has_two_decoders_and_no_leftover_one() -> None:
    names = dict(build("pre_norm").named_parameters())
    assert "decoder.l2r.1.other_attn.in_proj_weight" in names
    assert "decoder.r2l.0.norm4.weight" in names
    assert not any(n.startswith("decoder.layers") for n in names)


def test_wrong_inputs_are_refused_with_the_fix() -> None:
    model = build("pre_norm")
    src, mask = padded_sources()
    with pytest.raises(UsageError, match=r"\(N, T, 2\).*bidirectional_beam_search"):
        model.step(model.start(src, mask), torch.full((4,), BOS))
    with pytest.raises(UsageError, match=r"no option 'layers'.*d_model=256"):
        create_bidirectional_seq2seq(10, 10, layers=2)
    with pytest.raises(TypeError, match="other direction"):
        SynchronousDecoderLayer(8, 2)(torch.zeros(1, 2, 8), torch.zeros(1, 3, 8))


def _toy_batch(g: torch.Generator, batch: int = 32) -> tuple[torch.Tensor, ...]:
    """Sources of 3..6 symbols; the L2R target is the source reversed, the R2L target is
    that reversed again (built with ``reverse_padded``), each followed by EOS."""
    v = 12
    lengths = torch.randint(3, 7, (batch,), generator=g)
    src = torch.zeros(batch, 6, dtype=torch.long)
    l2r = torch.zeros(batch, 7, dtype=torch.long)
    for i, n in enumerate(lengths.tolist()):
        symbols = torch.randint(3, v, (n,), generator=g)
        src[i, :n] = symbols
        l2r[i, :n] = symbols.flip(0)
        l2r[i, n] = EOS
    tgt_out = torch.stack([l2r, reverse_padded(l2r, lengths)], -1)  # (B, T, 2)
    tgt_in = torch.cat([torch.full((batch, 1, 2), BOS), tgt_out[:, :-1]], 1)
    return src, tgt_in.masked_fill(tgt_in == EOS, PAD), tgt_out


def test_both_directions_learn_a_toy_task_quickly() -> None:
    torch.manual_seed(0)
    model = create_bidirectional_seq2seq(
        12, 12, d_model=32, heads=4, num_encoder_layers=1, num_decoder_layers=1,
        dim_feedforward=64, dropout=0.0,
    )  # fmt: skip
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    g = torch.Generator().manual_seed(0)
    losses = []
    begin = time.perf_counter()
    for _ in range(100):
        src, tgt_in, tgt_out = _toy_batch(g)
        logits = model(src, src != PAD, tgt_in)  # (B, T, 2, V)
        per_token = label_smoothed_nll(logits, tgt_out, 0.0, ignore_index=PAD, reduction="none")
        counted = (tgt_out != PAD).sum((0, 1))  # (2,) tokens per direction
        per_direction = per_token.sum((0, 1)) / counted  # (2,) the two teacher-forced losses
        loss = per_direction.mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(per_direction.detach())
    assert time.perf_counter() - begin < 10
    first, last = torch.stack(losses[:5]).mean(0), torch.stack(losses[-5:]).mean(0)
    assert (last < 0.4 * first).all(), f"loss per direction {first.tolist()} -> {last.tolist()}"
