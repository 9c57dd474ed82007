"""EMA of weights: the bias-corrected average by hand, swapping in and out, resuming."""

from __future__ import annotations

import io

import pytest
import torch
from torch import nn

from danlu.optim import EMA, SGD, Adam

from .helpers import flat_params, make_batches, make_net, train

BATCHES = make_batches(n=12)


def test_bias_corrected_average_is_the_weighted_mean_of_the_iterates() -> None:
    decay = 0.8
    model = make_net()
    opt = EMA(Adam(model.parameters(), lr=0.05), decay=decay)
    history = []
    for x, y in BATCHES:
        opt.zero_grad()
        nn.functional.mse_loss(model(x), y).backward()
        opt.step()
        history.append(flat_params(model))
        t = len(history)
        # θ̄_t = Σ_i (1-β) β^{t-i} θ_i / (1 - β^t)
        expected = sum((1 - decay) * decay ** (t - i) * th for i, th in enumerate(history, 1))
        expected = expected / (1 - decay**t)
        average = torch.cat([a.flatten() for a in opt.averages()])
        torch.testing.assert_close(average, expected, rtol=1e-12, atol=1e-14)
    assert torch.equal(torch.cat([a.flatten() for a in opt.averages()]), average)
    assert not torch.allclose(average, history[-1], atol=1e-4)


def test_first_average_equals_the_weights_with_bias_correction_only() -> None:
    for bias_correction, expect_equal in ((True, True), (False, False)):
        model = make_net()
        initial = flat_params(model)
        opt = EMA(SGD(model.parameters(), lr=0.5), decay=0.9, bias_correction=bias_correction)
        train(model, opt, BATCHES[:1])
        average = torch.cat([a.flatten() for a in opt.averages()])
        assert torch.allclose(average, flat_params(model), rtol=1e-12) is expect_equal
        if not bias_correction:  # starts from the initial weights: 0.9·θ_0 + 0.1·θ_1
            torch.testing.assert_close(average, 0.9 * initial + 0.1 * flat_params(model))


def test_swapped_context_uses_averages_then_restores_live_weights() -> None:
    model = make_net()
    opt = EMA(Adam(model.parameters(), lr=0.05), decay=0.9)
    train(model, opt, BATCHES)
    live = flat_params(model)
    average = torch.cat([a.flatten() for a in opt.averages()])
    x, _ = BATCHES[0]
    with opt.swapped():
        assert torch.equal(flat_params(model), average)
        with pytest.raises(RuntimeError, match="swap_out"):
            opt.step()
        eval_out = model(x)
    assert torch.equal(flat_params(model), live)
    assert not torch.allclose(eval_out, model(x))
    with pytest.raises(RuntimeError, match="not swapped in"):
        opt.swap_out()


def test_state_dict_round_trip() -> None:
    model = make_net()
    opt = EMA(Adam(model.parameters(), lr=0.05), decay=0.9)
    train(model, opt, BATCHES[:5])
    buffer = io.BytesIO()
    torch.save({"model": model.state_dict(), "opt": opt.state_dict()}, buffer)
    train(model, opt, BATCHES[5:])
    buffer.seek(0)
    saved = torch.load(buffer, weights_only=True)
    fresh = make_net(seed=5)
    fresh.load_state_dict(saved["model"])
    opt2 = EMA(Adam(fresh.parameters(), lr=0.05), decay=0.5)  # decay restored from the dict
    opt2.load_state_dict(saved["opt"])
    assert opt2.decay == 0.9 and opt2.num_updates == 5
    train(fresh, opt2, BATCHES[5:])
    for a, b in zip(opt.averages(), opt2.averages(), strict=True):
        assert torch.equal(a, b)


def test_invalid_decay() -> None:
    with pytest.raises(ValueError, match=r"Invalid EMA decay: 1\.0 \(must be in \[0, 1\)\)"):
        EMA(SGD(make_net().parameters(), lr=0.1), decay=1.0)
