"""Lookahead: degenerate case, a hand-computed example, resume mid-cycle, shared groups."""

from __future__ import annotations

import io

import pytest
import torch
from torch import nn

from danlu.optim import SGD, Adam, Lazy, Lookahead, as_lr_scheduler, step_decay

from .helpers import flat_params, make_batches, make_net, train

BATCHES = make_batches(n=30)


@pytest.mark.parametrize(
    "make_inner",
    [
        lambda ps: SGD(ps, lr=0.05, momentum=0.9),
        lambda ps: Adam(ps, lr=0.01, amsgrad=True),
        lambda ps: torch.optim.Adam(ps, lr=0.01),  # any torch optimizer can be wrapped
    ],
    ids=["sgd_momentum", "adam_amsgrad", "torch_adam"],
)
def test_k1_alpha1_equals_inner_optimizer_exactly(make_inner) -> None:
    plain, wrapped = make_net(), make_net()
    train(plain, make_inner(plain.parameters()), BATCHES)
    train(wrapped, Lookahead(make_inner(wrapped.parameters()), k=1, alpha=1.0), BATCHES)
    assert torch.equal(flat_params(plain), flat_params(wrapped))


def test_hand_computed_two_parameter_example() -> None:
    # loss = a² + b², plain SGD lr 0.1: each fast step multiplies a weight by 0.8.
    # k = 2, α = 0.5, slow weights start at (1, -2):
    #   steps 1, 2: 0.8, 0.64 -> sync: slow = 1 + 0.5·(0.64 - 1) = 0.82, fast = 0.82
    #   steps 3, 4: 0.656, 0.5248 -> sync: slow = 0.82 + 0.5·(0.5248 - 0.82) = 0.6724
    a = nn.Parameter(torch.tensor(1.0, dtype=torch.float64))
    b = nn.Parameter(torch.tensor(-2.0, dtype=torch.float64))
    opt = Lookahead(torch.optim.SGD([a, b], lr=0.1), k=2, alpha=0.5)
    expected_a = [0.8, 0.82, 0.656, 0.6724]
    for want in expected_a:
        opt.zero_grad()
        (a**2 + b**2).backward()
        opt.step()
        assert a.item() == pytest.approx(want, abs=1e-12)
        assert b.item() == pytest.approx(-2 * want, abs=1e-12)
    assert opt.slow[a].item() == pytest.approx(0.6724, abs=1e-12)
    # Zero-initialised slow weights would have given 0.5·0.64 = 0.32 at the first sync.


@pytest.mark.parametrize("pullback", ["none", "reset", "pullback"])
def test_resume_mid_cycle_equals_uninterrupted_run(pullback: str) -> None:
    def build(model: nn.Module) -> Lookahead:
        return Lookahead(SGD(model.parameters(), lr=0.05, momentum=0.9), k=5, pullback=pullback)

    model = make_net()
    opt = build(model)
    train(model, opt, BATCHES[:7])  # 7 = one sync + 2 steps into the next cycle
    buffer = io.BytesIO()
    torch.save({"model": model.state_dict(), "opt": opt.state_dict()}, buffer)
    train(model, opt, BATCHES[7:])

    buffer.seek(0)
    saved = torch.load(buffer, weights_only=True)
    fresh = make_net(seed=99)
    fresh.load_state_dict(saved["model"])
    resumed = build(fresh)
    resumed.load_state_dict(saved["opt"])
    assert resumed.step_count == 7
    train(fresh, resumed, BATCHES[7:])
    assert torch.equal(flat_params(fresh), flat_params(model))


def test_state_dict_holds_slow_weights_by_parameter_index() -> None:
    model = make_net()
    opt = Lookahead(Adam(model.parameters(), lr=0.01), k=3)
    train(model, opt, BATCHES[:4])
    state = opt.state_dict()
    params = list(model.parameters())
    assert set(state) == {"state", "param_groups", "lookahead"}
    slow = state["lookahead"]["slow"]
    assert sorted(slow) == list(range(len(params)))
    for i, p in enumerate(params):
        assert torch.equal(slow[i], opt.slow[p])
        assert not torch.equal(slow[i], p.detach())  # one step past the sync at step 3
    assert state["lookahead"]["step_count"] == 4


def test_param_groups_are_shared_so_schedulers_reach_the_inner_optimizer() -> None:
    model = make_net()
    inner = Adam(model.parameters(), lr=0.1)
    opt = Lookahead(inner)
    assert opt.param_groups is inner.param_groups and opt.state is inner.state
    sched = as_lr_scheduler(opt, step_decay(2, gamma=0.5))
    train(model, opt, BATCHES[:4], before_step=None)
    for _ in range(4):
        sched.step()
    assert inner.param_groups[0]["lr"] == pytest.approx(0.1 * 0.5**2)
    torch_sched = torch.optim.lr_scheduler.ExponentialLR(opt, gamma=0.5)
    torch_sched.step()
    assert inner.param_groups[0]["lr"] == pytest.approx(0.1 * 0.5**3)


def test_works_under_grad_scaler_like_torch_inner_optimizer() -> None:
    results = []
    for make_inner in (
        lambda ps: Adam(ps, lr=0.01),
        lambda ps: torch.optim.Adam(ps, lr=0.01, foreach=False),
    ):
        model = make_net()
        opt = Lookahead(make_inner(model.parameters()), k=3)
        scaler = torch.amp.GradScaler("cpu", init_scale=2.0**10)
        for t, (x, y) in enumerate(BATCHES[:10]):
            opt.zero_grad()
            scaler.scale(nn.functional.mse_loss(model(x), y)).backward()
            if t == 4:  # overflow: the whole Lookahead step (and its counter) is skipped
                next(model.parameters()).grad[0, 0] = float("nan")
            scaler.step(opt)
            scaler.update()
        assert opt.step_count == 9
        results.append(flat_params(model))
    torch.testing.assert_close(results[0], results[1], rtol=1e-10, atol=1e-12)


def test_slow_weights_follow_added_param_groups() -> None:
    model = make_net()
    extra = nn.Parameter(torch.ones(3, dtype=torch.float64))
    opt = Lookahead(SGD(list(model.parameters()), lr=0.1), k=2)
    opt.add_param_group({"params": [extra]})
    assert torch.equal(opt.slow[extra], extra.detach()) and opt.slow[extra] is not extra
    for _ in range(2):
        opt.zero_grad()
        extra.sum().backward()
        opt.step()
    # fast: 1 - 0.1 - 0.1 = 0.8; slow: 1 + 0.5·(0.8 - 1) = 0.9
    torch.testing.assert_close(extra.detach(), torch.full((3,), 0.9, dtype=torch.float64))


def test_pullback_modes_act_on_the_inner_momentum() -> None:
    def momentum_after_sync(pullback: str) -> torch.Tensor:
        p = nn.Parameter(torch.tensor([1.0], dtype=torch.float64))
        opt = Lookahead(SGD([p], lr=0.1, momentum=0.9), k=2, alpha=0.5, pullback=pullback)
        for _ in range(2):
            opt.zero_grad()
            p.sum().backward()  # g = 1 every step: b = 1, then 1.9
            opt.step()
        return opt.state[p]["momentum_buffer"]

    assert momentum_after_sync("none").item() == pytest.approx(1.9)
    assert momentum_after_sync("reset").item() == 0.0
    # slow momentum starts at 0: 0 + 0.5·(1.9 - 0) = 0.95
    assert momentum_after_sync("pullback").item() == pytest.approx(0.95)


def test_composes_with_lazy_on_sparse_embeddings() -> None:
    emb = nn.Embedding(50, 4, sparse=True).double()
    before = emb.weight.detach().clone()
    opt = Lookahead(Lazy(Adam(emb.parameters(), lr=0.1), mode="sparse"), k=2, alpha=0.5)
    for _ in range(4):
        opt.zero_grad()
        emb(torch.tensor([3, 9, 9])).pow(2).sum().backward()
        opt.step()
    moved = (emb.weight.detach() != before).any(dim=1).nonzero().flatten().tolist()
    assert moved == [3, 9]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(k=0), r"Invalid Lookahead k: 0 \(synchronisation period must be >= 1\)"),
        (dict(alpha=0.0), r"Invalid Lookahead alpha: 0\.0 \(must be in \(0, 1\]\)"),
        (dict(alpha=1.5), r"Invalid Lookahead alpha: 1\.5"),
        (
            dict(pullback="back"),
            r"Invalid Lookahead pullback: 'back' \(valid: none, reset, pullback\)",
        ),
    ],
)
def test_invalid_arguments(kwargs: dict, message: str) -> None:
    inner = SGD(make_net().parameters(), lr=0.1)
    with pytest.raises(ValueError, match=message):
        Lookahead(inner, **kwargs)


def test_wrapping_twice_or_wrapping_a_non_optimizer_is_refused() -> None:
    inner = SGD(make_net().parameters(), lr=0.1)
    with pytest.raises(ValueError, match="already in this optimizer chain"):
        Lookahead(Lookahead(inner))
    with pytest.raises(TypeError, match=r"wraps a torch\.optim\.Optimizer"):
        Lookahead(object())  # type: ignore[arg-type]
