"""The training loop, spelled out: forward, loss, backward, clip, step, schedule, log.

:class:`Trainer` owns the bookkeeping around that loop (devices, torchrun, checkpoints,
early stopping, logging) so that :meth:`Trainer.fit` reads top to bottom like the loop in
the notes. Tasks give it three things:

- ``loss_fn(model, batch) -> loss``: the *mean* loss over the batch (a tensor to minimise);
- ``data`` with ``len(data)`` and ``data.get(indices, device) -> batch``
  (:class:`danlu.data.TensorData` for in-memory tensors);
- ``evaluate(model) -> {"val_loss": ..., ...}`` (optional), run in eval mode under no_grad.

``--resume`` continues from the newest checkpoint that loads, if the options are the run's
(except :data:`~danlu.train.resume.RESUME_MAY_CHANGE`: ``--epochs``, ``--max-steps``,
logging, ``--device``, ...); see :mod:`danlu.train.resume`.

Example:
    >>> trainer = Trainer(model, loss_fn, TensorData(x, y), TrainConfig(epochs=3), out="run")
    >>> metrics = trainer.fit()          # writes run/metrics.json, model.safetensors, ...
    >>> Trainer(model, loss_fn, data, cfg.train, "run/fold-2", run_config=cfg, label="fold 2/5")
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import functools
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch
from torch import nn

from danlu.config import config_to_dict
from danlu.data.sampler import EpochBatches, shard
from danlu.errors import TrainingDiverged, UsageError
from danlu.functional.clip import clip_grad_norm, clip_grad_value
from danlu.nn.inspect import Inspector
from danlu.optim import EMA
from danlu.train.adversarial import EmbeddingFGM
from danlu.train.checkpoint import (
    CHECKPOINT_FORMAT,
    latest_checkpoint,
    newest_usable,
    save_checkpoint,
    save_safetensors,
)
from danlu.train.config import TrainConfig
from danlu.train.device import autocast, check_amp, resolve_device, use_threads
from danlu.train.distributed import DistInfo, all_reduce_mean, setup_distributed
from danlu.train.early_stopping import EarlyStopping
from danlu.train.optimizers import build_optimizer, build_scheduler
from danlu.train.progress import Progress
from danlu.train.resume import check_same_run, restore_states
from danlu.train.run_log import RunLog
from danlu.train.seed import rng_state, set_rng_state

__all__ = ["Batchable", "TrainState", "Trainer", "check_finite_weights"]


class Batchable(Protocol):
    """What the Trainer batches: ``len`` items, ``get(indices)`` a batch of them.

    Optional: ``batches(seed)``, the data's own global batches of item indices (an object
    with ``len`` and ``epoch(epoch, start)`` like :class:`~danlu.data.sampler.EpochBatches`,
    which is the default, of ``--batch-size`` items); ``loss_units(indices)``, what the
    loss of those items is a mean over (default: the items; e.g. target tokens), which
    weights each process's share of a batch under torchrun.
    """

    def __len__(self) -> int: ...
    def get(self, indices: np.ndarray, device: torch.device | str = "cpu") -> Any: ...


@dataclass
class TrainState:
    """Where the loop is: optimizer steps taken, epoch, next batch index in that epoch."""

    step: int = 0
    epoch: int = 0
    batch: int = 0
    loss_sum: float = 0.0  # training loss summed since the last log line
    loss_count: int = 0


def check_finite_weights(model: nn.Module) -> None:
    """Raise :class:`TrainingDiverged` if any parameter or buffer holds NaN or inf."""
    for name, t in model.state_dict().items():
        if t.is_floating_point() and not torch.isfinite(t).all():
            raise TrainingDiverged(f"weight {name!r} holds NaN/inf values; refusing to save it")


class Trainer:
    """Runs the training loop of one model on one dataset; see the module docstring.

    Args:
        model: the module to train (moved to the chosen device).
        loss_fn: ``loss_fn(model, batch)`` returns the mean loss of the batch.
        data: training data, see :class:`Batchable`.
        config: engine options (epochs, lr, device, checkpoints, ...).
        out: run folder; gets ``metrics.jsonl``, ``metrics.json``, ``curves.png``,
            ``model.safetensors`` and ``checkpoints/``.
        evaluate: ``evaluate(model) -> dict`` of validation metrics, or None.
        optimizer: a ready optimizer; by default built from ``config``.
        model_metadata: string metadata stored in ``model.safetensors``.
        validation_hint: how a user of this task gives validation data (e.g. "pass --dev
            FILE"); without ``evaluate``, ``--patience`` is refused with this hint
            (:meth:`TrainConfig.without_validation`).
        run_config: the task's whole config (its dataclass, or its ``config.json`` dict),
            stored in each checkpoint; ``--resume`` refuses other options than the run's
            (:mod:`danlu.train.resume`). Default: ``config``, the engine's options only.
        label: prefixes the progress, evaluation and resume lines of this run, e.g.
            ``"fold 2/5"``, so that the runs of one command can be told apart.
    """

    def __init__(
        self,
        model: nn.Module,
        loss_fn: Callable[[nn.Module, Any], torch.Tensor],
        data: Batchable,
        config: TrainConfig,
        out: str | Path,
        evaluate: Callable[[nn.Module], Mapping[str, float]] | None = None,
        optimizer: torch.optim.Optimizer | None = None,
        model_metadata: Mapping[str, str] | None = None,
        validation_hint: str = "give the Trainer an evaluate function",
        run_config: Any = None,
        label: str = "",
    ) -> None:
        if evaluate is None:
            config = config.without_validation(validation_hint)
        self.config = config
        given = config if run_config is None else run_config  # what --resume compares
        self.run_config = dict(given) if isinstance(given, Mapping) else config_to_dict(given)
        self.out = Path(out)
        self.loss_fn = loss_fn
        self.data = data
        self.evaluate_fn = evaluate
        self.metadata = dict(model_metadata or {})

        self.device = resolve_device(config.device)
        use_threads(config.threads)
        self.dist: DistInfo = setup_distributed(self.device.type)
        self.progress = Progress(label, config.quiet, self.dist.is_main)
        if self.dist.enabled and self.device.type == "cuda":
            self.device = torch.device("cuda", self.dist.local_rank)
        check_amp(config.amp, self.device)
        if self.dist.enabled and config.batch_size < self.dist.world_size:
            raise UsageError(
                f"--batch-size {config.batch_size} is smaller than the {self.dist.world_size} "
                "torchrun processes; use a global batch of at least one example per process"
            )

        self.model = model.to(self.device)
        self.ddp_model: nn.Module = self.model
        if self.dist.enabled:
            ids = [self.device.index] if self.device.type == "cuda" else None
            self.ddp_model = nn.parallel.DistributedDataParallel(self.model, device_ids=ids)

        own = getattr(data, "batches", None)  # the data's own batches (Batchable), if any
        self.batches = (
            own(config.seed) if own is not None
            else EpochBatches(len(data), config.batch_size, seed=config.seed)
        )  # fmt: skip
        steps = config.epochs * len(self.batches)
        self.total_steps = min(steps, config.max_steps) if config.max_steps else steps
        self.optimizer = optimizer or build_optimizer(self.model, config)
        # with an EMA wrapper (--ema), evaluations and the saved model use the average
        self.ema = self.optimizer if isinstance(self.optimizer, EMA) else None
        self.scheduler = build_scheduler(self.optimizer, config, self.total_steps)
        # --adversarial: a second pass at perturbed embeddings adds its gradient (FGM)
        self.fgm = EmbeddingFGM(self.model, config.adversarial) if config.adversarial else None
        self.early = (
            EarlyStopping(config.early_stop_metric, config.early_stop_mode, config.patience)
            if config.early_stop_metric
            else None
        )
        self.best_weights: dict[str, torch.Tensor] | None = None
        self.history: list[dict[str, Any]] = []  # every evaluation, in order
        self.state = TrainState()
        self.ckpt_dir = self.out / "checkpoints"
        self.last_checkpoint: Path | None = None

    # ------------------------------------------------------------------ the loop
    def _loss_units(self, indices: np.ndarray) -> int:
        """What the loss of items ``indices`` is a mean over (see :class:`Batchable`)."""
        count = getattr(self.data, "loss_units", None)
        return len(indices) if count is None else int(count(indices))

    def fit(self) -> dict[str, Any]:
        """Train, evaluate, checkpoint; write the run files and return the final metrics."""
        resumed = self._maybe_resume()  # may replace self.state: read it only afterwards
        cfg, state = self.config, self.state
        self.log = RunLog(self.out, self.dist.is_main, state.step if resumed else None)
        if resumed and self.last_checkpoint is not None:
            # a kill between writing the checkpoint and logging it loses only the log line
            logged = any(e["event"] == "checkpoint" and e["step"] == state.step
                         for e in self.log.events)  # fmt: skip
            if not logged:
                where = self.last_checkpoint.relative_to(self.out)
                self.log.log("checkpoint", state.step, path=str(where))
        epochs = math.ceil(self.total_steps / max(len(self.batches), 1))
        self.progress.start(self.total_steps, state.step, epochs)
        t_start, seen = time.perf_counter(), 0
        inspector = None
        if cfg.inspect:  # hooks on activations and weights, read every cfg.inspect steps
            inspector = Inspector(self.model, every=cfg.inspect, start_step=state.step).attach()
        stop = state.step >= self.total_steps
        while not stop and state.epoch < cfg.epochs:
            self.ddp_model.train()
            for indices in self.batches.epoch(state.epoch, start=state.batch):
                local = shard(indices, self.dist.rank, self.dist.world_size)
                batch = self.data.get(local, self.device)
                watch = self.fgm.watch() if self.fgm else contextlib.nullcontext()
                with autocast(self.device, cfg.amp), watch:
                    loss = self.loss_fn(self.ddp_model, batch)  # mean over the local batch
                loss_value = self._check_loss(loss)
                # DDP averages gradients over processes; weighting each local mean by its
                # share of the global batch makes that average the global-batch mean.
                share = self._loss_units(local) / self._loss_units(indices)
                weight = share * self.dist.world_size
                self.optimizer.zero_grad(set_to_none=True)
                (loss if weight == 1.0 else loss * weight).backward()  # one process: no scaling
                if self.fgm is not None:
                    with autocast(self.device, cfg.amp):
                        again = functools.partial(self.loss_fn, self.ddp_model, batch)
                        adv = self.fgm.adversarial_loss(again)
                    (adv * weight).backward()
                if cfg.grad_clip > 0 and cfg.clip_mode == "norm":
                    clip_grad_norm(self.model.parameters(), cfg.grad_clip)
                elif cfg.grad_clip > 0:
                    clip_grad_value(self.model.parameters(), cfg.grad_clip)
                self.optimizer.step()
                self.scheduler.step()
                state.step += 1
                state.batch += 1
                seen += len(indices)
                state.loss_sum += loss_value * share  # this process's part of the batch mean
                state.loss_count += 1

                if state.step % cfg.log_every == 0 or state.step == self.total_steps:
                    mean = state.loss_sum / state.loss_count
                    # the parts of all processes add up to the batch mean
                    mean = (
                        self.dist.world_size
                        * all_reduce_mean(torch.tensor(mean, dtype=torch.float64), self.dist).item()
                    )
                    rate = seen / max(time.perf_counter() - t_start, 1e-9)
                    self.log.log(
                        "train", state.step, epoch=state.epoch, loss=mean,
                        lr=self.optimizer.param_groups[0]["lr"], samples_per_s=round(rate, 1),
                    )  # fmt: skip
                    self.progress.logged(mean, rate)
                    state.loss_sum, state.loss_count = 0.0, 0
                if inspector is not None and (state.step - 1) % cfg.inspect == 0:
                    self._log_inspection(inspector)
                self.progress.step(state.step, state.epoch, loss_value, len(indices))
                if cfg.eval_every and state.step % cfg.eval_every == 0:
                    stop = self._evaluate()
                if cfg.checkpoint_every and state.step % cfg.checkpoint_every == 0:
                    self._save_checkpoint()
                if stop or state.step >= self.total_steps:
                    stop = True
                    break
            if state.batch >= len(self.batches):  # the epoch ran to its end
                state.epoch += 1
                state.batch = 0
                if not cfg.eval_every:
                    stop = self._evaluate() or stop
        if not self.history or self.history[-1]["step"] != state.step:
            self._evaluate()  # the final weights always get an evaluation
        self.progress.close()
        if inspector is not None:
            inspector.detach()
        return self._finish(time.perf_counter() - t_start)

    # ------------------------------------------------------------------ helpers
    def _check_loss(self, loss: torch.Tensor) -> float:
        """The loss as a float (the step's one host sync); NaN/inf stops the run."""
        if loss.dim() != 0:
            raise ValueError(
                f"loss_fn must return a scalar mean loss, got shape {tuple(loss.shape)}"
            )
        value = float(loss.detach())
        if not math.isfinite(value):
            where = self.last_checkpoint or self.resumable(self.out)
            hint = f"last good checkpoint: {where}" if where else "no checkpoint was written"
            raise TrainingDiverged(
                f"loss became {value} at step {self.state.step + 1} "
                f"(epoch {self.state.epoch}); {hint}. Try a lower --lr or --grad-clip"
            )
        return value

    def _log_inspection(self, inspector: Inspector) -> None:
        """One ``inspect`` event: per-layer activation statistics and gradient norms."""
        acts = inspector.activation_stats()
        self.log.log(
            "inspect", self.state.step,
            grad_norm=inspector.grad_norms(),
            act_mean={k: r.mean for k, r in acts.items()},
            act_std={k: r.std for k, r in acts.items()},
            saturated={k: r.saturated_fraction for k, r in acts.items()
                       if r.saturated_fraction is not None},
            dead={k: r.dead_fraction for k, r in acts.items() if r.dead_fraction is not None},
        )  # fmt: skip
        inspector.clear()

    def _evaluate(self) -> bool:
        """Run ``evaluate``, log it, track the best; return True when it is time to stop."""
        if self.evaluate_fn is None:
            return False
        self.model.eval()
        with self._averaged():
            with torch.no_grad(), autocast(self.device, self.config.amp):
                metrics = {k: float(v) for k, v in self.evaluate_fn(self.model).items()}
            improved = self.early is not None and self.early.update(metrics, self.state.step)
            if improved:  # the weights just evaluated (the average, with --ema)
                self.best_weights = copy.deepcopy(self.model.state_dict())
        self.model.train()
        record = {"step": self.state.step, "epoch": self.state.epoch, **metrics}
        self.history.append(record)
        self.log.log("eval", self.state.step, epoch=self.state.epoch, **metrics)
        shown = " ".join(f"{k} {v:.5g}" for k, v in metrics.items())
        self.progress.line(f"step {self.state.step} epoch {self.state.epoch}: {shown}")
        return self.early is not None and self.early.should_stop

    def _averaged(self) -> contextlib.AbstractContextManager[None]:
        """The EMA weights swapped in (--ema), else nothing."""
        return self.ema.swapped() if self.ema is not None else contextlib.nullcontext()

    def _checkpoint_state(self) -> dict[str, Any]:
        return {
            "format": CHECKPOINT_FORMAT,
            "config": self.run_config,  # what --resume compares with
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "rng": rng_state(),
            "train_state": dataclasses.asdict(self.state),
            "early_stopping": self.early.state_dict() if self.early else None,
            "best_weights": self.best_weights,
            "history": self.history,
        }

    def _save_checkpoint(self) -> None:
        if self.dist.is_main:
            check_finite_weights(self.model)
            path = save_checkpoint(
                self.ckpt_dir,
                self.state.step,
                self._checkpoint_state(),
                self.config.keep_checkpoints,
            )
            self.last_checkpoint = path
            self.log.log("checkpoint", self.state.step, path=str(path.relative_to(self.out)))

    @staticmethod
    def resumable(out: str | Path) -> Path | None:
        """The checkpoint ``--resume`` would continue from in the run folder ``out``, or None.

        Example:
            >>> if Trainer.resumable("runs/a") is None: ...  # nothing to resume: start fresh
        """
        return latest_checkpoint(Path(out) / "checkpoints")

    def _maybe_resume(self) -> bool:
        if not self.config.resume:
            return False
        path, ckpt, skipped = newest_usable(self.ckpt_dir, map_location=self.device)
        if ckpt.get("config") is not None:  # absent in checkpoints of older versions
            check_same_run(ckpt["config"], self.run_config, f"checkpoint {path}")
        restore_states(path, ckpt, model=self.model, optimizer=self.optimizer,
                       scheduler=self.scheduler)  # fmt: skip
        self.state = TrainState(**ckpt["train_state"])
        if self.early is not None and ckpt["early_stopping"] is not None:
            self.early.load_state_dict(ckpt["early_stopping"])
        self.best_weights = ckpt["best_weights"]
        self.history = list(ckpt["history"])
        set_rng_state({k: (v.cpu() if torch.is_tensor(v) else v) for k, v in ckpt["rng"].items()})
        self.last_checkpoint = path
        for bad in skipped:  # newer files that do not load (truncated, empty, foreign)
            self.progress.note(f"{bad}; resuming from the older {path.name}", warning=True)
        self.progress.note(f"resumed from {path} at step {self.state.step} of {self.total_steps} "
                           f"(epoch {self.state.epoch + 1}, batch {self.state.batch} of "
                           f"{len(self.batches)})")  # fmt: skip
        return True

    def _finish(self, seconds: float) -> dict[str, Any]:
        final: dict[str, Any] = {}
        if self.early is not None and self.best_weights is not None:
            self.model.load_state_dict(self.best_weights)  # keep the best evaluated weights
            best = next(h for h in self.history if h["step"] == self.early.best_step)
            final.update({k: v for k, v in best.items() if k not in ("step", "epoch")})
            final["best_step"] = self.early.best_step
            final["stopped_early"] = self.early.should_stop
        else:
            if self.ema is not None:
                self.ema.swap_in()  # the model keeps (and saves) the average from here on
            if self.history:
                final.update(
                    {k: v for k, v in self.history[-1].items() if k not in ("step", "epoch")}
                )
        train_events = [e for e in self.log.events if e["event"] == "train"]
        if train_events:
            final["train_loss"] = train_events[-1]["loss"]
        final.update(
            steps=self.state.step, epochs=self.state.epoch, train_seconds=round(seconds, 3)
        )
        if self.dist.is_main:
            check_finite_weights(self.model)
            save_safetensors(self.out / "model.safetensors", self.model.state_dict(), self.metadata)
            self.log.write_summary(final)
        self.log.close()
        return final
