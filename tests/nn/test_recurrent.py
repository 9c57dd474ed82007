"""danlu.nn.recurrent RNN/LSTM/GRU equal nn.RNN/nn.LSTM/nn.GRU with copied weights, in both
impls: uni/bidirectional, multi-layer, variable lengths, values and gradients, float64."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from danlu.errors import UsageError
from danlu.nn.recurrent import GRU, LSTM, RNN, Jordan

D = torch.float64
T, B, I, H = 6, 4, 3, 5
LENGTHS = torch.tensor([4, 6, 1, 3])  # unsorted, one full, one of length 1

CASES: list[tuple[type, type, dict[str, Any]]] = [
    # (danlu class, torch class, constructor kwargs)
    (RNN, nn.RNN, {}),
    (RNN, nn.RNN, {"nonlinearity": "relu", "num_layers": 2, "bidirectional": True}),
    (LSTM, nn.LSTM, {}),
    (LSTM, nn.LSTM, {"num_layers": 2, "bidirectional": True}),
    (LSTM, nn.LSTM, {"num_layers": 3, "bias": False, "batch_first": True}),
    (GRU, nn.GRU, {"num_layers": 2}),
    (GRU, nn.GRU, {"bidirectional": True, "batch_first": True}),
]
IDS = ["rnn", "rnn-relu-2l-bi", "lstm", "lstm-2l-bi", "lstm-3l-nobias-bf", "gru-2l", "gru-bi-bf"]


def _pair(ours: type, theirs: type, kwargs: dict[str, Any], impl: str) -> tuple[Any, Any]:
    torch.manual_seed(0)
    reference = theirs(I, H, dtype=D, **kwargs)
    module = ours(I, H, impl=impl, dtype=D, **kwargs)
    module.load_state_dict(reference.state_dict())  # same names, same gate order
    return module, reference


def _data(module: Any, seed: int = 1) -> tuple[torch.Tensor, Any]:
    g = torch.Generator().manual_seed(seed)
    shape = (B, T, I) if module.batch_first else (T, B, I)
    x = torch.randn(*shape, generator=g, dtype=D, requires_grad=True)
    layers = module.num_layers * (2 if module.bidirectional else 1)
    h0 = torch.randn(layers, B, H, generator=g, dtype=D, requires_grad=True)
    if isinstance(module, nn.LSTM):
        c0 = torch.randn(layers, B, H, generator=g, dtype=D, requires_grad=True)
        return x, (h0, c0)
    return x, h0


def _as_list(state: Any) -> list[torch.Tensor]:
    return list(state) if isinstance(state, tuple) else [state]


def _loss(out: torch.Tensor, state: Any) -> torch.Tensor:
    g = torch.Generator().manual_seed(2)
    loss = (out * torch.randn(out.shape, generator=g, dtype=D)).sum()
    for s in _as_list(state):
        loss = loss + (s * torch.randn(s.shape, generator=g, dtype=D)).sum()
    return loss


def _run(module: Any, packed_lengths: torch.Tensor | None, via: str) -> list[torch.Tensor]:
    """Forward + backward; returns outputs, final states and every gradient."""
    x, hx = _data(module)
    bf = module.batch_first
    if packed_lengths is None:
        out, state = module(x, hx)
    elif via == "lengths":
        out, state = module(x, hx, lengths=packed_lengths)
    else:  # PyTorch's own way: pack, run, unpack
        packed = pack_padded_sequence(x, packed_lengths, batch_first=bf, enforce_sorted=False)
        out, state = module(packed, hx)
        out, _ = pad_packed_sequence(out, batch_first=bf, total_length=T)
    _loss(out, state).backward()
    grads = [x.grad, *(h.grad for h in _as_list(hx)), *(p.grad for p in module.parameters())]
    return [out.detach(), *(s.detach() for s in _as_list(state)), *grads]


@pytest.mark.parametrize("lengths", [None, LENGTHS], ids=["full", "variable-length"])
@pytest.mark.parametrize("impl", ["reference", "torch"])
@pytest.mark.parametrize(("ours", "theirs", "kwargs"), CASES, ids=IDS)
def test_matches_torch_values_and_gradients(
    ours: type, theirs: type, kwargs: dict[str, Any], impl: str, lengths: torch.Tensor | None
) -> None:
    module, reference = _pair(ours, theirs, kwargs, impl)
    got = _run(module, lengths, via="lengths")
    expected = _run(reference, lengths, via="packing")
    for a, b in zip(got, expected, strict=True):
        torch.testing.assert_close(a, b)


@pytest.mark.parametrize(("ours", "theirs", "kwargs"), [CASES[3], CASES[6]], ids=[IDS[3], IDS[6]])
def test_reference_accepts_packed_sequences_like_torch(
    ours: type, theirs: type, kwargs: dict[str, Any]
) -> None:
    module, reference = _pair(ours, theirs, kwargs, "reference")
    results = []
    for m in (module, reference):
        x, hx = _data(m)
        packed = pack_padded_sequence(x, LENGTHS, batch_first=m.batch_first, enforce_sorted=False)
        out, state = m(packed, hx)
        _loss(out.data, state).backward()
        results.append([out.data, out.batch_sizes, out.sorted_indices, *_as_list(state), x.grad])
    for a, b in zip(*results, strict=True):
        torch.testing.assert_close(a, b)


@pytest.mark.parametrize("impl", ["reference", "torch"])
def test_padded_steps_never_change_state_or_outputs(impl: str) -> None:
    lstm = LSTM(I, H, num_layers=2, bidirectional=True, batch_first=True, impl=impl, dtype=D)  # type: ignore[arg-type]
    x = torch.randn(B, T, I, dtype=D)
    valid = torch.arange(T).unsqueeze(0) < LENGTHS.unsqueeze(1)  # (B, T)
    garbage = torch.where(valid.unsqueeze(-1), x, torch.full_like(x, 1e3))
    out, (h, c) = lstm(x, lengths=LENGTHS)
    out2, (h2, c2) = lstm(garbage, lengths=LENGTHS)
    torch.testing.assert_close((out, h, c), (out2, h2, c2))
    assert torch.count_nonzero(out[~valid]) == 0
    for b in range(B):  # each sequence alone, unpadded, gives the same result
        alone, (h_b, _) = lstm(x[b : b + 1, : LENGTHS[b]])
        torch.testing.assert_close(out[b, : LENGTHS[b]], alone[0])
        torch.testing.assert_close(h[:, b], h_b[:, 0])


@pytest.mark.parametrize("impl", ["reference", "torch"])
def test_mask_is_equivalent_to_lengths(impl: str) -> None:
    gru = GRU(I, H, batch_first=True, bidirectional=True, impl=impl, dtype=D)  # type: ignore[arg-type]
    x = torch.randn(B, T, I, dtype=D)
    mask = torch.arange(T).unsqueeze(0) < LENGTHS.unsqueeze(1)  # (B, T) like the input
    torch.testing.assert_close(gru(x, mask=mask), gru(x, lengths=LENGTHS))


@pytest.mark.parametrize("impl", ["reference", "torch"])
def test_final_state_continues_the_sequence(impl: str) -> None:
    lstm = LSTM(I, H, num_layers=2, impl=impl, dtype=D)  # type: ignore[arg-type]
    x = torch.randn(T, B, I, dtype=D)
    full, state = lstm(x)
    first, mid = lstm(x[:2])
    second, end = lstm(x[2:], mid)
    torch.testing.assert_close(torch.cat([first, second]), full)
    torch.testing.assert_close(end, state)


@pytest.mark.parametrize("batch_first", [False, True])
def test_unbatched_input_matches_torch(batch_first: bool) -> None:
    kwargs = {"num_layers": 2, "bidirectional": True, "batch_first": batch_first}
    module, reference = _pair(GRU, nn.GRU, kwargs, "reference")
    x, h0 = torch.randn(T, I, dtype=D), torch.randn(4, H, dtype=D)
    torch.testing.assert_close(module(x, h0), reference(x, h0))


@pytest.mark.parametrize("impl", ["reference", "torch"])
def test_wrong_sizes_get_pytorchs_messages_on_both_paths(impl: str) -> None:
    lstm = LSTM(I, H, impl=impl)  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match="must be equal to input_size"):
        lstm(torch.randn(T, B, I + 1))
    with pytest.raises(RuntimeError, match=r"Expected hidden\[0\] size"):
        lstm(torch.randn(T, B, I), (torch.zeros(1, B + 1, H), torch.zeros(1, B + 1, H)))


def test_dropout_between_layers_only_in_training() -> None:
    torch.manual_seed(0)
    lstm = LSTM(I, H, num_layers=3, dropout=0.5, impl="reference", dtype=D)
    plain = LSTM(I, H, num_layers=3, impl="reference", dtype=D)
    plain.load_state_dict(lstm.state_dict())
    x = torch.randn(T, B, I, dtype=D)
    a, _ = lstm(x)
    b, _ = lstm(x)
    assert not torch.allclose(a, b)  # a fresh mask per call
    torch.manual_seed(3)
    c, _ = lstm(x)
    torch.manual_seed(3)
    torch.testing.assert_close(lstm(x)[0], c)  # reproducible under a seed
    lstm.eval()
    torch.testing.assert_close(lstm(x), plain(x))  # identity in evaluation


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"lengths": torch.tensor([6, 0, 3, 3])}, ValueError, r"in \[1, 6\]"),
        ({"lengths": torch.tensor([6, 7, 3, 3])}, ValueError, r"in \[1, 6\]"),
        ({"lengths": torch.tensor([6, 3])}, ValueError, r"shape \(batch,\)"),
        ({"mask": torch.ones(B, T, dtype=torch.bool)}, ValueError, r"layout \(T, B\)"),
        ({"lengths": LENGTHS, "mask": torch.ones(T, B)}, ValueError, "not both"),
    ],
)
def test_bad_lengths_and_masks_are_rejected(
    kwargs: dict[str, Any], error: type, match: str
) -> None:
    rnn = RNN(I, H, impl="reference")
    with pytest.raises(error, match=match):
        rnn(torch.randn(T, B, I), **kwargs)


def test_mask_with_holes_is_rejected_and_unknown_impl_lists_the_valid_ones() -> None:
    mask = torch.ones(T, B, dtype=torch.bool)
    mask[2, 0] = False  # a hole: not right padding
    with pytest.raises(ValueError, match="prefix of each sequence"):
        GRU(I, H)(torch.randn(T, B, I), mask=mask)
    with pytest.raises(UsageError, match="unknown impl 'cudnn'; valid: torch, reference"):
        LSTM(I, H, impl="cudnn")  # type: ignore[arg-type]
    assert "impl='reference'" in repr(LSTM(I, H, impl="reference"))


def test_jordan_network_shapes_padding_and_state() -> None:
    torch.manual_seed(0)
    jordan = Jordan(I, H, 2, batch_first=True, dtype=D)
    x = torch.randn(B, T, I, dtype=D)
    out, y_n = jordan(x, lengths=LENGTHS)
    assert out.shape == (B, T, 2) and y_n.shape == (B, 2)
    valid = torch.arange(T).unsqueeze(0) < LENGTHS.unsqueeze(1)
    assert torch.count_nonzero(out[~valid]) == 0
    torch.testing.assert_close(y_n, out[torch.arange(B), LENGTHS - 1])  # last valid output
    first, y_mid = jordan(x[:, :2])
    second, y_end = jordan(x[:, 2:], y_mid)  # the output is the state
    full, y_full = jordan(x)
    torch.testing.assert_close(torch.cat([first, second], dim=1), full)
    torch.testing.assert_close(y_end, y_full)


def test_jordan_without_feedback_is_a_feedforward_net_per_step() -> None:
    jordan = Jordan(I, H, 2, output_nonlinearity="identity", dtype=D)
    with torch.no_grad():
        jordan.weight_yh.zero_()
    x = torch.randn(T, B, I, dtype=D)
    expected = (
        torch.tanh(x @ jordan.weight_ih.T + jordan.bias_h) @ jordan.weight_hy.T + jordan.bias_y
    )
    torch.testing.assert_close(jordan(x)[0], expected)
    with pytest.raises(UsageError, match="valid: tanh, relu, sigmoid, identity"):
        Jordan(I, H, 2, nonlinearity="softsign")
