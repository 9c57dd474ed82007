"""The image classifier and its file: ``model.safetensors`` with a :class:`VisionSpec`.

:class:`VisionNet` takes raw ``uint8`` pixels ``(B, C, S, S)`` and does the rest on their
device: float conversion and normalisation by the training set's channel statistics
(``(x / 255 - mean) / std``), the optional spatial transformer, then one of
:mod:`danlu.nn.cnn`'s models. The spec, stored as the file's metadata
(:func:`danlu.io.to_metadata`, plus ``danlu_task: vision``), holds all it is built from;
loading reads tensors and JSON and executes nothing, and a model file of another danlu
task is refused, naming it.

Example:
    >>> model, spec = load_model("runs/mnist")  # doctest: +SKIP
    >>> spec.model, spec.classes[:3], spec.size  # doctest: +SKIP
    ('lenet5', ('0', '1', '2'), 28)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor, nn

from danlu.errors import UsageError
from danlu.io import to_metadata
from danlu.nn.cnn import create_model
from danlu.nn.spatial_transformer import SpatialTransformer
from danlu.tasks.model_file import find_model_file, read_spec
from danlu.train.checkpoint import load_safetensors

__all__ = ["TASK", "VisionNet", "VisionSpec", "batched_logits", "load_model", "spec_metadata"]

TASK = "vision"  # the danlu_task of the file's metadata
WRITER = "danlu vision train"


@dataclass(frozen=True)
class VisionSpec:
    """What rebuilds a trained image classifier (stored as safetensors metadata)."""

    model: str  # a name of danlu.names.CNN_MODELS
    classes: tuple[str, ...]  # class names in output order
    channels: int  # C: 1 (grayscale) or 3 (RGB)
    size: int  # S: images are S x S
    mean: tuple[float, ...]  # per channel, of x / 255 on the training images
    std: tuple[float, ...]
    stn: bool = False  # a spatial transformer in front of the classifier

    @property
    def shape(self) -> tuple[int, int, int]:
        """``(C, H, W)`` of the images the model takes."""
        return self.channels, self.size, self.size


def spec_metadata(spec: VisionSpec) -> dict[str, str]:
    """The metadata of ``model.safetensors``: every field of ``spec``, and ``danlu_task``."""
    return to_metadata(spec) | {"danlu_task": TASK}


class VisionNet(nn.Module):
    """``logits = CNN(STN((x / 255 - mean) / std))`` for ``uint8`` (or float 0..255)
    images ``x`` ``(B, C, S, S)``; the STN only with ``spec.stn``.

    Raises:
        UsageError: the images are too small for the model (e.g. NiN below 15 pixels).
    """

    def __init__(self, spec: VisionSpec) -> None:
        super().__init__()
        self.spec = spec
        c = spec.channels
        mean = torch.tensor(spec.mean, dtype=torch.float32).view(1, c, 1, 1)
        std = torch.tensor(spec.std, dtype=torch.float32).view(1, c, 1, 1)
        # (x - 255 mean) * 1 / (255 std): one subtraction and one product per pixel
        self.register_buffer("shift", 255 * mean, persistent=False)
        self.register_buffer("scale", 1 / (255 * std), persistent=False)
        self.stn = SpatialTransformer(c) if spec.stn else None
        try:
            self.classifier = create_model(
                spec.model, in_channels=c, num_classes=len(spec.classes), input_size=spec.size
            )
        except ValueError as exc:  # the feature map vanishes: images too small
            raise UsageError(f"{exc}; for an image folder, --size N resizes the images") from None

    def normalize(self, pixels: Tensor) -> Tensor:
        """``(B, C, S, S)`` pixels -> float32 ``(x / 255 - mean) / std``."""
        return (pixels.float() - self.shift) * self.scale

    def forward(self, pixels: Tensor) -> Tensor:
        """``(B, C, S, S)`` pixels -> logits ``(B, K)``."""
        x = self.normalize(pixels)
        if self.stn is not None:
            x = self.stn(x)  # (B, C, S, S), warped
        return self.classifier(x)

    def warped(self, pixels: Tensor) -> Tensor:
        """What the spatial transformer makes of ``pixels``: ``(B, C, S, S)`` in ``[0, 1]``."""
        if self.stn is None:
            raise UsageError("this model has no spatial transformer (trained without --stn)")
        return (self.stn(self.normalize(pixels)) / self.scale + self.shift).div(255).clamp(0, 1)


@torch.no_grad()
def batched_logits(model: nn.Module, pixels: Tensor, device: torch.device, batch_size: int = 512
                   ) -> Tensor:  # fmt: skip
    """The logits ``(N, K)`` float32 on the CPU of ``pixels`` ``(N, C, S, S)``, a batch at a
    time on ``device`` (the caller sets eval mode)."""
    out = [model(chunk.to(device, non_blocking=True)).float().cpu()
           for chunk in pixels.split(batch_size)]  # fmt: skip
    return torch.cat(out)


def load_model(run_dir: str | Path) -> tuple[VisionNet, VisionSpec]:
    """The trained classifier of ``RUN_DIR/model.safetensors`` (eval mode) and its spec.

    Raises:
        UsageError: no such file, a file of another danlu task (named), bad metadata.
    """
    path = find_model_file(run_dir, WRITER)
    spec = read_spec(path, VisionSpec, TASK, WRITER)
    model = VisionNet(spec)
    model.load_state_dict(load_safetensors(path))
    return model.eval(), spec
