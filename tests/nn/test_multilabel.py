"""danlu.nn.multilabel: the modules equal the functions and train a linear model."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch
from torch import nn

from danlu.functional.multilabel import one_vs_all_loss, zlpr_loss
from danlu.nn.multilabel import MultiLabelCategoricalCrossEntropy, OneVsAllLoss


@pytest.fixture(autouse=True)
def _one_thread() -> Iterator[None]:
    """Tiny models: one intra-op thread is faster, above all on a busy shared machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_modules_equal_the_functions(reduction: str) -> None:
    g = torch.Generator().manual_seed(0)
    scores = torch.randn(6, 4, generator=g)
    targets = torch.rand(6, 4, generator=g) < 0.5
    zlpr = MultiLabelCategoricalCrossEntropy(reduction)  # type: ignore[arg-type]
    ova = OneVsAllLoss(reduction)  # type: ignore[arg-type]
    torch.testing.assert_close(zlpr(scores, targets), zlpr_loss(scores, targets, reduction))  # type: ignore[arg-type]
    torch.testing.assert_close(ova(scores, targets), one_vs_all_loss(scores, targets, reduction))  # type: ignore[arg-type]
    assert torch.equal(zlpr.predict(scores), scores > 0)
    assert torch.equal(ova.predict(scores), scores > 0)  # σ(s) > 0.5 ⇔ s > 0
    assert "reduction" in repr(zlpr) and "threshold=0.5" in repr(ova)


@pytest.mark.parametrize("loss_cls", [MultiLabelCategoricalCrossEntropy, OneVsAllLoss])
def test_a_linear_model_learns_a_multilabel_rule(loss_cls: type[nn.Module]) -> None:
    # label c is on when feature c is positive: linearly separable, 1-4 labels per row
    torch.manual_seed(0)
    x = torch.randn(256, 4)
    y = x > 0
    model = nn.Linear(4, 4)
    loss_fn = loss_cls()
    opt = torch.optim.Adam(model.parameters(), lr=0.1)
    first = loss_fn(model(x), y).item()
    for _ in range(100):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
    assert loss.item() < first / 4
    predicted = loss_fn.predict(model(x))  # type: ignore[operator]
    assert (predicted == y).float().mean().item() > 0.97


def test_modules_validate_arguments() -> None:
    with pytest.raises(ValueError, match="reduction must be one of mean, sum, none"):
        MultiLabelCategoricalCrossEntropy("avg")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="threshold must be in"):
        OneVsAllLoss(threshold=0.0)
