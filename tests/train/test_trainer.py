"""The training loop: run files, seeds, NaN guard, early stopping, in-process resume."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from danlu.data import TensorData
from danlu.errors import TrainingDiverged, UsageError
from danlu.train.checkpoint import load_safetensors
from danlu.train.config import TrainConfig
from danlu.train.trainer import Trainer


def make_data(n: int = 96, seed: int = 0) -> TensorData:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 5, generator=g)
    y = x @ torch.tensor([1.0, -2.0, 0.5, 0.0, 3.0]) + 0.1 * torch.randn(n, generator=g)
    return TensorData(x, y)


def make_model() -> nn.Module:
    return nn.Sequential(nn.Linear(5, 16), nn.Tanh(), nn.Dropout(0.2), nn.Linear(16, 1))


def mse_loss(model: nn.Module, batch) -> torch.Tensor:
    x, y = batch
    return F.mse_loss(model(x).squeeze(-1), y)


def evaluator(data: TensorData):
    def evaluate(model: nn.Module) -> dict[str, float]:
        x, y = data.tensors
        return {"val_loss": float(F.mse_loss(model(x).squeeze(-1), y))}

    return evaluate


def fit(out: Path, **overrides) -> tuple[dict, dict[str, torch.Tensor]]:
    torch.manual_seed(overrides.get("seed", 0))
    cfg = TrainConfig(**{"epochs": 3, "batch_size": 16, "lr": 1e-2, "quiet": True,
                         "device": "cpu", "log_every": 2, **overrides})  # fmt: skip
    trainer = Trainer(
        make_model(), mse_loss, make_data(), cfg, out, evaluate=evaluator(make_data(32, 1))
    )
    metrics = trainer.fit()
    return metrics, load_safetensors(out / "model.safetensors")


def strip_times(metrics: dict) -> dict:
    return {k: v for k, v in metrics.items() if k not in ("train_seconds",)}


def test_a_run_writes_its_files(tmp_path) -> None:
    metrics, weights = fit(tmp_path)
    events = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert {e["event"] for e in events} == {"train", "eval"}
    assert [e["step"] for e in events if e["event"] == "eval"] == [6, 12, 18]  # each epoch
    assert json.loads((tmp_path / "metrics.json").read_text())["steps"] == 18 == metrics["steps"]
    assert (tmp_path / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert set(weights) == {"0.weight", "0.bias", "3.weight", "3.bias"}
    assert (
        metrics["val_loss"] < events[[e["event"] for e in events].index("eval")]["val_loss"] * 1.5
    )


def test_same_seed_same_run_other_seed_other_run(tmp_path) -> None:
    m1, w1 = fit(tmp_path / "a", seed=3)
    m2, w2 = fit(tmp_path / "b", seed=3)
    _, w3 = fit(tmp_path / "c", seed=4)
    assert strip_times(m1) == strip_times(m2)
    assert all(torch.equal(w1[k], w2[k]) for k in w1)
    assert not all(torch.equal(w1[k], w3[k]) for k in w1)


def test_max_steps_and_eval_every(tmp_path) -> None:
    metrics, _ = fit(tmp_path, epochs=10, max_steps=7, eval_every=3)
    events = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert metrics["steps"] == 7
    assert [e["step"] for e in events if e["event"] == "eval"] == [3, 6, 7]  # + a final one


def test_nan_loss_stops_naming_the_step_and_last_checkpoint(tmp_path) -> None:
    calls = {"n": 0}

    def exploding(model: nn.Module, batch) -> torch.Tensor:
        calls["n"] += 1
        loss = mse_loss(model, batch)
        return loss * float("nan") if calls["n"] == 8 else loss

    cfg = TrainConfig(epochs=5, batch_size=16, quiet=True, device="cpu", checkpoint_every=5)
    trainer = Trainer(make_model(), exploding, make_data(), cfg, tmp_path)
    with pytest.raises(TrainingDiverged) as err:
        trainer.fit()
    message = str(err.value)
    assert "loss became nan at step 8" in message
    assert "checkpoints/step-00000005.pt" in message
    assert not (tmp_path / "model.safetensors").exists()


def test_early_stopping_keeps_the_best_weights(tmp_path) -> None:
    scripted = iter([3.0, 2.0, 2.5, 2.6, 9.0, 9.0])
    snapshots: list[dict[str, torch.Tensor]] = []

    def evaluate(model: nn.Module) -> dict[str, float]:
        snapshots.append({k: v.clone() for k, v in model.state_dict().items()})
        return {"val_loss": next(scripted)}

    cfg = TrainConfig(epochs=6, batch_size=16, quiet=True, device="cpu",
                      early_stop_metric="val_loss", patience=2)  # fmt: skip
    metrics = Trainer(make_model(), mse_loss, make_data(), cfg, tmp_path, evaluate=evaluate).fit()
    assert metrics["stopped_early"] is True and metrics["best_step"] == 12
    assert metrics["val_loss"] == 2.0 and metrics["epochs"] == 4
    saved = load_safetensors(tmp_path / "model.safetensors")
    assert all(torch.equal(saved[k], snapshots[1][k]) for k in saved)


def test_grad_clip_bounds_the_update(tmp_path) -> None:
    model = nn.Linear(5, 1)
    before = torch.cat([p.detach().clone().flatten() for p in model.parameters()])
    data = TensorData(torch.full((4, 5), 100.0), torch.zeros(4))
    cfg = TrainConfig(epochs=1, batch_size=4, lr=1.0, optimizer="sgd", momentum=0.0,
                      grad_clip=0.5, quiet=True, device="cpu")  # fmt: skip
    Trainer(model, mse_loss, data, cfg, tmp_path).fit()
    after = torch.cat([p.detach().flatten() for p in model.parameters()])
    assert torch.linalg.vector_norm(after - before) == pytest.approx(0.5, rel=1e-5)


def test_clip_by_value_clamps_each_gradient_entry(tmp_path) -> None:
    model = nn.Linear(5, 1)
    before = torch.cat([p.detach().clone().flatten() for p in model.parameters()])
    data = TensorData(torch.full((4, 5), 100.0), torch.zeros(4))
    cfg = TrainConfig(epochs=1, batch_size=4, lr=1.0, optimizer="sgd", momentum=0.0,
                      grad_clip=0.01, clip_mode="value", quiet=True, device="cpu")  # fmt: skip
    Trainer(model, mse_loss, data, cfg, tmp_path).fit()
    after = torch.cat([p.detach().flatten() for p in model.parameters()])
    assert torch.allclose((after - before).abs(), torch.full_like(after, 0.01))


def test_inspect_logs_vanishing_gradients_of_a_deep_sigmoid_stack(tmp_path) -> None:
    layers: list[nn.Module] = []
    for i in range(6):
        layers += [nn.Linear(5 if i == 0 else 16, 16), nn.Sigmoid()]
    model = nn.Sequential(*layers, nn.Linear(16, 1))
    cfg = TrainConfig(epochs=2, batch_size=16, quiet=True, device="cpu", inspect=4)
    Trainer(model, mse_loss, make_data(), cfg, tmp_path).fit()
    events = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    inspect = [e for e in events if e["event"] == "inspect"]
    assert [e["step"] for e in inspect] == [1, 5, 9]
    norms = inspect[0]["grad_norm"]
    assert next(iter(norms)) == "0.weight" and list(norms)[-1] == "12.weight"
    assert norms["0.weight"] < norms["12.weight"] / 100  # gradients vanish towards the input
    assert set(inspect[0]["saturated"]) == {"1", "3", "5", "7", "9", "11"}
    assert (tmp_path / "inspect.png").read_bytes()[:4] == b"\x89PNG"


def test_schedule_and_warmup_drive_the_logged_learning_rate(tmp_path) -> None:
    cfg = TrainConfig(epochs=2, batch_size=16, lr=0.1, quiet=True, device="cpu", log_every=1,
                      schedule="step", schedule_args="step_size=4;gamma=0.5", warmup=2)  # fmt: skip
    Trainer(make_model(), mse_loss, make_data(), cfg, tmp_path).fit()
    events = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    lrs = [round(e["lr"], 6) for e in events if e["event"] == "train"]
    # logged after each step: warm-up 0.05, 0.1, then halving every 4 steps
    assert lrs == [0.05, 0.1, 0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025]


def test_unknown_optimizer_lists_valid_names(tmp_path) -> None:
    with pytest.raises(UsageError, match="unknown optimizer 'adamx'; valid: sgd, momentum"):
        Trainer(make_model(), mse_loss, make_data(), TrainConfig(optimizer="adamx"), tmp_path)


def test_amp_is_refused_on_cpu(tmp_path) -> None:
    cfg = TrainConfig(device="cpu", amp=True)
    with pytest.raises(UsageError, match="needs a CUDA device"):
        Trainer(make_model(), mse_loss, make_data(), cfg, tmp_path)


def test_resume_from_a_mid_run_checkpoint_is_bitwise_identical(tmp_path) -> None:
    full = tmp_path / "full"
    m_full, w_full = fit(full, epochs=4, checkpoint_every=5, keep_checkpoints=10,
                         early_stop_metric="val_loss")  # fmt: skip
    for step in (5, 15):  # inside epoch 0 and at a point in epoch 2
        part = tmp_path / f"from{step}"
        (part / "checkpoints").mkdir(parents=True)
        name = f"step-{step:08d}.pt"
        shutil.copy(full / "checkpoints" / name, part / "checkpoints" / name)
        torch.manual_seed(1234)  # a different global RNG must not matter after resuming
        m_part, w_part = fit(part, epochs=4, checkpoint_every=5, keep_checkpoints=10,
                             early_stop_metric="val_loss", resume=True)  # fmt: skip
        assert all(torch.equal(w_full[k], w_part[k]) for k in w_full)
        assert strip_times(m_full) == strip_times(m_part)


def test_resume_without_checkpoint_is_a_usage_error(tmp_path) -> None:
    with pytest.raises(UsageError, match="no checkpoint"):
        fit(tmp_path, resume=True)


def test_ema_evaluates_and_saves_the_average_of_the_weights(tmp_path) -> None:
    """--ema: the saved model is the bias-corrected average of the weights after each
    step (computed here from runs stopped after 1..N steps) and the logged val_loss is
    that average's."""
    beta, n = 0.8, 6
    steps = [fit(tmp_path / f"plain{k}", max_steps=k, epochs=1)[1] for k in range(1, n + 1)]
    expected = {
        name: sum(beta ** (n - i) * (1 - beta) * w[name] for i, w in enumerate(steps, 1))
        / (1 - beta**n)
        for name in steps[0]
    }
    metrics, saved = fit(tmp_path / "ema", max_steps=n, epochs=1, ema=beta)
    for name, value in expected.items():
        torch.testing.assert_close(saved[name], value, rtol=1e-5, atol=1e-6)
    model = make_model()
    model.load_state_dict(saved)
    model.eval()
    with torch.no_grad():
        assert metrics["val_loss"] == pytest.approx(evaluator(make_data(32, 1))(model)["val_loss"])


def test_ema_with_early_stopping_keeps_the_best_average(tmp_path) -> None:
    metrics, saved = fit(tmp_path, ema=0.9, early_stop_metric="val_loss", patience=5)
    model = make_model()
    model.load_state_dict(saved)
    model.eval()
    with torch.no_grad():
        best = evaluator(make_data(32, 1))(model)["val_loss"]
    assert metrics["val_loss"] == pytest.approx(best)
    with pytest.raises(UsageError, match="--ema must be in"):
        TrainConfig(ema=1.0)


def test_resumable_names_the_newest_checkpoint(tmp_path) -> None:
    assert Trainer.resumable(tmp_path) is None
    fit(tmp_path, checkpoint_every=3)
    found = Trainer.resumable(tmp_path)
    assert found is not None and found.parent == tmp_path / "checkpoints"
    assert found == max((tmp_path / "checkpoints").glob("step-*.pt"))


def test_no_evaluate_means_no_early_stopping_and_patience_is_refused(tmp_path) -> None:
    cfg = TrainConfig(epochs=1, quiet=True, device="cpu", early_stop_metric="val_loss")
    trainer = Trainer(make_model(), mse_loss, make_data(), cfg, tmp_path)
    assert trainer.early is None and trainer.config.early_stop_metric == ""
    cfg = TrainConfig(device="cpu", early_stop_metric="val_loss", patience=2)
    with pytest.raises(UsageError, match="--patience needs validation data: pass --dev FILE"):
        Trainer(
            make_model(), mse_loss, make_data(), cfg, tmp_path, validation_hint="pass --dev FILE"
        )


def test_optimizer_and_schedule_names_are_checked_before_any_data(tmp_path) -> None:
    with pytest.raises(UsageError, match="unknown schedule 'cosin'; valid: constant, step"):
        TrainConfig(schedule="cosin")
    with pytest.raises(UsageError, match="unknown optimizer 'lookahead_adamx'; valid: sgd"):
        TrainConfig(optimizer="lookahead_adamx")
