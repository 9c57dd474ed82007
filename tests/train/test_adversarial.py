"""FGM on embeddings: the gradient is the clean one plus the one at e + eps * g / ||g||."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from danlu.errors import UsageError
from danlu.train.adversarial import EmbeddingFGM


class BagModel(nn.Module):
    """Embeddings -> tanh -> mean over time -> linear, non-linear enough to tell points apart."""

    def __init__(self) -> None:
        super().__init__()
        self.embedding = nn.Embedding(12, 5, padding_idx=0)
        self.fc = nn.Linear(5, 3)

    def body(self, e: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.tanh(e).mean(1))

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.body(self.embedding(tokens))


def _loss(model: nn.Module, batch: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
    tokens, y = batch
    return F.cross_entropy(model(tokens), y)


def test_gradient_is_clean_plus_adversarial_in_float64() -> None:
    torch.manual_seed(0)
    model = BagModel().double()
    tokens = torch.tensor([[3, 5, 7, 0], [1, 2, 2, 11], [4, 4, 9, 6]])
    y = torch.tensor([0, 2, 1])
    eps = 0.7

    # reference, written from the equations
    e = model.embedding(tokens)
    g = torch.autograd.grad(F.cross_entropy(model.body(e), y), e)[0]  # (B, T, D)
    r = eps * g / g.flatten(1).norm(dim=1)[:, None, None]
    params = list(model.parameters())
    clean = torch.autograd.grad(F.cross_entropy(model(tokens), y), params)
    moved = torch.autograd.grad(F.cross_entropy(model.body(model.embedding(tokens) + r), y),
                                params)  # fmt: skip
    expected = [a + b for a, b in zip(clean, moved, strict=True)]
    assert r.flatten(1).norm(dim=1).allclose(torch.full((3,), eps, dtype=torch.float64))

    fgm = EmbeddingFGM(model, eps)
    model.zero_grad()
    with fgm.watch():
        loss = _loss(model, (tokens, y))
    loss.backward()
    fgm.adversarial_loss(lambda: _loss(model, (tokens, y))).backward()
    for p, want in zip(params, expected, strict=True):
        torch.testing.assert_close(p.grad, want, rtol=1e-12, atol=1e-12)
    # the hooks are gone: a plain forward is unperturbed again
    torch.testing.assert_close(_loss(model, (tokens, y)), loss)


def test_frozen_embeddings_are_perturbed_too() -> None:
    torch.manual_seed(1)
    model = BagModel().double()
    model.embedding.weight.requires_grad_(False)
    tokens, y, eps = torch.tensor([[3, 5, 7], [1, 2, 11]]), torch.tensor([0, 2]), 0.5
    e = model.embedding(tokens).requires_grad_()
    g = torch.autograd.grad(F.cross_entropy(model.body(e), y), e)[0]
    r = eps * g / g.flatten(1).norm(dim=1)[:, None, None]
    params = list(model.fc.parameters())
    clean = torch.autograd.grad(F.cross_entropy(model(tokens), y), params)
    moved = torch.autograd.grad(F.cross_entropy(model.body(model.embedding(tokens) + r), y),
                                params)  # fmt: skip
    fgm = EmbeddingFGM(model, eps)
    with fgm.watch():
        loss = _loss(model, (tokens, y))
    loss.backward()
    fgm.adversarial_loss(lambda: _loss(model, (tokens, y))).backward()
    for p, a, b in zip(params, clean, moved, strict=True):
        torch.testing.assert_close(p.grad, a + b, rtol=1e-12, atol=1e-12)
    assert model.embedding.weight.grad is None


def test_bad_uses_are_refused() -> None:
    with pytest.raises(UsageError, match="must be > 0"):
        EmbeddingFGM(BagModel(), 0.0)
    with pytest.raises(UsageError, match=r"nn\.Embedding"):
        EmbeddingFGM(nn.Linear(3, 2), 1.0)
    with pytest.raises(RuntimeError, match="watched forward pass"):
        EmbeddingFGM(BagModel(), 1.0).adversarial_loss(lambda: torch.zeros(()))


def test_trainer_learns_with_adversarial_steps(tmp_path) -> None:
    from danlu.data import TensorData
    from danlu.train.config import TrainConfig
    from danlu.train.trainer import Trainer

    torch.manual_seed(0)
    tokens = torch.randint(1, 12, (96, 6))
    y = (tokens == 3).any(1).long() + (tokens == 5).any(1).long()  # 0, 1 or 2
    cfg = TrainConfig(epochs=30, batch_size=32, lr=0.05, adversarial=0.5, quiet=True)
    model = BagModel()
    before = _loss(model, (tokens, y)).item()
    Trainer(model, _loss, TensorData(tokens, y), cfg, tmp_path / "run").fit()
    assert _loss(model, (tokens, y)).item() < 0.5 * before
    with pytest.raises(UsageError, match=r"nn\.Embedding"):
        Trainer(nn.Linear(6, 3), _loss, TensorData(tokens.float(), y), cfg, tmp_path / "r2")
    with pytest.raises(UsageError, match="--adversarial must be >= 0"):
        TrainConfig(adversarial=-1.0)
