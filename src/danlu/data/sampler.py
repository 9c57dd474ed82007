"""Deterministic, resumable mini-batch order (the "data-order position" of a checkpoint).

The order of epoch ``e`` is a pure function of ``(seed, e)``, so resuming only needs the
epoch and the index of the next batch: no sampler state to save. Under torchrun every
process computes the same global batch and takes its own slice of it.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

__all__ = ["EpochBatches", "shard"]


class EpochBatches:
    """Mini-batches of indices into a dataset of ``n`` examples.

    Args:
        n: dataset size.
        batch_size: global batch size.
        seed: base seed; epoch ``e`` is shuffled by ``numpy.random.default_rng([seed, e])``.
        shuffle: False keeps the file order (evaluation).
        drop_last: drop the final, smaller batch.

    Example:
        >>> b = EpochBatches(5, 2, seed=0, shuffle=False)
        >>> [x.tolist() for x in b.epoch(0)]
        [[0, 1], [2, 3], [4]]
    """

    def __init__(
        self, n: int, batch_size: int, seed: int = 0, shuffle: bool = True, drop_last: bool = False
    ) -> None:
        if n < 1:
            raise ValueError(f"cannot batch an empty dataset (n={n})")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.n, self.batch_size, self.seed = n, batch_size, seed
        self.shuffle, self.drop_last = shuffle, drop_last

    def __len__(self) -> int:
        full, rest = divmod(self.n, self.batch_size)
        return full if (self.drop_last or rest == 0) else full + 1

    def order(self, epoch: int) -> np.ndarray:
        if not self.shuffle:
            return np.arange(self.n)
        return np.random.default_rng([self.seed, epoch]).permutation(self.n)

    def epoch(self, epoch: int, start: int = 0) -> Iterator[np.ndarray]:
        """Batches of epoch ``epoch`` from batch number ``start`` on."""
        order = self.order(epoch)
        for b in range(start, len(self)):
            yield order[b * self.batch_size : (b + 1) * self.batch_size]


def shard(indices: np.ndarray, rank: int, world_size: int) -> np.ndarray:
    """This process's slice of a global batch (sizes differ by at most one)."""
    if world_size == 1:
        return indices
    return np.array_split(indices, world_size)[rank]
