"""An in-memory dataset of aligned tensors, batched by index arrays."""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["TensorData"]


class TensorData:
    """Aligned tensors (features, targets, ...) that share their first dimension.

    ``get(indices, device)`` returns the tuple of rows at ``indices`` on ``device``; this is
    what :class:`danlu.train.Trainer` calls once per step (no DataLoader worker overhead
    for data that already fits in memory).

    Example:
        >>> d = TensorData(torch.arange(6.).reshape(3, 2), torch.tensor([0, 1, 0]))
        >>> x, y = d.get(np.array([2, 0]))
        >>> x.tolist(), y.tolist()
        ([[4.0, 5.0], [0.0, 1.0]], [0, 0])
    """

    def __init__(self, *tensors: torch.Tensor) -> None:
        if not tensors:
            raise ValueError("TensorData needs at least one tensor")
        n = tensors[0].shape[0]
        for i, t in enumerate(tensors):
            if t.shape[0] != n:
                raise ValueError(f"tensor {i} has {t.shape[0]} rows, tensor 0 has {n}")
        self.tensors = tensors

    def __len__(self) -> int:
        return self.tensors[0].shape[0]

    def get(
        self, indices: np.ndarray, device: torch.device | str = "cpu"
    ) -> tuple[torch.Tensor, ...]:
        idx = torch.as_tensor(indices, dtype=torch.long)
        return tuple(t[idx].to(device, non_blocking=True) for t in self.tensors)
