"""label_smoothed_nll equals torch's cross_entropy(label_smoothing=...), values and grads."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from danlu.functional import label_smoothed_nll

D = torch.float64


def _batch(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(3, 5, 7, generator=g, dtype=D, requires_grad=True)
    target = torch.randint(1, 7, (3, 5), generator=g)
    target[1, 3:] = 0  # padding
    target[2, 4] = 0
    return logits, target


@pytest.mark.parametrize("epsilon", [0.0, 0.1, 0.5, 1.0])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_equals_torch_cross_entropy(epsilon: float, reduction: str) -> None:
    logits, target = _batch()
    ours = label_smoothed_nll(logits, target, epsilon, ignore_index=0, reduction=reduction)
    ref = F.cross_entropy(
        logits.transpose(1, 2),  # torch wants the classes in dim 1
        target,
        ignore_index=0,
        label_smoothing=epsilon,
        reduction=reduction,
    )
    torch.testing.assert_close(ours, ref, atol=1e-12, rtol=0)
    grad_out = torch.randn_like(ours)
    (g_ours,) = torch.autograd.grad(ours, logits, grad_out)
    (g_ref,) = torch.autograd.grad(ref, logits, grad_out)
    torch.testing.assert_close(g_ours, g_ref, atol=1e-12, rtol=0)


def test_zero_smoothing_is_the_plain_nll_and_ignored_positions_add_nothing() -> None:
    logits, target = _batch()
    per_token = label_smoothed_nll(logits, target, 0.0, ignore_index=0, reduction="none")
    nll = -logits.log_softmax(-1).gather(-1, target[..., None]).squeeze(-1)
    keep = target != 0
    torch.testing.assert_close(per_token[keep], nll[keep])
    assert (per_token[~keep] == 0).all()
    mean = label_smoothed_nll(logits, target, 0.0, ignore_index=0)
    torch.testing.assert_close(mean, nll[keep].mean())


def test_bad_arguments_say_what_is_expected() -> None:
    logits, target = _batch()
    with pytest.raises(ValueError, match=r"epsilon must be in \[0, 1\], got 1.5"):
        label_smoothed_nll(logits, target, 1.5)
    with pytest.raises(ValueError, match="leading dimensions"):
        label_smoothed_nll(logits, target[:, :4])
    with pytest.raises(ValueError, match="reduction must be"):
        label_smoothed_nll(logits, target, reduction="max")  # type: ignore[arg-type]
