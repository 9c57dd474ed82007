"""Multi-layer perceptron: the notes' "sum of many sigmoids/ReLUs" model.

    h_0 = x,   h_k = dropout(act(W_k h_{k-1} + b_k)),   y = W_L h_{L-1} + b_L

With ``hidden=()`` it is the plain linear model y = b + w·x (or, followed by a
softmax/sigmoid in the loss, logistic regression).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from danlu.nn.activations import create_activation

__all__ = ["MLP"]


class MLP(nn.Module):
    """Linear layers with an activation and optional dropout between them.

    Args:
        in_features: input width.
        out_features: output width.
        hidden: widths of the hidden layers; empty for a linear model.
        activation: a name from :mod:`danlu.nn.activations`.
        dropout: drop probability after each hidden activation.

    Example:
        >>> mlp = MLP(8, 1, hidden=(16,), activation="tanh")
        >>> mlp(torch.zeros(4, 8)).shape
        torch.Size([4, 1])
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        hidden: Sequence[int] = (),
        activation: str = "relu",
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        layers: list[nn.Module] = []
        width = in_features
        for h in hidden:
            if h < 1:
                raise ValueError(f"hidden layer widths must be >= 1, got {tuple(hidden)}")
            layers += [nn.Linear(width, h), create_activation(activation)]
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            width = h
        layers.append(nn.Linear(width, out_features))
        self.layers = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # x: (B, in_features) -> (B, out_features)
        return self.layers(x)
