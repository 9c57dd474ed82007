"""create_optimizer: composed names, keyword routing, and the no-decay parameter group."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from danlu.errors import UsageError
from danlu.optim import (
    SGD,
    AdaGrad,
    Adam,
    AdamW,
    Lazy,
    Lookahead,
    RMSProp,
    create_optimizer,
    optimizer_names,
    weight_decay_groups,
)


class Tiny(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.emb = nn.Embedding(20, 8)
        self.proj = nn.Linear(8, 8)
        self.norm = nn.LayerNorm(8)
        self.bn = nn.BatchNorm1d(8)
        self.head = nn.Linear(8, 2, bias=False)
        self.scale = nn.Parameter(torch.ones(()))  # 0-d: no decay

    def forward(self, ix: torch.Tensor) -> torch.Tensor:
        return self.head(self.bn(self.norm(self.proj(self.emb(ix))))) * self.scale


def _ids(params) -> set[int]:
    return {id(p) for p in params}


def test_names_compose_with_underscores() -> None:
    names = optimizer_names()
    for name in ("adam", "adamw", "sgd", "lazy_adam", "lookahead_adamw", "lookahead_lazy_adam"):
        assert name in names
    assert "lazy_lookahead_adam" not in names  # Lazy(sparse) must sit directly on the base
    assert len(names) == len(set(names)) == 4 * 7


@pytest.mark.parametrize(
    ("name", "chain"),
    [
        ("sgd", [SGD]),
        ("adagrad", [AdaGrad]),
        ("rmsprop", [RMSProp]),
        ("adam", [Adam]),
        ("adamw", [AdamW]),
        ("lazy_adam", [Lazy, Adam]),
        ("lookahead_adamw", [Lookahead, AdamW]),
        ("lookahead_lazy_adam", [Lookahead, Lazy, Adam]),
    ],
)
def test_builds_the_named_chain(name: str, chain: list[type]) -> None:
    opt = create_optimizer(name, Tiny(), lr=1e-3)
    for cls in chain:
        assert type(opt) is cls
        opt = getattr(opt, "optimizer", None)


def test_module_gets_a_no_decay_group_for_biases_and_norm_weights() -> None:
    model = Tiny()
    opt = create_optimizer("adamw", model, lr=1e-3, weight_decay=0.05)
    decay, no_decay = opt.param_groups
    assert decay["weight_decay"] == 0.05 and no_decay["weight_decay"] == 0.0
    assert _ids(decay["params"]) == _ids([model.emb.weight, model.proj.weight, model.head.weight])
    assert _ids(no_decay["params"]) == _ids(
        [
            model.proj.bias,
            model.norm.weight,
            model.norm.bias,
            model.bn.weight,
            model.bn.bias,
            model.scale,
        ]
    )
    assert weight_decay_groups(model, 0.1)[0]["weight_decay"] == 0.1


def test_decay_really_skips_the_no_decay_group() -> None:
    model = Tiny()
    opt = create_optimizer("adamw", model, lr=0.1, weight_decay=0.5)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    for p in model.parameters():
        p.grad = torch.zeros_like(p)  # zero gradient: only decoupled decay can move weights
    opt.step()
    after = dict(model.named_parameters())
    torch.testing.assert_close(after["proj.weight"], before["proj.weight"] * (1 - 0.1 * 0.5))
    assert torch.equal(after["norm.weight"], before["norm.weight"])
    assert torch.equal(after["proj.bias"], before["proj.bias"])


def test_keywords_are_routed_to_base_and_wrappers() -> None:
    opt = create_optimizer(
        "lookahead_lazy_rmsprop",
        Tiny(),
        lr=1e-3,
        alpha=0.9,  # RMSProp's smoothing constant, not Lookahead's
        lookahead_alpha=0.8,
        lookahead_k=3,
        lazy_mode="su",
    )
    assert (opt.k, opt.alpha) == (3, 0.8)
    assert opt.optimizer.mode == "su"
    assert opt.param_groups[0]["alpha"] == 0.9
    momentum = create_optimizer("nesterov", [nn.Parameter(torch.ones(2))], lr=0.1)
    assert momentum.param_groups[0]["momentum"] == 0.9 and momentum.param_groups[0]["nesterov"]


def test_lazy_from_a_module_treats_embedding_weights_lazily() -> None:
    model = Tiny()
    opt = create_optimizer("lazy_adam", model, lr=0.1)
    assert opt.lazy_params == {model.emb.weight}
    before = model.emb.weight.detach().clone()
    model.train()
    model(torch.tensor([2, 4, 4])).sum().backward()
    opt.step()
    moved = (model.emb.weight.detach() != before).any(dim=1).nonzero().flatten().tolist()
    assert moved == [2, 4]


def test_unknown_name_lists_the_valid_ones() -> None:
    with pytest.raises(UsageError) as info:
        create_optimizer("lookahead_adan", Tiny(), lr=1e-3)
    message = str(info.value)
    assert "unknown optimizer 'lookahead_adan'" in message
    assert "lookahead_lazy_adamw" in message and "sgd" in message


def test_unknown_keyword_lists_the_valid_ones() -> None:
    with pytest.raises(UsageError, match=r"does not take 'lookahead_k'; valid keywords: .*amsgrad"):
        create_optimizer("adam", Tiny(), lr=1e-3, lookahead_k=5)


def test_plain_parameter_lists_are_used_as_given() -> None:
    params = [nn.Parameter(torch.ones(3)), nn.Parameter(torch.ones(2, 2))]
    opt = create_optimizer("sgd", params, lr=0.1, weight_decay=0.01, momentum=0.5)
    assert len(opt.param_groups) == 1
    assert opt.param_groups[0]["weight_decay"] == 0.01 and opt.param_groups[0]["momentum"] == 0.5
