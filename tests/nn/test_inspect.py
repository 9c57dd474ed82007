"""Inspector hooks record activation statistics and gradient norms, and show vanishing
gradients in a deep sigmoid stack but not in a He-initialized ReLU stack."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from danlu.nn.init import init_weights
from danlu.nn.inspect import Inspector

DEPTH, WIDTH = 10, 32


def _stack(activation: type[nn.Module], scheme: str) -> nn.Sequential:
    torch.manual_seed(0)
    layers: list[nn.Module] = []
    for _ in range(DEPTH):
        layers += [nn.Linear(WIDTH, WIDTH), activation()]
    model = nn.Sequential(*layers, nn.Linear(WIDTH, 1))
    return init_weights(model, scheme, generator=torch.Generator().manual_seed(0))


def _train(model: nn.Module, steps: int, **kwargs: object) -> Inspector:
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    g = torch.Generator().manual_seed(1)
    with Inspector(model, **kwargs) as inspector:  # type: ignore[arg-type]
        for _ in range(steps):
            x = torch.randn(64, WIDTH, generator=g)
            loss = (model(x).squeeze(1) - x[:, 0]).pow(2).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return inspector


@pytest.mark.parametrize(
    ("activation", "scheme", "low", "high"),
    [
        (nn.Sigmoid, "xavier_normal", 0.0, 1e-3),  # vanishing: σ' ≤ 1/4 per layer
        (nn.ReLU, "he_normal", 0.05, 20.0),  # He keeps the backward scale
    ],
)
def test_first_to_last_gradient_norm_ratio(
    activation: type[nn.Module], scheme: str, low: float, high: float
) -> None:
    norms = _train(_stack(activation, scheme), steps=3).grad_norms()
    assert list(norms) == [f"{2 * i}.weight" for i in range(DEPTH + 1)]  # input to output
    ratio = norms["0.weight"] / norms[f"{2 * DEPTH}.weight"]
    assert low <= ratio <= high


def test_records_activation_statistics_per_layer_and_step() -> None:
    inspector = _train(_stack(nn.Tanh, "xavier_normal"), steps=5, every=2)
    records = inspector.activations()
    assert sorted({r.step for r in records}) == [0, 2, 4]
    assert {r.layer for r in records} == {str(2 * i + 1) for i in range(DEPTH)}
    first = inspector.activation_stats(step=0)["1"]
    assert first.kind == "Tanh" and first.dead_fraction is None
    assert -1 < first.mean < 1 and 0 < first.std < 1
    assert first.saturated_fraction is not None and 0 <= first.saturated_fraction < 0.1
    assert "‖grad‖" in inspector.summary()


def test_saturated_sigmoid_and_dead_relu_are_detected() -> None:
    saturating = nn.Sequential(nn.Linear(8, 8), nn.Sigmoid())
    dying = nn.Sequential(nn.Linear(8, 8), nn.ReLU())
    with torch.no_grad():
        saturating[0].weight.fill_(10.0)
        dying[0].bias.fill_(-100.0)  # every unit negative for every input
    x = torch.rand(32, 8) + 0.5
    with Inspector(saturating) as a, Inspector(dying) as b:
        saturating(x)
        dying(x)
    assert a.activation_stats()["1"].saturated_fraction == 1.0
    assert b.activation_stats()["1"].dead_fraction == 1.0


def test_eval_passes_are_not_recorded_and_detach_removes_the_hooks() -> None:
    model = nn.Sequential(nn.Linear(4, 4), nn.ReLU())
    inspector = Inspector(model).attach()
    model.eval()
    model(torch.randn(2, 4))
    assert inspector.activations() == []
    model.train()
    inspector.detach()
    model(torch.randn(2, 4)).sum().backward()
    assert inspector.activations() == [] and inspector.gradients() == []


def test_explicit_layers_and_bad_arguments() -> None:
    model = nn.Sequential(nn.Linear(4, 4), nn.ReLU())
    with Inspector(model, layers=["0"]) as inspector:
        model(torch.randn(3, 4))
    assert [r.kind for r in inspector.activations()] == ["Linear"]
    with pytest.raises(ValueError, match="unknown layer names"):
        Inspector(model, layers=["encoder"])
    with pytest.raises(ValueError, match="every must be an int >= 1"):
        Inspector(model, every=0)
