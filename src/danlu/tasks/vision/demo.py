"""The vision task's entry in ``danlu demo``: a modern LeNet-5 on 1,800 Fashion-MNIST images
shipped in the package (``samples/fashion_mnist_sample/``), scored on 450 others."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from danlu.tasks.demo_config import Demo, sample_path
from danlu.train.config import TrainConfig

__all__ = ["DEMOS", "FASHION_CLASSES", "sample_files"]

FOLDER = "fashion_mnist_sample"
# Fashion-MNIST's labels 0..9 (Xiao et al. 2017)
FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                   "Sneaker", "Bag", "Ankle boot")  # fmt: skip


def sample_files(split: str) -> tuple[str, str]:
    """The shipped ``(images, labels)`` IDX files of ``split``: ``train`` or ``dev``."""
    return (str(sample_path(f"{FOLDER}/{split}-images-idx3-ubyte.gz")),
            str(sample_path(f"{FOLDER}/{split}-labels-idx1-ubyte.gz")))  # fmt: skip


def _train(out: Path, device: str) -> dict[str, Any]:
    """Twelve epochs of batches of 64 shifted by up to 2 pixels (``--augment crop:2``), about
    4 s of training on one CPU core: dev accuracy about 0.85."""
    from danlu.tasks.vision.config import VisionTrainConfig
    from danlu.tasks.vision.train import train_vision

    (train, labels), (dev, dev_labels) = sample_files("train"), sample_files("dev")
    cfg = VisionTrainConfig(
        train=train, labels=labels, dev=dev, dev_labels=dev_labels, out=str(out),
        model="lenet5_modern", class_names=FASHION_CLASSES, augment="crop:2",
        optim=TrainConfig(epochs=12, batch_size=64, lr=3e-3, weight_decay=0.01,
                          schedule="cosine", warmup=30, device=device, quiet=True,
                          early_stop_metric="val_accuracy", overwrite=True),
    )  # fmt: skip
    return train_vision(cfg)


DEMOS: tuple[Demo, ...] = (
    Demo("vision-fashion-mnist", "image classification (LeNet-5, modern)",
         "Fashion-MNIST, 1,800 + 450 images", "val_accuracy", _train),
)  # fmt: skip
