"""Recurrent cells from the equations equal nn.RNNCell/LSTMCell/GRUCell; scan honours masks."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from torch import nn

from danlu.errors import UsageError
from danlu.functional.recurrent import elman_cell, gru_cell, jordan_cell, lstm_cell, scan

D = torch.float64
B, I, H = 3, 4, 5


def _inputs(seed: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(B, I, generator=g, dtype=D, requires_grad=True)
    h = torch.randn(B, H, generator=g, dtype=D, requires_grad=True)
    c = torch.randn(B, H, generator=g, dtype=D, requires_grad=True)
    return x, h, c


CELL_CASES: list[tuple[str, Any, dict[str, Any]]] = [
    ("elman_tanh", nn.RNNCell, {"nonlinearity": "tanh"}),
    ("elman_relu", nn.RNNCell, {"nonlinearity": "relu"}),
    ("lstm", nn.LSTMCell, {}),
    ("gru", nn.GRUCell, {}),
    ("gru_no_bias", nn.GRUCell, {"bias": False}),
]


@pytest.mark.parametrize(("name", "torch_cell", "kwargs"), CELL_CASES)
def test_cell_matches_torch_values_and_gradients(
    name: str, torch_cell: Any, kwargs: dict[str, Any]
) -> None:
    torch.manual_seed(0)
    cell = torch_cell(I, H, dtype=D, **kwargs)
    w = (cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)
    results = []
    for ours in (True, False):
        x, h, c = _inputs(seed=1)
        cell.zero_grad()
        if name == "lstm":
            out = lstm_cell(x, (h, c), *w) if ours else cell(x, (h, c))
            loss = out[0].sin().sum() + out[1].cos().sum()
        elif name.startswith("elman"):
            out = elman_cell(x, h, *w, nonlinearity=kwargs["nonlinearity"]) if ours else cell(x, h)
            loss = out.sin().sum()
        else:
            out = gru_cell(x, h, *w) if ours else cell(x, h)
            loss = out.sin().sum()
        loss.backward()
        grads = [x.grad, h.grad] + [p.grad for p in cell.parameters()]
        results.append([loss.detach(), *grads])
    for a, b in zip(*results, strict=True):
        torch.testing.assert_close(a, b)


def test_gru_notes_convention_is_torch_with_the_update_gate_flipped() -> None:
    # Notes: h_t = (1 - z')⊙h + z'⊙n with z' = σ(a'); torch: z = σ(a), h_t = (1-z)⊙n + z⊙h.
    # z' = 1 - z = σ(-a): negating the update-gate block of every weight and bias converts.
    torch.manual_seed(0)
    w = [torch.randn(3 * H, I, dtype=D), torch.randn(3 * H, H, dtype=D)]
    b = [torch.randn(3 * H, dtype=D), torch.randn(3 * H, dtype=D)]
    x, h, _ = _inputs(seed=2)
    flip = torch.ones(3 * H, 1, dtype=D)
    flip[H : 2 * H] = -1
    w_notes = [t * flip for t in w]
    b_notes = [t * flip.squeeze(1) for t in b]
    xr, xz, xn = torch.nn.functional.linear(x, w_notes[0], b_notes[0]).chunk(3, -1)
    hr, hz, hn = torch.nn.functional.linear(h, w_notes[1], b_notes[1]).chunk(3, -1)
    r, z_notes = torch.sigmoid(xr + hr), torch.sigmoid(xz + hz)
    candidate = torch.tanh(xn + r * hn)
    notes = (1 - z_notes) * h + z_notes * candidate
    torch.testing.assert_close(gru_cell(x, h, *w, *b), notes)


def test_jordan_cell_feeds_the_output_back() -> None:
    torch.manual_seed(0)
    x, y = torch.randn(B, I, dtype=D), torch.randn(B, 2, dtype=D)
    w_ih, w_yh, w_hy = (
        torch.randn(H, I, dtype=D),
        torch.randn(H, 2, dtype=D),
        torch.randn(2, H, dtype=D),
    )
    b_h, b_y = torch.randn(H, dtype=D), torch.randn(2, dtype=D)
    expected = torch.sigmoid(torch.tanh(x @ w_ih.T + y @ w_yh.T + b_h) @ w_hy.T + b_y)
    got = jordan_cell(x, y, w_ih, w_yh, b_h, w_hy, b_y, "tanh", "sigmoid")
    torch.testing.assert_close(got, expected)
    with pytest.raises(UsageError, match="valid: tanh, relu, sigmoid, identity"):
        jordan_cell(x, y, w_ih, w_yh, b_h, w_hy, b_y, "softsign")


@pytest.mark.parametrize("reverse", [False, True])
def test_scan_skips_masked_steps(reverse: bool) -> None:
    # A running-sum "cell": state ← state + x_t. With a mask the sum covers valid steps only.
    x = torch.arange(1.0, 6.0).view(5, 1, 1).expand(5, 2, 1).clone()  # (T=5, B=2, 1)
    mask = torch.tensor([[1, 1], [1, 1], [1, 0], [1, 0], [0, 0]], dtype=torch.bool)

    def step(x_t: torch.Tensor, s: Any) -> tuple[torch.Tensor, Any]:
        return s + x_t, s + x_t

    out, final = scan(step, x, torch.zeros(2, 1), mask, reverse=reverse)
    assert final.squeeze(1).tolist() == [10.0, 3.0]  # 1+2+3+4, 1+2
    assert out[:, 1, 0].tolist()[2:] == [0.0, 0.0, 0.0]  # padded outputs are zero
    expected = [[1, 3, 6, 10, 0], [10, 9, 7, 4, 0]][reverse]
    assert out[:, 0, 0].tolist() == expected
