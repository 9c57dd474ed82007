"""The training options every task shares (``--epochs``, ``--lr``, ``--device``, ...).

Tasks embed :class:`TrainConfig` in their own config with ``option(embed=True)`` so the
flags appear unprefixed. This module imports no torch, so ``danlu --help`` stays fast.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Literal

from danlu.config import option, require_at_least
from danlu.errors import UsageError
from danlu.names import DEVICES, OPTIMIZER_WRAPPERS, OPTIMIZERS, optimizer_names, schedule_names
from danlu.train.resume import RESUME_MAY_CHANGE

__all__ = ["THREADS_HELP", "Device", "TrainConfig"]

# --threads of every torch command (training: TrainConfig; inference: the task's config)
THREADS_HELP = (
    "CPU threads torch uses (0: $OMP_NUM_THREADS if set, else one per core); on a "
    "small or busy machine 1 or 2 avoids threads spinning against other work"
)

Device = Literal[DEVICES]  # type: ignore[valid-type]


@dataclass(frozen=True)
class TrainConfig:
    """Options of the training engine; see ``danlu tabular train --help``.

    ``--resume`` continues the run in ``--out`` from its newest usable checkpoint (a
    truncated or foreign newer file is skipped with a warning). The resumed run must have
    the run's options except those in :data:`danlu.train.resume.RESUME_MAY_CHANGE`:
    ``--epochs``, ``--max-steps``, ``--patience``, ``--log-every``, ``--checkpoint-every``,
    ``--keep-checkpoints``, ``--inspect``, ``--quiet``, ``--device``, ``--threads`` and
    ``--out``; any other difference is refused in one line naming each option.

    Example:
        >>> TrainConfig(epochs=3, lr=3e-3, threads=1).threads
        1
    """

    epochs: int = option(20, help="passes over the training data")
    max_steps: int = option(0, help="stop after this many optimizer steps (0: no limit)")
    batch_size: int = option(32, help="global batch size (split across torchrun processes)")
    lr: float = option(1e-3, help="peak learning rate")
    optimizer: str = option(
        "adamw", help=f"{', '.join(OPTIMIZERS)}; prefixes "
        f"{', '.join(w + '_' for w in OPTIMIZER_WRAPPERS)} (e.g. lookahead_adamw)",
    )  # fmt: skip
    momentum: float | None = option(
        None, help="momentum of sgd/momentum/nesterov/rmsprop (none: the optimizer's default)"
    )
    weight_decay: float = option(0.0, help="weight decay (decoupled for adamw, L2 otherwise)")
    schedule: str = option("constant", help=", ".join(schedule_names()))
    schedule_args: str = option(
        "", help="schedule parameters, e.g. 'T_0=100;T_mult=2' or 'step_size=1000;gamma=0.5'"
    )
    warmup: int = option(0, help="linear warm-up steps before the schedule")
    ema: float = option(
        0.0, help="evaluate, keep and save an exponential moving average of the weights "
        "with this decay, e.g. 0.999 (0: off)",
    )  # fmt: skip
    adversarial: float = option(
        0.0, help="FGM adversarial training: also take the gradient at the embedding outputs "
        "moved by this L2 step per example along their loss gradient, e.g. 2.0 (0: off)",
    )  # fmt: skip
    grad_clip: float = option(0.0, help="clip gradients to this (0: off); see --clip-mode")
    clip_mode: Literal["norm", "value"] = option(
        "norm", help="norm: rescale so the global L2 norm <= --grad-clip; value: clamp each entry"
    )
    seed: int = option(0, help="seed for python, numpy, torch and the data order")
    device: Device = option("auto", help="where to train")
    threads: int = option(0, help=THREADS_HELP)
    amp: bool = option(False, help="bf16 autocast (CUDA only)")
    eval_every: int = option(0, help="evaluate every N steps (0: at the end of each epoch)")
    early_stop_metric: str = option(
        "", help="metric watched for early stopping and best-model selection, e.g. val_loss"
    )
    early_stop_mode: Literal["auto", "min", "max"] = option(
        "auto", help="whether the metric should go down or up (auto: from its name)"
    )
    patience: int = option(0, help="evaluations without improvement before stopping (0: off)")
    checkpoint_every: int = option(0, help="write a resumable checkpoint every N steps (0: off)")
    keep_checkpoints: int = option(2, help="how many recent checkpoints to keep")
    resume: bool = option(
        False, help="continue from the newest usable checkpoint in --out, with the run's "
        f"options: only {', '.join('--' + n.replace('_', '-') for n in RESUME_MAY_CHANGE)} "
        "may change",
    )  # fmt: skip
    overwrite: bool = option(
        False, help="replace the run already in --out (deletes the files it wrote first)"
    )
    log_every: int = option(10, help="log the training loss every N steps")
    inspect: int = option(
        0, help="every N steps log per-layer activation stats and gradient norms (0: off)"
    )
    quiet: bool = option(False, help="no progress bar and no per-epoch lines")

    def __post_init__(self) -> None:
        require_at_least(1, {"--epochs": self.epochs, "--batch-size": self.batch_size,
                             "--log-every": self.log_every})  # fmt: skip
        require_at_least(0, {
            "--max-steps": self.max_steps, "--warmup": self.warmup,
            "--eval-every": self.eval_every, "--patience": self.patience,
            "--checkpoint-every": self.checkpoint_every, "--grad-clip": self.grad_clip,
            "--inspect": self.inspect, "--weight-decay": self.weight_decay,
            "--adversarial": self.adversarial, "--threads": self.threads,
        })  # fmt: skip
        if not self.lr > 0:
            raise UsageError(f"--lr must be > 0, got {self.lr}")
        if not 0.0 <= self.ema < 1.0:
            raise UsageError(f"--ema must be in [0, 1) (0: off), got {self.ema}")
        require_at_least(1, {"--keep-checkpoints": self.keep_checkpoints})
        if self.patience and not self.early_stop_metric:
            raise UsageError("--patience needs --early-stop-metric (e.g. val_loss)")
        if self.resume and self.overwrite:
            raise UsageError("--resume continues the run in --out and --overwrite replaces it: "
                             "pass one of them")  # fmt: skip
        if self.optimizer not in optimizer_names():
            raise UsageError(f"unknown optimizer {self.optimizer!r}; valid: "
                             f"{', '.join(optimizer_names())}")  # fmt: skip
        if self.schedule not in schedule_names():
            raise UsageError(f"unknown schedule {self.schedule!r}; valid: "
                             f"{', '.join(schedule_names())}")  # fmt: skip

    def without_validation(self, how_to_add: str) -> TrainConfig:
        """These options for a run that has no validation data: nothing is watched for
        early stopping, and ``--patience`` is refused (``how_to_add`` says how to give
        validation data, e.g. "pass --dev FILE"). The one place this rule lives."""
        if self.patience:
            raise UsageError(f"--patience needs validation data: {how_to_add}")
        return dataclasses.replace(self, early_stop_metric="")
