"""Data loading: CSV tables, CoNLL and segmentation corpora, images, splits, batching."""

from danlu.data.augment import Augment, parse_augment
from danlu.data.conll import TaggedSentence, read_conll, write_conll
from danlu.data.idx import read_idx, read_idx_images_labels, write_idx
from danlu.data.images import ImageSet, read_image_folder, read_images
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
    "Augment",
    "EpochBatches",
    "ImageSet",
    "Standardizer",
    "Table",
    "TaggedSentence",
    "TensorData",
    "kfold",
    "parse_augment",
    "read_conll",
    "read_csv",
    "read_idx",
    "read_idx_images_labels",
    "read_image_folder",
    "read_images",
    "read_people_daily",
    "read_sighan",
    "shard",
    "tags_to_words",
    "train_val_split",
    "words_to_tags",
    "write_conll",
    "write_idx",
    "write_sighan",
]
