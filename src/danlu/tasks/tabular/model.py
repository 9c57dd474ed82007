"""The tabular model: standardisation buffers around an MLP, saved with its metadata.

The feature mean/std (fitted on the training split only) and, for regression, the target
mean/std live in buffers, so ``model.safetensors`` alone turns raw CSV values into
predictions in the target's own units.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from danlu.errors import UsageError
from danlu.io import read_safetensors_metadata
from danlu.nn.mlp import MLP
from danlu.train.checkpoint import load_safetensors

__all__ = ["ModelSpec", "TabularModel", "load_model"]


@dataclass(frozen=True)
class ModelSpec:
    """What is needed to rebuild a trained model (stored as safetensors metadata)."""

    task: str  # "regression" | "classification"
    features: tuple[str, ...]
    target: str
    classes: tuple[str, ...]  # class names in output order (classification)
    hidden: tuple[int, ...]
    activation: str
    dropout: float

    def to_metadata(self) -> dict[str, str]:
        return {
            "danlu_task": "tabular",
            "task": self.task,
            "features": json.dumps(list(self.features), ensure_ascii=False),
            "target": self.target,
            "classes": json.dumps(list(self.classes), ensure_ascii=False),
            "hidden": json.dumps(list(self.hidden)),
            "activation": self.activation,
            "dropout": str(self.dropout),
        }

    @classmethod
    def from_metadata(cls, meta: dict[str, str]) -> ModelSpec:
        return cls(
            task=meta["task"],
            features=tuple(json.loads(meta["features"])),
            target=meta["target"],
            classes=tuple(json.loads(meta["classes"])),
            hidden=tuple(json.loads(meta["hidden"])),
            activation=meta["activation"],
            dropout=float(meta["dropout"]),
        )

    @property
    def out_features(self) -> int:
        return len(self.classes) if self.task == "classification" else 1


class TabularModel(nn.Module):
    """``y = MLP((x - μ_x) / σ_x)``, times σ_y plus μ_y for regression.

    Regression returns ``(B,)`` predictions in target units; classification returns
    ``(B, C)`` logits.
    """

    def __init__(self, spec: ModelSpec) -> None:
        super().__init__()
        self.spec = spec
        n = len(spec.features)
        self.register_buffer("x_mean", torch.zeros(n))
        self.register_buffer("x_std", torch.ones(n))
        self.register_buffer("y_mean", torch.zeros(()))
        self.register_buffer("y_std", torch.ones(()))
        self.mlp = MLP(n, spec.out_features, spec.hidden, spec.activation, spec.dropout)

    def set_statistics(
        self, x_mean: np.ndarray, x_std: np.ndarray, y_mean: float = 0.0, y_std: float = 1.0
    ) -> None:
        dtype = self.x_mean.dtype
        self.x_mean.copy_(torch.as_tensor(x_mean, dtype=dtype))
        self.x_std.copy_(torch.as_tensor(x_std, dtype=dtype))
        self.y_mean.fill_(y_mean)
        self.y_std.fill_(y_std)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = (x - self.x_mean) / self.x_std  # (B, F)
        out = self.mlp(z)  # (B, 1) or (B, C)
        if self.spec.task == "regression":
            return out.squeeze(-1) * self.y_std + self.y_mean  # (B,)
        return out

    def weight_matrices(self) -> Sequence[torch.Tensor]:
        """The Linear weights (what ``--l1`` penalises; biases are left alone)."""
        return [m.weight for m in self.modules() if isinstance(m, nn.Linear)]


def load_model(run_dir: str | Path) -> TabularModel:
    """Rebuild a trained model from ``RUN_DIR/model.safetensors`` (no code is executed)."""
    path = Path(run_dir) / "model.safetensors"
    if Path(run_dir).is_file() and str(run_dir).endswith(".safetensors"):
        path = Path(run_dir)
    if not path.is_file():
        raise UsageError(f"no model found: {path} does not exist (pass a tabular run folder)")
    try:
        meta = read_safetensors_metadata(path)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if meta.get("danlu_task") != "tabular":
        raise UsageError(f"{path}: not a danlu tabular model (metadata danlu_task missing)")
    model = TabularModel(ModelSpec.from_metadata(meta))
    model.load_state_dict(load_safetensors(path))
    return model.eval()
