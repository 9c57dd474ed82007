"""``danlu vision train``: a convolutional image classifier (LeNet-5 ... ResNet-18, DenseNet).

Inside :func:`~danlu.train.launch.training_run` (run folder, torchrun, ``--resume``):

1. parse ``--augment`` (a bad argument is refused before any data is read);
2. read the training images and the dev images (:func:`.data.read_training`: ``--dev``, else
   ``--dev-fraction`` of the training images drawn at random, else none) into ``uint8``
   tensors, and measure the channel mean and std on the training images alone;
3. train with the :class:`~danlu.train.trainer.Trainer`: each batch goes to the device as
   ``uint8``, is augmented there (:class:`AugmentedLoss`: a generator seeded from the seed,
   the step and the process, so that a resumed run draws what the first run would have),
   then converted and normalised by the model itself (:class:`.model.VisionNet`); the dev
   accuracy after each epoch is ``val_accuracy``, the early-stopping metric, whose best
   weights are the ones saved.

Example:
    >>> cfg = VisionTrainConfig(train="train-images.gz", labels="train-labels.gz")  # doctest: +SKIP
    >>> describe(train_vision(cfg))  # doctest: +SKIP
    'dev accuracy 0.9912'
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from danlu.config import config_to_dict
from danlu.data.augment import Augment, parse_augment
from danlu.data.sampler import EpochBatches
from danlu.io import write_json
from danlu.metrics import accuracy
from danlu.tasks.vision.config import VisionTrainConfig
from danlu.tasks.vision.data import Images, channel_stats, read_training
from danlu.tasks.vision.model import VisionNet, VisionSpec, batched_logits, spec_metadata
from danlu.train.launch import training_run
from danlu.train.seed import seed_everything
from danlu.train.trainer import Trainer

__all__ = ["DEV_HINT", "AugmentedLoss", "ImageBatches", "augment_seed", "describe",
           "dev_evaluator", "train_vision"]  # fmt: skip

# how a user of vision train gives validation data (the Trainer refuses --patience without)
DEV_HINT = "pass --dev DATA (with --dev-labels for IDX) or a --dev-fraction > 0"


class ImageBatches:
    """The training images as the Trainer's data: ``get`` gives ``uint8`` pixels and labels
    on the device; an epoch is shuffled batches of ``batch_size`` with the last, smaller
    batch dropped (a batch of one image would break batch norm)."""

    def __init__(self, images: Images, batch_size: int) -> None:
        self.images, self.batch_size = images, batch_size

    def __len__(self) -> int:
        return len(self.images)

    def batches(self, seed: int) -> EpochBatches:
        n = len(self.images)
        return EpochBatches(n, self.batch_size, seed=seed, drop_last=n > self.batch_size)

    def get(self, indices: np.ndarray, device: torch.device | str = "cpu"
            ) -> tuple[torch.Tensor, torch.Tensor]:  # fmt: skip
        idx = torch.as_tensor(indices, dtype=torch.long)
        pixels = self.images.pixels[idx].to(device, non_blocking=True)  # (B, C, S, S) uint8
        return pixels, self.images.labels[idx].to(device, non_blocking=True)


def augment_seed(seed: int, step: int, rank: int) -> int:
    """The seed of the augmentation of optimizer step ``step`` (0-based) in process ``rank``:
    a pure function, so a resumed run augments its batches as the uninterrupted run did."""
    state = np.random.SeedSequence([seed % 2**64, step, rank]).generate_state(1, np.uint64)
    return int(state[0])


class AugmentedLoss:
    """``loss(model, (pixels, labels))``: mean cross-entropy (label smoothing ``eps``) of
    the batch after ``augment``, drawn with a CPU generator seeded by :func:`augment_seed`
    (a few numbers per image; the pixels stay on their device). ``step`` returns the
    Trainer's step count (set once the Trainer exists)."""

    def __init__(self, augment: Augment, label_smoothing: float, seed: int, rank: int) -> None:
        self.augment, self.eps, self.seed, self.rank = augment, label_smoothing, seed, rank
        self.step: Callable[[], int] = lambda: 0
        self.generator = torch.Generator()

    def __call__(self, model: nn.Module, batch: tuple[torch.Tensor, torch.Tensor]
                 ) -> torch.Tensor:  # fmt: skip
        pixels, labels = batch
        if self.augment.ops:
            self.generator.manual_seed(augment_seed(self.seed, self.step(), self.rank))
            pixels = self.augment(pixels, self.generator)  # (B, C, S, S) uint8
        return F.cross_entropy(model(pixels), labels, label_smoothing=self.eps)


def dev_evaluator(dev: Images, batch_size: int = 512) -> Callable[[nn.Module], dict[str, float]]:
    """``evaluate(model) -> {"val_loss", "val_accuracy"}`` on the dev images (the Trainer
    calls it in eval mode, without gradients)."""

    def evaluate(model: nn.Module) -> dict[str, float]:
        device = next(model.parameters()).device
        logits = batched_logits(model, dev.pixels, device, batch_size)
        return {"val_loss": float(F.cross_entropy(logits, dev.labels)),
                "val_accuracy": accuracy(logits.argmax(-1), dev.labels)}  # fmt: skip

    return evaluate


def train_vision(cfg: VisionTrainConfig) -> dict[str, Any]:
    """Train an image classifier into ``cfg.out``; return the final metrics (the best dev
    accuracy kept)."""
    with training_run(cfg.out, cfg.optim, run_config=cfg) as dist:
        augment = parse_augment(cfg.augment)
        out = Path(cfg.out)
        train, dev = read_training(cfg)
        mean, std = channel_stats(train.pixels)
        channels, size, _ = train.shape
        spec = VisionSpec(model=cfg.model, classes=train.classes, channels=channels, size=size,
                          mean=mean, std=std, stn=cfg.stn)  # fmt: skip
        if dist.is_main:
            out.mkdir(parents=True, exist_ok=True)
            write_json(out / "config.json", config_to_dict(cfg))
        seed_everything(cfg.optim.seed)
        model = VisionNet(spec)
        if cfg.channels_last:  # NHWC weights; the conv outputs then stay NHWC
            model.to(memory_format=torch.channels_last)
        if cfg.compile:  # in place: the state dict keeps its names
            model.classifier.compile()
        loss = AugmentedLoss(augment, cfg.label_smoothing, cfg.optim.seed, dist.rank)
        evaluate = dev_evaluator(dev) if dev is not None else None
        trainer = Trainer(model, loss, ImageBatches(train, cfg.optim.batch_size), cfg.optim, out,
                          evaluate=evaluate, model_metadata=spec_metadata(spec),
                          validation_hint=DEV_HINT, run_config=cfg)  # fmt: skip
        loss.step = lambda: trainer.state.step
        metrics = trainer.fit()
        metrics.update(
            train_images=len(train), dev_images=len(dev) if dev is not None else 0,
            classes=len(spec.classes), image_shape=list(train.shape),
            parameters=sum(p.numel() for p in model.parameters()),
        )  # fmt: skip
        if dist.is_main:
            write_json(out / "metrics.json", metrics)
        return metrics


def describe(metrics: dict[str, Any]) -> str:
    """One line: the best dev accuracy (or the training loss without dev images)."""
    if "val_accuracy" in metrics:
        return f"dev accuracy {metrics['val_accuracy']:.4f} ({metrics['dev_images']} images)"
    return f"train_loss {metrics.get('train_loss', float('nan')):.4f}"
