"""The tabular model: standardisation buffers around an MLP, saved with its metadata.

The feature mean/std (fitted on the training split only) and, for regression, the target
mean/std live in buffers, so ``model.safetensors`` alone turns raw CSV values into
predictions in the target's own units.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from danlu.errors import UsageError
from danlu.io import from_metadata, read_safetensors_metadata, to_metadata
from danlu.nn.mlp import MLP
from danlu.train.checkpoint import load_safetensors

__all__ = ["ModelSpec", "TabularModel", "load_model", "model_metadata"]


@dataclass(frozen=True)
class ModelSpec:
    """What is needed to rebuild a trained model, stored in the metadata of
    ``model.safetensors`` by :func:`danlu.io.to_metadata` (plus ``danlu_task: tabular``)."""

    task: str  # "regression" | "classification"
    features: tuple[str, ...]
    target: str
    classes: tuple[str, ...]  # class names in output order (classification)
    hidden: tuple[int, ...]
    activation: str
    dropout: float

    @property
    def out_features(self) -> int:
        return len(self.classes) if self.task == "classification" else 1


def model_metadata(spec: ModelSpec) -> dict[str, str]:
    """The string metadata of ``model.safetensors`` that :func:`load_model` rebuilds from."""
    return {"danlu_task": "tabular", **to_metadata(spec)}


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
    try:
        spec = from_metadata(ModelSpec, meta, source=str(path))
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    model = TabularModel(spec)
    model.load_state_dict(load_safetensors(path))
    return model.eval()
