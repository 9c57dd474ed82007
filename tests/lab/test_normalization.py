"""The normalization claims' helpers: the ICS and landscape probes, noisy BN, the measures."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from danlu.functional import orthogonal_
from danlu.lab.normalization import (
    Net,
    StepNoise,
    distribution_shift,
    ics_probe,
    landscape_probe,
    patches,
    rotated_distances,
    steps_to,
    whitening_distance,
)
from danlu.nn import BatchNorm1d, PCAWhitening


def _batch(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(32, 6, generator=g), torch.randint(0, 3, (32,), generator=g)


def test_distribution_shift_is_the_w2_distance_in_units_of_the_sd() -> None:
    x = torch.randn(1000, 4, dtype=torch.float64)
    assert distribution_shift(x, x) == 0
    # shift every unit by 0.5 sd: the distance is 0.5; scale by 2: |2σ − σ|/σ = 1
    assert distribution_shift(x, x + 0.5 * x.std(0)) == pytest.approx(0.5, rel=1e-9)
    centred = x - x.mean(0)
    assert distribution_shift(centred, 2 * centred) == pytest.approx(1.0, rel=1e-9)


def test_net_layers_inputs_and_noise() -> None:
    net = Net((6, 5, 4, 3), "relu", "noisy")
    assert len(net.layers) == 3 and net.weight(2).shape == (3, 4)
    assert sum(isinstance(m, BatchNorm1d) for m in net.modules()) == 2
    logits, inputs = net.trace(torch.randn(8, 6))
    assert logits.shape == (8, 3) and [t.shape[1] for t in inputs] == [6, 5, 4]
    with pytest.raises(ValueError, match="norm must be"):
        Net((6, 3), "relu", "layer")


def test_step_noise_scales_and_shifts_in_training_only() -> None:
    noise = StepNoise(5, shift=1.0, scale=0.5)
    noise.resample(torch.Generator().manual_seed(0))
    assert ((noise.s >= 0.5) & (noise.s <= 1.5)).all() and (noise.m.abs() <= 1).all()
    x = torch.randn(4, 5)
    assert torch.equal(noise(x), x * noise.s + noise.m)
    assert torch.equal(noise.eval()(x), x)


@pytest.mark.parametrize("norm", ["none", "bn"])
def test_ics_probe_with_no_step_changes_nothing_and_restores_the_net(norm: str) -> None:
    torch.manual_seed(0)
    net = Net((6, 5, 5, 3), "tanh", norm)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    x, y = _batch()
    rows = ics_probe(net, x, y, lr=0.0)
    assert len(rows) == 2
    for row in rows:
        assert row["grad"] == pytest.approx(0, abs=1e-6) and row["dist"] == 0
        assert row["cos"] == pytest.approx(1, abs=1e-6)
    ics_probe(net, x, y, lr=0.5)
    for k, v in net.state_dict().items():
        assert torch.equal(v, before[k]), k


def test_ics_probe_compares_with_the_gradient_after_the_earlier_layers_step() -> None:
    torch.manual_seed(1)
    net = Net((6, 5, 5, 3), "tanh", "none")
    x, y = _batch(1)
    lr = 0.3
    rows = ics_probe(net, x, y, lr)
    # by hand for the last layer (i = 2): move layers 0 and 1 by −lr·∇, recompute ∇W_2
    F.cross_entropy(net(x), y).backward()
    g = net.weight(2).grad.clone()
    with torch.no_grad():
        for layer in net.layers[:2]:
            for p in layer.parameters():
                p -= lr * p.grad
    net.zero_grad()
    F.cross_entropy(net(x), y).backward()
    g2 = net.weight(2).grad
    assert rows[1]["grad"] == pytest.approx(float((g2 - g).norm() / g.norm()), rel=1e-5)


def test_landscape_probe_measures_the_loss_and_gradient_along_minus_g() -> None:
    torch.manual_seed(2)
    model = nn.Linear(6, 3)
    x, y = _batch(2)
    theta = nn.utils.parameters_to_vector(model.parameters()).detach().clone()
    found = landscape_probe(model, x, y, etas=(0.5, 2.0))
    assert torch.equal(nn.utils.parameters_to_vector(model.parameters()), theta)

    def loss_grad(vec: torch.Tensor) -> tuple[float, torch.Tensor]:
        nn.utils.vector_to_parameters(vec, model.parameters())
        model.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        return float(loss.detach()), torch.cat([p.grad.flatten() for p in model.parameters()])

    l0, g = loss_grad(theta)
    l1, g1 = loss_grad(theta - 0.5 * g)
    l2, g2 = loss_grad(theta - 2.0 * g)
    assert found["loss_range"] == pytest.approx(max(l0, l1, l2) - min(l0, l1, l2), rel=1e-5)
    change = max(float((g1 - g).norm()), float((g2 - g).norm())) / float(g.norm())
    assert found["grad_change"] == pytest.approx(change, rel=1e-5)


def test_steps_to_reads_the_moving_mean() -> None:
    losses = [3.0, 2.0, 1.0, 0.4, 0.4, 0.4]
    assert steps_to(losses, 0.5, 1) == 3
    assert steps_to(losses, 0.5, 2) == 4  # (0.4 + 0.4)/2 first at steps 3-4
    assert steps_to(losses, 0.1, 2) is None
    assert steps_to([1.0, float("inf")], 2.0, 1) is None


def test_patches_cut_the_images_and_whitening_distance() -> None:
    rows = np.repeat(np.arange(28, dtype=np.uint8)[:, None], 28, 1)[None]  # pixel = its row
    cut = patches(rows, 5, 3, seed=0)
    assert cut.shape == (5, 9) and cut.dtype == torch.float64
    block = (cut * 255).round().reshape(5, 3, 3)  # (n, row, col)
    assert (block[:, 1:] - block[:, :-1] == 1).all() and (block[:, :, 1:] == block[:, :, :1]).all()
    assert block.min() >= 4 and block.max() <= 23  # inside the central region
    cols = patches(rows.transpose(0, 2, 1).copy(), 5, 3, seed=0).reshape(5, 3, 3) * 255
    assert (cols.round()[:, :, 1:] - cols.round()[:, :, :-1] == 1).all()
    x = torch.randn(50, 4, dtype=torch.float64)
    assert whitening_distance(x, x.mean(0), torch.eye(4, dtype=torch.float64)) == 0
    assert whitening_distance(x, x.mean(0), 2 * torch.eye(4, dtype=torch.float64)) == (
        pytest.approx(float(((x - x.mean(0)) ** 2).sum(-1).mean() / 4))
    )


def test_rotated_distances_match_the_direct_distance() -> None:
    g = torch.Generator().manual_seed(3)
    x = torch.randn(300, 5, generator=g, dtype=torch.float64)
    x = x @ torch.randn(5, 5, generator=g, dtype=torch.float64)
    pca = PCAWhitening(5, eps=0.0).double().fit(x)
    qs = [orthogonal_(torch.empty(5, 5, dtype=torch.float64), generator=g) for _ in range(3)]
    direct = [whitening_distance(x, pca.mean, q @ pca.matrix) for q in qs]
    assert rotated_distances(x, pca.mean, pca.matrix, qs) == pytest.approx(direct, rel=1e-10)
