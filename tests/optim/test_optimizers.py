"""Contract tests shared by SGD, AdaGrad, RMSProp, Adam and AdamW, driven by tables.

Every option combination runs 100 float64 steps on a small network with torch.optim as the
reference, on both the single-tensor and the foreach path. Options torch.optim lacks are
reproduced on the reference side exactly: L1 by adding l1·sign(θ) to the gradient, Adam
without bias correction by rescaling lr, eps (and AdamW's weight decay) every step.
"""

from __future__ import annotations

import copy
import io
import itertools
import math
from dataclasses import dataclass, field
from typing import Any

import pytest
import torch
from torch import nn

from danlu.optim import SGD, AdaGrad, Adam, AdamW, RMSProp

from .helpers import flat_params, make_batches, make_net, train

BATCHES = make_batches()
TOL = dict(rtol=1e-10, atol=1e-12)


@dataclass(frozen=True)
class Case:
    danlu: type[torch.optim.Optimizer]
    reference: type[torch.optim.Optimizer]
    options: dict[str, Any]
    lr: float
    l1: float = 0.0
    bias_correction: bool = True
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        opts = ",".join(f"{k}={v}" for k, v in self.options.items())
        return f"{self.danlu.__name__}({opts},l1={self.l1},bc={self.bias_correction})"

    def make_danlu(self, params: Any, foreach: bool) -> torch.optim.Optimizer:
        kwargs = dict(self.options, lr=self.lr, l1=self.l1, foreach=foreach)
        if self.danlu in (Adam, AdamW):
            kwargs["bias_correction"] = self.bias_correction
        return self.danlu(params, **kwargs)

    def make_reference(self, params: Any) -> torch.optim.Optimizer:
        return self.reference(params, lr=self.lr, **self.options, foreach=False)

    def reference_hook(self, model: nn.Module):
        """Per-step adjustments that give torch.optim the options it lacks."""

        def hook(opt: torch.optim.Optimizer, t: int) -> None:
            if self.l1:
                for p in model.parameters():
                    p.grad.add_(p.detach().sign(), alpha=self.l1)
            if not self.bias_correction:
                # torch: θ -= (lr'/bc1)·m / (√v/√bc2 + eps'); lr' = lr·bc1/√bc2 and
                # eps' = eps/√bc2 turn it into θ -= lr·m / (√v + eps).
                beta1, beta2 = self.options.get("betas", (0.9, 0.999))
                bc1, bc2 = 1 - beta1 ** (t + 1), 1 - beta2 ** (t + 1)
                for group in opt.param_groups:
                    group["lr"] = self.lr * bc1 / math.sqrt(bc2)
                    group["eps"] = self.options.get("eps", 1e-8) / math.sqrt(bc2)
                    if self.danlu is AdamW:  # keep θ·(1 - lr·λ) at the true lr
                        group["weight_decay"] = self.options["weight_decay"] * self.lr / group["lr"]

        return hook


def _cases() -> list[Case]:
    cases = []
    for momentum, dampening, nesterov, wd, l1 in itertools.product(
        (0.0, 0.9), (0.0, 0.3), (False, True), (0.0, 0.01), (0.0, 1e-3)
    ):
        if nesterov and (momentum == 0 or dampening != 0):
            continue
        opts = dict(momentum=momentum, dampening=dampening, nesterov=nesterov, weight_decay=wd)
        cases.append(Case(SGD, torch.optim.SGD, opts, lr=0.05, l1=l1))
    for lr_decay, wd, init, l1 in itertools.product(
        (0.0, 0.01), (0.0, 0.01), (0.0, 0.1), (0, 1e-3)
    ):
        opts = dict(lr_decay=lr_decay, weight_decay=wd, initial_accumulator_value=init)
        cases.append(Case(AdaGrad, torch.optim.Adagrad, opts, lr=0.05, l1=l1))
    for centered, momentum, wd, l1 in itertools.product(
        (False, True), (0.0, 0.9), (0, 0.01), (0, 1e-3)
    ):
        opts = dict(centered=centered, momentum=momentum, weight_decay=wd)
        cases.append(Case(RMSProp, torch.optim.RMSprop, opts, lr=3e-3, l1=l1))
    for cls, ref, decay in ((Adam, torch.optim.Adam, 0.01), (AdamW, torch.optim.AdamW, 0.1)):
        for amsgrad, wd, bc, l1 in itertools.product(
            (False, True), (0.0, decay), (True, False), (0, 1e-3)
        ):
            opts = dict(betas=(0.8, 0.99), amsgrad=amsgrad, weight_decay=wd)
            cases.append(Case(cls, ref, opts, lr=0.01, l1=l1, bias_correction=bc))
    return cases


CASES = _cases()


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_matches_torch_optim_on_both_paths(case: Case) -> None:
    reference = make_net()
    initial = flat_params(reference)
    train(
        reference,
        case.make_reference(reference.parameters()),
        BATCHES,
        case.reference_hook(reference),
    )
    expected = flat_params(reference)
    assert not torch.allclose(expected, initial, atol=1e-3), "the run must move the weights"

    for foreach in (False, True):
        model = make_net()
        opt = case.make_danlu(model.parameters(), foreach=foreach)
        train(model, opt, BATCHES)
        torch.testing.assert_close(flat_params(model), expected, **TOL, msg=f"foreach={foreach}")


def test_option_table_covers_every_combination() -> None:
    by_class: dict[type, int] = {}
    for case in CASES:
        by_class[case.danlu] = by_class.get(case.danlu, 0) + 1
    # SGD: 8 without momentum + 12 with (Nesterov needs dampening 0); 2^4 elsewhere.
    assert by_class == {SGD: 20, AdaGrad: 16, RMSProp: 16, Adam: 16, AdamW: 16}


def test_foreach_equals_single_tensor_with_mixed_dtypes() -> None:
    # Two (device, dtype) buckets on the foreach path; gradients differ per step.
    gen = torch.Generator().manual_seed(0)
    shapes = [(5, 3), (4,), (2, 2)]
    dtypes = [torch.float32, torch.float64, torch.float32]
    init = [torch.randn(s, generator=gen).to(d) for s, d in zip(shapes, dtypes, strict=True)]
    grads = [
        [torch.randn(s, generator=gen).to(d) for s, d in zip(shapes, dtypes, strict=True)]
        for _ in range(10)
    ]
    results = []
    for foreach in (False, True):
        params = [nn.Parameter(x.clone()) for x in init]
        opt = Adam(params, lr=0.1, amsgrad=True, weight_decay=0.1, l1=0.01, foreach=foreach)
        for step_grads in grads:
            for p, g in zip(params, step_grads, strict=True):
                p.grad = g.clone()
            opt.step()
        results.append([p.detach() for p in params])
    for a, b in zip(*results, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-6)
        assert a.dtype == b.dtype
    assert not torch.allclose(results[1][0], init[0])


STATEFUL = [
    (SGD, dict(lr=0.05, momentum=0.9, nesterov=True)),
    (AdaGrad, dict(lr=0.05, lr_decay=0.01)),
    (RMSProp, dict(lr=3e-3, momentum=0.9, centered=True)),
    (Adam, dict(lr=0.01, amsgrad=True, weight_decay=0.01)),
    (AdamW, dict(lr=0.01, amsgrad=True, bias_correction=False)),
]


@pytest.mark.parametrize(("cls", "kwargs"), STATEFUL, ids=[c.__name__ for c, _ in STATEFUL])
def test_state_dict_round_trip_resumes_exactly(cls: type, kwargs: dict[str, Any]) -> None:
    model = make_net()
    opt = cls(model.parameters(), **kwargs)
    train(model, opt, BATCHES[:10])
    buffer = io.BytesIO()
    torch.save({"model": model.state_dict(), "opt": opt.state_dict()}, buffer)
    train(model, opt, BATCHES[10:20])  # uninterrupted run

    buffer.seek(0)
    saved = torch.load(buffer, weights_only=True)
    resumed = make_net(seed=123)
    resumed.load_state_dict(saved["model"])
    opt2 = cls(resumed.parameters(), **kwargs)
    opt2.load_state_dict(saved["opt"])
    assert opt2.state_dict()["state"].keys() == saved["opt"]["state"].keys()
    train(resumed, opt2, BATCHES[10:20])
    assert torch.equal(flat_params(resumed), flat_params(model))


def test_works_with_torch_lr_scheduler() -> None:
    runs = []
    for make in (
        lambda ps: Adam(ps, lr=0.01),
        lambda ps: torch.optim.Adam(ps, lr=0.01, foreach=False),
    ):
        model = make_net()
        opt = make(model.parameters())
        sched = torch.optim.lr_scheduler.StepLR(opt, step_size=10, gamma=0.5)
        lrs = []
        for x, y in BATCHES[:40]:
            opt.zero_grad()
            nn.functional.mse_loss(model(x), y).backward()
            opt.step()
            sched.step()
            lrs.append(opt.param_groups[0]["lr"])
        runs.append((flat_params(model), lrs))
    assert runs[0][1] == runs[1][1] and runs[0][1][-1] == 0.01 * 0.5**4
    torch.testing.assert_close(runs[0][0], runs[1][0], **TOL)


def test_works_with_grad_scaler_and_skips_inf_steps() -> None:
    results = []
    for make in (
        lambda ps: AdamW(ps, lr=0.01, weight_decay=0.1),
        lambda ps: torch.optim.AdamW(ps, lr=0.01, weight_decay=0.1, foreach=False),
    ):
        model = make_net()
        opt = make(model.parameters())
        scaler = torch.amp.GradScaler("cpu", init_scale=2.0**8, growth_interval=4)
        scales, skipped_unchanged = [], None
        for t, (x, y) in enumerate(BATCHES[:20]):
            opt.zero_grad()
            scaler.scale(nn.functional.mse_loss(model(x), y)).backward()
            if t == 6:  # an overflow: the step must be skipped and the scale halved
                next(model.parameters()).grad[0, 0] = float("inf")
                before = flat_params(model)
            scaler.step(opt)
            scaler.update()
            if t == 6:
                skipped_unchanged = torch.equal(before, flat_params(model))
            scales.append(scaler.get_scale())
        results.append((flat_params(model), scales, skipped_unchanged))
    (ours, our_scales, our_skip), (ref, ref_scales, _) = results
    assert our_skip is True
    assert our_scales == ref_scales and our_scales[6] == our_scales[5] / 2
    torch.testing.assert_close(ours, ref, **TOL)


@pytest.mark.parametrize("which", ["sgd_momentum", "adam_beta1"])
def test_momentum_schedule_through_param_groups(which: str) -> None:
    """Momentum 0.5 for the first 30 steps, then 0.9, set in param_groups as the notes do."""

    def schedule(opt: torch.optim.Optimizer, t: int) -> None:
        mu = 0.5 if t < 30 else 0.9
        for group in opt.param_groups:
            if which == "sgd_momentum":
                group["momentum"] = mu
            else:
                group["betas"] = (mu, 0.999)

    if which == "sgd_momentum":
        ours, ref = SGD, torch.optim.SGD
        kwargs: dict[str, Any] = dict(lr=0.05, momentum=0.9)
    else:
        ours, ref = Adam, torch.optim.Adam
        kwargs = dict(lr=0.01)
    finals = []
    for make, hook in (
        (lambda ps: ours(ps, **kwargs), schedule),
        (lambda ps: ref(ps, **kwargs, foreach=False), schedule),
        (lambda ps: ours(ps, **kwargs), None),  # constant momentum, for contrast
    ):
        model = make_net()
        train(model, make(model.parameters()), BATCHES[:60], hook)
        finals.append(flat_params(model))
    torch.testing.assert_close(finals[0], finals[1], **TOL)
    assert not torch.allclose(finals[0], finals[2], atol=1e-6)


def test_step_with_closure_returns_its_loss() -> None:
    model = make_net()
    opt = Adam(model.parameters(), lr=0.01)
    x, y = BATCHES[0]

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(x), y)
        loss.backward()
        return loss.detach()

    first = opt.step(closure)
    second = opt.step(closure)
    assert second.item() < first.item()


def test_parameters_without_gradient_are_left_alone() -> None:
    model = make_net()
    frozen = model[0].weight
    before = frozen.detach().clone()
    frozen.requires_grad_(False)
    opt = Adam(model.parameters(), lr=0.1)
    train(model, opt, BATCHES[:3])
    assert torch.equal(frozen, before)
    assert frozen not in opt.state and opt.state[model[3].weight]["step"] == 3


def _linear_params() -> list[nn.Parameter]:
    return list(nn.Linear(2, 2).parameters())


INVALID = [
    (lambda: SGD(_linear_params(), lr=-0.1), r"Invalid learning rate: -0\.1 \(must be >= 0\)"),
    (lambda: SGD(_linear_params(), momentum=-1), r"Invalid momentum value: -1"),
    (lambda: SGD(_linear_params(), nesterov=True), r"Nesterov momentum requires momentum > 0"),
    (lambda: SGD(_linear_params(), momentum=0.9, dampening=0.1, nesterov=True), "dampening=0.1"),
    (lambda: AdaGrad(_linear_params(), lr_decay=-1), r"Invalid lr_decay value: -1"),
    (lambda: AdaGrad(_linear_params(), eps=-1e-3), r"Invalid epsilon value: -0\.001"),
    (
        lambda: RMSProp(_linear_params(), alpha=1.0),
        r"Invalid alpha value: 1\.0 \(must be in \[0, 1\)\)",
    ),
    (lambda: RMSProp(_linear_params(), weight_decay=-0.1), r"Invalid weight_decay value: -0\.1"),
    (
        lambda: Adam(_linear_params(), betas=(1.2, 0.999)),
        r"Invalid beta parameter at index 0: 1\.2",
    ),
    (
        lambda: Adam(_linear_params(), betas=(0.9, -0.1)),
        r"Invalid beta parameter at index 1: -0\.1",
    ),
    (lambda: Adam(_linear_params(), betas=(0.9,)), r"Invalid betas: \(0\.9,\)"),
    (lambda: AdamW(_linear_params(), l1=-1.0), r"Invalid l1 value: -1\.0"),
    (lambda: Adam(_linear_params(), lr=float("nan")), r"Invalid learning rate: nan"),
]


@pytest.mark.parametrize(("build", "message"), INVALID)
def test_invalid_hyperparameters_name_value_and_rule(build, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build()


@pytest.mark.parametrize("cls", [SGD, AdaGrad, RMSProp, Adam, AdamW])
def test_sparse_gradients_point_to_lazy(cls: type) -> None:
    emb = nn.Embedding(10, 3, sparse=True)
    opt = cls(emb.parameters(), lr=0.1)
    emb(torch.tensor([1, 2])).sum().backward()
    with pytest.raises(RuntimeError, match=r"Lazy\(.*mode='sparse'\)"):
        opt.step()


def test_optimizers_are_torch_optimizers_and_deepcopy() -> None:
    model = make_net()
    opt = Adam(model.parameters(), lr=0.01)
    train(model, opt, BATCHES[:2])
    clone = copy.deepcopy(opt)
    assert isinstance(clone, torch.optim.Optimizer)
    assert clone.state_dict()["state"][0]["step"] == 2


def test_foreach_waves_cover_every_element_once() -> None:
    from danlu.optim.base import foreach_waves

    a = [torch.arange(10.0), torch.arange(23.0).reshape(23, 1), torch.arange(4.0)]
    b = [x * 2 for x in a]
    waves = list(foreach_waves(a, b, size=8))
    assert all(sum(p.numel() for p in wa) <= 8 for wa, _ in waves)
    flat_a = torch.cat([p for wa, _ in waves for p in wa])
    assert torch.equal(flat_a, torch.cat([x.flatten() for x in a]))
    for wa, wb in waves:  # views: writing through a wave writes the tensors
        torch._foreach_mul_(wa, 0.0)
        torch._foreach_mul_(wb, 0.0)
    assert all(not x.any() for x in a + b)


@pytest.mark.parametrize(
    "make",
    [
        lambda ps, fe: Adam(ps, lr=0.01, amsgrad=True, foreach=fe),
        lambda ps, fe: AdaGrad(ps, lr=0.05, lr_decay=0.1, foreach=fe),
        lambda ps, fe: RMSProp(ps, lr=0.01, centered=True, momentum=0.5, foreach=fe),
    ],
    ids=["adam", "adagrad", "rmsprop"],
)
def test_foreach_equals_single_tensor_for_large_tensors_and_late_parameters(make) -> None:
    # 400 x 400 is cut into several waves; the bias vector only gets gradients from step 3
    # on, so its step count differs from the matrix's.
    gen = torch.Generator().manual_seed(0)
    init = [
        torch.randn(400, 400, generator=gen, dtype=torch.float64),
        torch.randn(7, dtype=torch.float64),
    ]
    grads = [
        [torch.randn(x.shape, generator=gen, dtype=torch.float64) for x in init] for _ in range(6)
    ]
    results = []
    for foreach in (False, True):
        params = [nn.Parameter(x.clone()) for x in init]
        opt = make(params, foreach)
        for t, step_grads in enumerate(grads):
            for p, g in zip(params, step_grads, strict=True):
                p.grad = g.clone() if (t >= 2 or p.ndim == 2) else None
            opt.step()
        assert [opt.state[p]["step"] for p in params] == [6, 4]
        results.append([p.detach() for p in params])
    for a, b in zip(*results, strict=True):
        torch.testing.assert_close(a, b, **TOL)
    assert not torch.allclose(results[1][0], init[0], atol=1e-3)
