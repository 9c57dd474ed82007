"""danlu.nn.dropout.Dropout: both impls follow the definition and are the identity in eval."""

from __future__ import annotations

import pytest
import torch

from danlu.errors import UsageError
from danlu.nn.dropout import Dropout


@pytest.mark.parametrize("impl", ["reference", "torch"])
def test_dropout_module_trains_inverted_and_evaluates_as_identity(impl: str) -> None:
    torch.manual_seed(0)
    drop = Dropout(0.2, impl=impl)  # type: ignore[arg-type]
    x = torch.ones(100_000)
    y = drop(x)
    assert set(y.unique().tolist()) == {0.0, 1.25}
    assert abs(y.mean().item() - 1.0) < 0.02
    drop.eval()
    assert torch.equal(drop(x), x)


def test_dropout_module_validates_arguments() -> None:
    with pytest.raises(UsageError, match="valid: torch, reference"):
        Dropout(0.1, impl="cuda")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        Dropout(2.0)
    assert "impl='reference'" in repr(Dropout(0.1, impl="reference"))
