"""Lazy: which rows move in each mode, and mode="sparse" against torch.optim.SparseAdam."""

from __future__ import annotations

import io
import math

import pytest
import torch
from torch import nn

from danlu.optim import SGD, Adam, AdamW, Lazy, touched_rows

VOCAB, DIM = 40, 5
STEPS = [torch.tensor(ix) for ix in ([1, 5, 5, 7], [5, 9], [0, 1, 2, 39], [7, 7], [9, 30, 31])]


def embedding(sparse: bool) -> nn.Embedding:
    torch.manual_seed(0)
    return nn.Embedding(VOCAB, DIM, sparse=sparse).double()


def loss_fn(emb: nn.Embedding, ix: torch.Tensor) -> torch.Tensor:
    target = torch.linspace(-1, 1, DIM, dtype=torch.float64)
    return (emb(ix) - target).pow(2).sum()


def run(emb: nn.Embedding, opt: torch.optim.Optimizer, steps=STEPS, before_step=None) -> None:
    for t, ix in enumerate(steps):
        opt.zero_grad()
        loss_fn(emb, ix).backward()
        if before_step is not None:
            before_step(opt, t)
        opt.step()


def rows_changed(a: torch.Tensor, b: torch.Tensor) -> list[int]:
    return (a != b).any(dim=1).nonzero().flatten().tolist()


def test_touched_rows_dense_and_sparse_agree() -> None:
    dense = torch.zeros(6, 2)
    dense[1] = torch.tensor([0.0, 2.0])
    dense[4] = torch.tensor([-1.0, 0.0])
    sparse = torch.sparse_coo_tensor(
        torch.tensor([[4, 1, 4]]),
        torch.tensor([[-1.0, 0.0], [0.0, 2.0], [0.0, 0.0]]),
        (6, 2),
        check_invariants=True,
    )
    for grad in (dense, sparse):
        rows, values = touched_rows(grad)
        assert rows.tolist() == [1, 4]
        assert torch.equal(values, dense[[1, 4]])


@pytest.mark.parametrize("sparse_grad", [True, False], ids=["sparse_grad", "dense_grad"])
def test_sparse_mode_moves_only_touched_rows(sparse_grad: bool) -> None:
    emb = embedding(sparse_grad)
    lazy_params = None if sparse_grad else [emb.weight]
    opt = Lazy(AdamW(emb.parameters(), lr=0.1, weight_decay=0.1), mode="sparse", params=lazy_params)
    before = emb.weight.detach().clone()
    run(emb, opt, STEPS[:1])
    assert rows_changed(before, emb.weight.detach()) == [1, 5, 7]
    state = opt.state[emb.weight]
    assert rows_changed(torch.zeros_like(before), state["exp_avg"]) == [1, 5, 7]
    after_first = {k: state[k].clone() for k in ("exp_avg", "exp_avg_sq")}
    weights_first = emb.weight.detach().clone()
    run(emb, opt, STEPS[1:2])  # rows 5 and 9
    assert rows_changed(weights_first, emb.weight.detach()) == [5, 9]
    for k in ("exp_avg", "exp_avg_sq"):  # untouched rows' moments are frozen too
        assert rows_changed(after_first[k], state[k]) == [5, 9]
    assert state["step"] == 2


def test_sparse_mode_sparse_and_dense_gradients_give_identical_results() -> None:
    results = []
    for sparse_grad in (True, False):
        emb = embedding(sparse_grad)
        opt = Lazy(Adam(emb.parameters(), lr=0.05), params=None if sparse_grad else [emb.weight])
        run(emb, opt)
        results.append(emb.weight.detach())
    assert torch.equal(results[0], results[1])


def test_sparse_mode_matches_torch_sparse_adam() -> None:
    # SparseAdam adds eps to √v before the bias correction of v: θ -= lr·√bc2/bc1 · m/(√v + ε).
    # Adam's ε' = ε/√bc2 in step t gives the same update, so set it per step.
    eps, beta2 = 1e-8, 0.999
    ours, ref = embedding(True), embedding(True)

    def sparse_adam_eps(opt: torch.optim.Optimizer, t: int) -> None:
        opt.param_groups[0]["eps"] = eps / math.sqrt(1 - beta2 ** (t + 1))

    steps = STEPS * 6
    run(ours, Lazy(Adam(ours.parameters(), lr=0.05), mode="sparse"), steps, sparse_adam_eps)
    run(ref, torch.optim.SparseAdam(list(ref.parameters()), lr=0.05, eps=eps), steps)
    torch.testing.assert_close(ours.weight, ref.weight, rtol=1e-10, atol=1e-12)
    assert rows_changed(embedding(True).weight.detach(), ours.weight.detach()) == sorted(
        set(torch.cat(STEPS).tolist())
    )


def test_su_mode_masks_the_step_but_lets_moments_decay() -> None:
    emb, dense_emb = embedding(False), embedding(False)
    opt = Lazy(Adam(emb.parameters(), lr=0.1), mode="su", params=[emb.weight])
    dense = Adam(dense_emb.parameters(), lr=0.1)
    run(emb, opt, STEPS[:1])
    run(dense_emb, dense, STEPS[:1])
    # First step: identical moments; only touched rows of the weights moved.
    m1 = opt.state[emb.weight]["exp_avg"].clone()
    assert torch.equal(m1, dense.state[dense_emb.weight]["exp_avg"])
    weights_first = emb.weight.detach().clone()

    run(emb, opt, STEPS[1:2])  # rows 5 and 9
    run(dense_emb, dense, STEPS[1:2])
    assert rows_changed(weights_first, emb.weight.detach()) == [5, 9]
    m2 = opt.state[emb.weight]["exp_avg"]
    torch.testing.assert_close(m2[[1, 7]], 0.9 * m1[[1, 7]])  # decayed with g = 0
    assert torch.equal(m2, dense.state[dense_emb.weight]["exp_avg"])
    # The dense optimizer also moved rows 1 and 7 (momentum), su did not.
    assert rows_changed(weights_first, dense_emb.weight.detach()) == [1, 5, 7, 9]


def test_su_mode_with_sparse_gradients_and_any_torch_optimizer() -> None:
    emb = embedding(True)
    opt = Lazy(torch.optim.Adam(emb.parameters(), lr=0.1), mode="su")
    before = emb.weight.detach().clone()
    run(emb, opt, STEPS[:2])
    assert rows_changed(before, emb.weight.detach()) == [1, 5, 7, 9]
    assert emb.weight.grad.is_sparse  # the user's gradient is restored after the step


def test_dense_parameters_get_the_ordinary_step() -> None:
    torch.manual_seed(0)
    model = nn.ModuleDict({"emb": nn.Embedding(VOCAB, DIM, sparse=True), "out": nn.Linear(DIM, 1)})
    model = model.double()
    reference = nn.Linear(DIM, 1).double()
    reference.load_state_dict(model["out"].state_dict())
    opt = Lazy(Adam(model.parameters(), lr=0.05), mode="sparse")
    ref_opt = Adam(reference.parameters(), lr=0.05)
    for ix in STEPS:
        x = model["emb"](ix).detach()  # the same inputs for the reference head
        opt.zero_grad()
        ref_opt.zero_grad()
        model["out"](model["emb"](ix)).sum().backward()
        reference(x).sum().backward()
        opt.step()
        ref_opt.step()
    torch.testing.assert_close(model["out"].weight, reference.weight, rtol=1e-12, atol=1e-14)


def test_sparse_mode_with_sgd_momentum_starts_untouched_buffers_at_zero() -> None:
    emb = embedding(True)
    opt = Lazy(SGD(emb.parameters(), lr=0.1, momentum=0.9), mode="sparse")
    run(emb, opt, STEPS[:2])
    buf = opt.state[emb.weight]["momentum_buffer"]
    assert buf.shape == emb.weight.shape
    assert rows_changed(torch.zeros_like(buf), buf) == [1, 5, 7, 9]


def test_state_dict_round_trip() -> None:
    emb = embedding(True)
    opt = Lazy(Adam(emb.parameters(), lr=0.05))
    run(emb, opt, STEPS[:2])
    buffer = io.BytesIO()
    torch.save({"emb": emb.state_dict(), "opt": opt.state_dict()}, buffer)
    run(emb, opt, STEPS[2:])
    buffer.seek(0)
    saved = torch.load(buffer, weights_only=True)
    fresh = embedding(True)
    fresh.load_state_dict(saved["emb"])
    opt2 = Lazy(Adam(fresh.parameters(), lr=0.05))
    opt2.load_state_dict(saved["opt"])
    run(fresh, opt2, STEPS[2:])
    assert torch.equal(fresh.weight, emb.weight)
    with pytest.raises(ValueError, match="mode='sparse'"):
        Lazy(Adam(fresh.parameters()), mode="su").load_state_dict(saved["opt"])


def test_invalid_arguments() -> None:
    params = list(embedding(True).parameters())
    with pytest.raises(ValueError, match=r"Invalid Lazy mode: 'dense' \(valid: su, sparse\)"):
        Lazy(Adam(params), mode="dense")
    with pytest.raises(TypeError, match=r"danlu optimizer .* got Adam"):
        Lazy(torch.optim.Adam(params), mode="sparse")
