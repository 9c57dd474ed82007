"""Options of vision train|eval|predict: defaults, names from danlu.names, refusals before
any data is read."""

from __future__ import annotations

import pytest

from danlu import names
from danlu.data.augment import AUGMENTATIONS
from danlu.errors import UsageError
from danlu.nn.cnn import MODELS
from danlu.tasks.vision.config import (
    VisionEvalConfig,
    VisionPredictConfig,
    VisionTrainConfig,
    augmentation_names,
)
from danlu.tasks.vision.train import train_vision

IDX = {"train": "train-images.gz", "labels": "train-labels.gz"}  # not read by the config


def test_defaults_suit_lenet5_on_mnist() -> None:
    cfg = VisionTrainConfig(**IDX)
    assert cfg.model == "lenet5" and not cfg.stn and cfg.augment == "crop:2"
    assert cfg.dev_fraction == 0.1 and cfg.out == "runs/vision"
    assert cfg.optim.batch_size == 128 and cfg.optim.optimizer == "adamw"
    assert cfg.optim.schedule == "cosine" and cfg.optim.early_stop_metric == "val_accuracy"


def test_the_names_come_from_one_table() -> None:
    assert list(MODELS) == list(names.CNN_MODELS)
    assert list(AUGMENTATIONS) == list(names.AUGMENTATIONS)
    assert augmentation_names("crop:2, flip ,affine:10:0.1:0.1") == ["crop", "flip", "affine"]
    assert augmentation_names("  ") == []


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"train": "train-images.gz"}, "is read as an IDX image file, which needs its labels: "
         "pass --labels LABELS.idx.gz"),
        ({**IDX, "model": "lenet7"}, "unknown model 'lenet7'; valid: lenet5, lenet5_modern, "
         "alexnet_small"),
        ({**IDX, "augment": "crop:2,twist:3"}, "--augment: unknown augmentation 'twist' in "
         "'crop:2,twist:3'; valid: crop, flip, affine, erase"),
        ({**IDX, "augment": "crop:2,,flip"}, "an empty augmentation"),
        ({**IDX, "dev": "dev-images.gz"}, "--dev dev-images.gz is not a folder, so it is read "
         "as an IDX image file, which needs its labels: pass --dev-labels"),
        ({**IDX, "dev_labels": "dev-labels.gz"}, "--dev-labels is the labels file of --dev"),
        ({**IDX, "dev_fraction": 1.0}, "--dev-fraction must be in [0, 1), got 1.0"),
        ({**IDX, "label_smoothing": -0.1}, "--label-smoothing must be in [0, 1)"),
        ({**IDX, "size": 32}, "--size resizes the images of an image folder"),
        ({**IDX, "class_names": ("a", "b", "a")}, "--class-names must be distinct"),
    ],
)  # fmt: skip
def test_bad_train_options_are_refused_in_one_line(options, message) -> None:
    with pytest.raises(UsageError) as info:
        VisionTrainConfig(**options)
    assert message in str(info.value)


def test_an_image_folder_takes_no_labels_file_and_no_class_names(tmp_path) -> None:
    folder_rule = r"--labels is for IDX files, but --train .* is an image folder, whose labels"
    with pytest.raises(UsageError, match=folder_rule + " are its class folders: drop --labels"):
        VisionTrainConfig(train=str(tmp_path), labels="labels.gz")
    with pytest.raises(UsageError, match="--class-names names IDX labels"):
        VisionTrainConfig(train=str(tmp_path), class_names=("a", "b"))
    assert VisionTrainConfig(train=str(tmp_path), size=32).size == 32


def test_bad_augment_arguments_are_refused_before_the_data_is_read(tmp_path) -> None:
    cfg = VisionTrainConfig(train=str(tmp_path / "missing.gz"), labels="missing-labels.gz",
                            augment="crop:2,affine:200:0.1:0.1",
                            out=str(tmp_path / "run"))  # fmt: skip
    with pytest.raises(UsageError, match=r"affine: DEGREES must be in \[0, 180\], got 200"):
        train_vision(cfg)  # the files do not exist: had they been read, the error would say so


def test_eval_and_predict_options() -> None:
    with pytest.raises(UsageError, match=r"--data test.gz is not a folder.*pass --labels"):
        VisionEvalConfig(model="run", data="test.gz")
    with pytest.raises(UsageError, match="--errors must be >= 0"):
        VisionEvalConfig(model="run", data="test.gz", labels="l.gz", errors=-1)
    with pytest.raises(UsageError, match="--top-k must be >= 1, got 0"):
        VisionPredictConfig(model="run", images=("a.png",), top_k=0)
    with pytest.raises(UsageError, match="--batch-size must be >= 1"):
        VisionPredictConfig(model="run", images=("a.png",), batch_size=0)
