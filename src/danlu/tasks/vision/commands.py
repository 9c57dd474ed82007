"""``danlu vision train|eval|predict|distort`` (handlers import torch, and the configs their
module, only when they run)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from danlu.tasks.command import Command, TrainEntry, training_command

if TYPE_CHECKING:
    from danlu.tasks.vision.config import (
        VisionDistortConfig,
        VisionEvalConfig,
        VisionPredictConfig,
        VisionTrainConfig,
    )

__all__ = ["COMMANDS"]

_CONFIG = "danlu.tasks.vision.config"  # imported when one of these commands is chosen


def _trainer() -> TrainEntry:
    from danlu.tasks.vision.train import describe, train_vision

    return train_vision, describe


def _eval(cfg: VisionEvalConfig) -> int:
    from danlu.tasks.vision.evaluate import evaluate_images, format_scores

    scores = evaluate_images(cfg)
    print(format_scores(scores))
    wrote = [scores[key] for key in ("confusion_png", "errors_png", "stn_png") if key in scores]
    print(f"wrote {', '.join([*wrote, *([cfg.out] if cfg.out else [])])}", file=sys.stderr)
    return 0


def _predict(cfg: VisionPredictConfig) -> int:
    from danlu.tasks.vision.predict import predict_images

    predict_images(cfg, sys.stdout)
    return 0


def _distort(cfg: VisionDistortConfig) -> int:
    from danlu.tasks.vision.distort import distort_files

    wrote = distort_files(cfg)
    print(f"wrote {wrote['count']} distorted images to {wrote['images']} and their labels to "
          f"{wrote['labels']}", file=sys.stderr)  # fmt: skip
    return 0


def _quiet(cfg: VisionTrainConfig) -> bool:
    return cfg.optim.quiet


COMMANDS: tuple[Command, ...] = (
    Command(("vision", "train"), f"{_CONFIG}:VisionTrainConfig", training_command(_trainer, _quiet),
            "train a CNN image classifier (LeNet-5 ... ResNet-18) on IDX files or an image "
            "folder"),
    Command(("vision", "eval"), f"{_CONFIG}:VisionEvalConfig", _eval,
            "accuracy and per-class scores of an image classifier; draws its confusion matrix "
            "and errors"),
    Command(("vision", "predict"), f"{_CONFIG}:VisionPredictConfig", _predict,
            "the top classes of image files, one JSON line each"),
    Command(("vision", "distort"), f"{_CONFIG}:VisionDistortConfig", _distort,
            "a copy of an IDX image set randomly rotated, scaled and shifted per image "
            "(seeded), to test a spatial transformer"),
)  # fmt: skip
