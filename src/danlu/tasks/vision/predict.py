"""``danlu vision predict``: the most probable classes of image files, one JSON line each.

Files are read a batch at a time (``--batch-size``), converted to the model's channels
and resized to its size (:func:`danlu.data.images.read_images`), and answered in the order
given (a folder: every image under it, sorted), one line per image, flushed per batch::

    {"file": "shoe.png", "labels": ["Sneaker", "Sandal", "Ankle boot"], "probs": [0.91, ...]}

Example:
    >>> predict_images(VisionPredictConfig(model="runs/fashion", images=("shoe.png",)),
    ...                sys.stdout)  # doctest: +SKIP
"""

from __future__ import annotations

import json
from typing import TextIO

import torch

from danlu.data.images import read_images
from danlu.tasks.vision.config import VisionPredictConfig
from danlu.tasks.vision.data import image_files
from danlu.tasks.vision.model import batched_logits, load_model
from danlu.train.device import resolve_device, use_threads

__all__ = ["predict_images"]


def predict_images(cfg: VisionPredictConfig, stream: TextIO) -> int:
    """Write one JSON line per image to ``stream``; returns the number of images."""
    model, spec = load_model(cfg.model)
    files = image_files(cfg.images)
    use_threads(cfg.threads)
    device = resolve_device(cfg.device)
    model.to(device)
    k = min(cfg.top_k, len(spec.classes))
    for start in range(0, len(files), cfg.batch_size):
        chunk = files[start : start + cfg.batch_size]
        pixels = torch.from_numpy(read_images(chunk, (spec.size, spec.size), spec.channels == 1))
        probs, top = batched_logits(model, pixels, device, cfg.batch_size).softmax(-1).topk(k)
        for path, p, ids in zip(chunk, probs.tolist(), top.tolist(), strict=True):
            line = {"file": str(path), "labels": [spec.classes[i] for i in ids],
                    "probs": [round(x, 6) for x in p]}  # fmt: skip
            stream.write(json.dumps(line, ensure_ascii=False) + "\n")
        stream.flush()
    return len(files)
