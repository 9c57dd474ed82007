"""Data loading: CSV tables, splits, standardisation, batching."""

from danlu.data.sampler import EpochBatches, shard
from danlu.data.tensor_data import TensorData

__all__ = ["EpochBatches", "TensorData", "shard"]
