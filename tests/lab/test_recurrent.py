"""The helpers of the lab's recurrent claims: the recall task, keep-gate biases, parameter
counts, the first-step gradient and linear probes."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from danlu.lab.recurrent import (
    keep_biased,
    layer_parameters,
    linear_probe,
    recall_batch,
    relative_first_step_gradient,
)
from danlu.nn import GRU, LSTM, RNN


def test_the_recall_target_is_the_marked_first_symbol() -> None:
    x, y = recall_batch(16, 7, torch.Generator().manual_seed(0))
    assert x.shape == (16, 8, 5) and y.shape == (16,)
    assert torch.equal(x[:, 0, :4].argmax(1), y)  # the first step holds the target
    assert bool((x[:, 0, 4] == 1).all()) and bool((x[:, 1:, 4] == 0).all())  # marker
    assert torch.equal(x[:, :, :4].sum(2), torch.ones(16, 8))  # one symbol per step


@pytest.mark.parametrize("cls", [LSTM, GRU])
def test_keep_biased_moves_only_the_keep_gate(cls: type[nn.RNNBase]) -> None:
    layer = cls(3, 4, num_layers=2)
    before = {k: v.clone() for k, v in layer.state_dict().items()}
    keep_biased(layer, 2.0)
    for name, value in layer.state_dict().items():
        delta = value - before[name]
        if name.startswith("bias_ih"):  # block 1 of (i, f, g, o) or (r, z, n): the keep gate
            torch.testing.assert_close(delta[4:8], torch.full((4,), 2.0))
            delta = torch.cat([delta[:4], delta[8:]])
        assert bool((delta == 0).all()), name


def test_keep_biased_refuses_a_plain_rnn() -> None:
    with pytest.raises(ValueError, match="keep gate"):
        keep_biased(RNN(3, 4), 1.0)


@pytest.mark.parametrize(("kind", "gates"), [("RNN", 1), ("GRU", 3), ("LSTM", 4)])
def test_layer_parameters_are_gates_times_one_block(kind: str, gates: int) -> None:
    i, h = 7, 5
    assert layer_parameters(kind, i, h) == gates * (h * i + h * h + 2 * h)


def test_the_first_step_gradient_ratio() -> None:
    x, y = torch.randn(8, 6, 5), torch.randint(4, (8,))
    last_only = lambda t: t[:, -1, :4]  # noqa: E731  # the first step is invisible
    both = lambda t: t[:, 0, :4] + t[:, -1, :4]  # noqa: E731  # both steps count alike
    assert relative_first_step_gradient(last_only, x, y) == 0.0
    assert relative_first_step_gradient(both, x, y) == pytest.approx(1.0)


def test_a_linear_probe_reads_a_linearly_coded_label() -> None:
    g = torch.Generator().manual_seed(0)
    labels = torch.randint(3, (300,), generator=g)
    x = torch.randn(300, 8, generator=g) + 5 * nn.functional.one_hot(labels, 8).float()
    fit = lambda f: linear_probe(f[:200], labels[:200], f[200:], labels[200:], 3, iterations=30)  # noqa: E731
    assert fit(x) > 0.95
    assert fit(torch.randn(300, 8, generator=g)) < 0.6  # no information: near chance
