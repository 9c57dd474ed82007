"""Image classification: the epoch time of ``danlu vision train``'s training loop against a
hand-written PyTorch loop.

Both train the same network (:class:`danlu.tasks.vision.model.VisionNet`: LeNet-5 behind
the on-device normalisation of ``uint8`` pixels) on the same images, kept as one ``uint8``
tensor, in the same shuffled batches of 128 (the last, smaller batch dropped), with the
same optimizer (danlu's AdamW, lr 2e-3, weight decay 0.01, constant learning rate), one
epoch each, alternating danlu and the reference so that machine noise hits both alike.
danlu's time is the ``Trainer``'s ``train_seconds`` (the loop, with its logging, progress
and per-step loss check; reading the files and writing the model are outside it); the
reference is a bare ``for`` loop: index, forward, cross-entropy, backward, step.

Data: MNIST's 60,000 training images from ``../shared/data/mnist`` (``quick``: the first
6,000); the benchmark is skipped without them. Target: no overhead (ratio <= 1.05).
"""

from __future__ import annotations

import dataclasses
import statistics
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from _util import markdown_table
from danlu.data import read_idx_images_labels, write_idx
from danlu.tasks.vision.config import VisionTrainConfig
from danlu.tasks.vision.data import channel_stats
from danlu.tasks.vision.model import VisionNet, VisionSpec
from danlu.tasks.vision.train import train_vision
from danlu.train.config import TrainConfig
from danlu.train.device import resolve_device
from danlu.train.optimizers import build_optimizer

MNIST = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mnist"
BATCH, MODEL = 128, "lenet5"
ENGINE = TrainConfig(epochs=1, batch_size=BATCH, lr=2e-3, weight_decay=0.01, schedule="constant",
                     warmup=0, quiet=True, overwrite=True, log_every=50)  # fmt: skip


def _handwritten_epoch(spec: VisionSpec, pixels: torch.Tensor, labels: torch.Tensor,
                       device: torch.device, seed: int) -> float:  # fmt: skip
    """Seconds of one epoch of the plain loop (model and optimizer built before the clock)."""
    torch.manual_seed(seed)
    model = VisionNet(spec).to(device).train()
    optimizer = build_optimizer(model, ENGINE)
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(seed))
    steps = len(labels) // BATCH
    t0 = time.perf_counter()
    for b in range(steps):
        idx = order[b * BATCH : (b + 1) * BATCH]
        x = pixels[idx].to(device, non_blocking=True)  # (B, 1, 28, 28) uint8
        y = labels[idx].to(device, non_blocking=True)
        loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - t0


def _danlu_epoch(images: str, labels: str, out: Path, device: str, seed: int) -> float:
    engine = dataclasses.replace(ENGINE, seed=seed, device=device)
    cfg = VisionTrainConfig(train=images, labels=labels, dev_fraction=0, model=MODEL,
                            out=str(out), optim=engine)  # fmt: skip
    return float(train_vision(cfg)["train_seconds"])


def run(quick: bool = False) -> str:
    """Markdown section with one table (or a note when MNIST is not there)."""
    title = "## Image classification: danlu vision train vs a hand-written loop"
    if not (MNIST / "train-images-idx3-ubyte.gz").is_file():
        return f"{title}\n\nSkipped: MNIST not found at {MNIST}.\n"
    x, y = read_idx_images_labels(MNIST / "train-images-idx3-ubyte.gz",
                                  MNIST / "train-labels-idx1-ubyte.gz")  # fmt: skip
    n, repeats = (6000, 3) if quick else (len(y), 3)
    x, y = x[:n], y[:n]
    device = resolve_device("auto")
    pixels = torch.from_numpy(x)[:, None]  # (N, 1, 28, 28) uint8, shared with numpy
    labels = torch.from_numpy(y).long()
    mean, std = channel_stats(pixels)
    spec = VisionSpec(MODEL, tuple(map(str, range(10))), 1, 28, mean, std)
    times: dict[str, list[float]] = {"danlu": [], "hand": []}
    with tempfile.TemporaryDirectory() as tmp:
        images, label_file = Path(tmp) / "images.gz", Path(tmp) / "labels.gz"
        write_idx(images, x)
        write_idx(label_file, y)
        # warm-up of both (allocator, kernels, first-call paths), not timed
        _danlu_epoch(str(images), str(label_file), Path(tmp) / "run", device.type, seed=99)
        _handwritten_epoch(spec, pixels, labels, device, seed=99)
        for seed in range(repeats):
            times["danlu"].append(_danlu_epoch(str(images), str(label_file), Path(tmp) / "run",
                                               device.type, seed))  # fmt: skip
            times["hand"].append(_handwritten_epoch(spec, pixels, labels, device, seed))
    ours, theirs = statistics.median(times["danlu"]), statistics.median(times["hand"])
    steps = n // BATCH
    rows = [[f"{MODEL}, {n:,} images, batch {BATCH}", device.type, torch.get_num_threads(),
             ours, theirs, steps * BATCH / ours, ours / theirs, "<= 1.05"]]  # fmt: skip
    table = markdown_table(["run", "device", "threads", "danlu s / epoch",
                            "hand-written s / epoch", "danlu images / s",
                            "ratio danlu / hand-written", "target"], rows)  # fmt: skip
    return "\n".join([
        title, "",
        "One epoch of LeNet-5 on MNIST through `danlu vision train`'s loop (the `Trainer`: "
        "batches from one `uint8` tensor, normalised on the device by the model, AdamW, the "
        "per-step loss check, logging) against a bare PyTorch loop over the same tensor, "
        "model, batches and optimizer; the median of "
        f"{repeats} alternated epoch(s) each. Target: no overhead (ratio <= 1.05).",
        "", table, "",
    ])  # fmt: skip
