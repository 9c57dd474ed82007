"""Data loading: CSV tables, CoNLL and segmentation corpora, splits, batching."""

from danlu.data.conll import TaggedSentence, read_conll, write_conll
from danlu.data.sampler import EpochBatches, shard
from danlu.data.segmentation import (
    read_people_daily,
    read_sighan,
    tags_to_words,
    words_to_tags,
    write_sighan,
)
from danlu.data.splits import kfold, train_val_split
from danlu.data.standardize import Standardizer
from danlu.data.table import Table, read_csv
from danlu.data.tensor_data import TensorData

__all__ = [
    "EpochBatches",
    "Standardizer",
    "Table",
    "TaggedSentence",
    "TensorData",
    "kfold",
    "read_conll",
    "read_csv",
    "read_people_daily",
    "read_sighan",
    "shard",
    "tags_to_words",
    "train_val_split",
    "words_to_tags",
    "write_conll",
    "write_sighan",
]
