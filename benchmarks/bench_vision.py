"""Image classification speed: ``danlu vision train``'s loop against a hand-written PyTorch
loop, the cost of augmentation, ``channels_last`` and ``torch.compile``.

1. **Loop overhead.** Both train the same network (:class:`danlu.tasks.vision.model.VisionNet`:
   LeNet-5 behind the on-device normalisation of ``uint8`` pixels) on the same images, kept
   as one ``uint8`` tensor, in the same shuffled batches of 128 (the last, smaller batch
   dropped), with the same optimizer (SGD, momentum 0.9, constant learning rate), no
   augmentation and the same (NCHW) memory format, one epoch each, alternating danlu and the
   reference so that machine noise hits both alike. danlu's time is the ``Trainer``'s
   ``train_seconds`` (the loop, with its logging, progress and per-step loss check; reading
   the files and writing the model are outside it); the reference is a bare ``for`` loop:
   index, forward, cross-entropy, backward, step. Target: ratio <= 1.05 (>= 0.95x the
   images/s).
2. **Augmentation.** The seconds of augmenting a batch of 128 ``uint8`` MNIST images (the
   default ``crop:2`` and a full chain) against one LeNet-5 training step on that batch.
   Target: <= 10 % of a step.
3. **channels_last** and 4. **torch.compile**: seconds per training step (batch 128) of
   LeNet-5, VGG-11 small and ResNet-20, NCHW against NHWC, and eager against compiled
   (the compilation itself timed apart).

Data: MNIST's 60,000 training images from ``../shared/data/mnist`` (``quick``: the first
6,000 and fewer steps); the benchmark is skipped without them.
"""

from __future__ import annotations

import dataclasses
import statistics
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from _util import interleaved, markdown_table
from danlu.data import read_idx_images_labels, write_idx
from danlu.data.augment import parse_augment
from danlu.tasks.vision.config import VisionTrainConfig
from danlu.tasks.vision.data import channel_stats
from danlu.tasks.vision.model import VisionNet, VisionSpec
from danlu.tasks.vision.train import train_vision
from danlu.train.config import TrainConfig
from danlu.train.device import resolve_device
from danlu.train.optimizers import build_optimizer

MNIST = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mnist"
BATCH, MODEL = 128, "lenet5"
ENGINE = TrainConfig(epochs=1, batch_size=BATCH, lr=0.02, optimizer="momentum", schedule="constant",
                     warmup=0, quiet=True, overwrite=True, log_every=50)  # fmt: skip
AUGMENTS = ("crop:2", "crop:4,flip,affine:15:0.1:0.1,erase:0.25")
MODELS = ("lenet5", "vgg11_small", "resnet20")


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
                            augment="", channels_last=False, out=str(out),
                            optim=engine)  # fmt: skip
    return float(train_vision(cfg)["train_seconds"])


def section_loop(x, y, device: torch.device, quick: bool) -> str:
    """The loop-overhead table: danlu's Trainer against the bare loop, one epoch each."""
    n, repeats = (6000, 3) if quick else (len(y), 5)
    x, y = x[:n], y[:n]
    pixels = torch.from_numpy(x)[:, None]  # (N, 1, 28, 28) uint8, shared with numpy
    labels = torch.from_numpy(y).long()
    spec = _spec(MODEL, pixels)
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
    # each danlu epoch against the hand-written one right after it: a slow spell of the
    # shared machine hits both sides of a pair, so the median pair ratio is the steadier one
    ratio = statistics.median(d / h for d, h in zip(times["danlu"], times["hand"], strict=True))
    steps = n // BATCH
    rows = [[f"{MODEL}, {n:,} images, batch {BATCH}", device.type, torch.get_num_threads(),
             ours, theirs, steps * BATCH / ours, ratio, "<= 1.05"]]  # fmt: skip
    table = markdown_table(["run", "device", "threads", "danlu s / epoch",
                            "hand-written s / epoch", "danlu images / s",
                            "ratio danlu / hand-written", "target"], rows)  # fmt: skip
    return "\n".join([
        "One epoch of LeNet-5 on MNIST through `danlu vision train`'s loop (the `Trainer`: "
        "batches from one `uint8` tensor, normalised on the device by the model, SGD with "
        "momentum, the per-step loss check, logging; `--augment '' --no-channels-last`) "
        "against a bare PyTorch loop over the same tensor, model, batches and optimizer; the "
        f"median of {repeats} alternated epochs each; the ratio is the median of the {repeats} "
        "pairs' ratios. Target: ratio <= 1.05.",
        "", table, "",
    ])  # fmt: skip


def _spec(model: str, pixels: torch.Tensor) -> VisionSpec:
    mean, std = channel_stats(pixels)
    return VisionSpec(model, tuple(map(str, range(10))), 1, 28, mean, std)


def _stepper(spec: VisionSpec, batch: tuple[torch.Tensor, torch.Tensor], device: torch.device,
             channels_last: bool = False, compile: bool = False):  # fmt: skip
    """``step()``: one training step (forward, cross-entropy, backward, SGD) on ``batch``."""
    torch.manual_seed(0)
    model = VisionNet(spec).to(device).train()
    if channels_last:
        model.to(memory_format=torch.channels_last)
    if compile:
        model.classifier.compile()
    optimizer = build_optimizer(model, ENGINE)
    x, y = (t.to(device) for t in batch)

    def step() -> None:
        loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if device.type == "cuda":
            torch.cuda.synchronize()

    return step


def section_augment(pixels: torch.Tensor, device: torch.device, quick: bool) -> str:
    """Augmenting a batch against a LeNet-5 step on it."""
    batch = (pixels[:BATCH], torch.zeros(BATCH, dtype=torch.long))
    fns = {"step": _stepper(_spec(MODEL, pixels), batch, device)}
    x = batch[0].to(device)
    for spec in AUGMENTS:
        augment, gen = parse_augment(spec), torch.Generator().manual_seed(0)
        fns[spec] = lambda augment=augment, gen=gen: augment(x, gen)
    times = interleaved(fns, warmup=5, repeat=20 if quick else 200)
    rows = [[f"`{spec}`", 1e3 * times[spec], 1e3 * times["step"], times[spec] / times["step"],
             "<= 0.10" if spec == "crop:2" else ""] for spec in AUGMENTS]  # fmt: skip
    return markdown_table(["--augment", "augment ms / batch", "LeNet-5 step ms",
                           "augment / step", "target"], rows)  # fmt: skip


def section_formats(pixels: torch.Tensor, device: torch.device, quick: bool) -> str:
    """NCHW against channels_last, eager against compiled: seconds per training step."""
    batch = (pixels[:BATCH], torch.randint(0, 10, (BATCH,)))
    repeat = 5 if quick else 30
    rows = []
    for model in MODELS:
        spec = _spec(model, pixels)
        fns = {"nchw": _stepper(spec, batch, device),
               "nhwc": _stepper(spec, batch, device, channels_last=True)}  # fmt: skip
        t0 = time.perf_counter()
        compiled = _stepper(spec, batch, device, channels_last=True, compile=True)
        compiled()  # compiles forward and backward
        compile_s = time.perf_counter() - t0
        fns["compiled"] = compiled
        t = interleaved(fns, warmup=3, repeat=repeat)
        rows.append([model, 1e3 * t["nchw"], 1e3 * t["nhwc"], t["nchw"] / t["nhwc"],
                     1e3 * t["compiled"], t["nhwc"] / t["compiled"], compile_s])  # fmt: skip
    return markdown_table(["model", "NCHW ms / step", "channels_last ms / step",
                           "speed-up channels_last", "compiled (channels_last) ms / step",
                           "speed-up compile", "compile s"], rows)  # fmt: skip


def run(quick: bool = False) -> str:
    """Markdown section with three tables (or a note when MNIST is not there)."""
    title = "## Image classification speed: danlu vision train vs a hand-written loop"
    if not (MNIST / "train-images-idx3-ubyte.gz").is_file():
        return f"{title}\n\nSkipped: MNIST not found at {MNIST}.\n"
    x, y = read_idx_images_labels(MNIST / "train-images-idx3-ubyte.gz",
                                  MNIST / "train-labels-idx1-ubyte.gz")  # fmt: skip
    device = resolve_device("auto")
    pixels = torch.from_numpy(x[:6000])[:, None]  # (6000, 1, 28, 28) uint8
    return "\n".join([
        title, "",
        section_loop(x, y, device, quick),
        "### Augmentation against a training step", "",
        f"Median of alternated calls on one batch of {BATCH} MNIST images (`uint8`, on the "
        "training device), against a LeNet-5 training step (forward, cross-entropy, backward, "
        "SGD) on the same batch.", "",
        section_augment(pixels, device, quick), "",
        "### Memory format and torch.compile", "",
        f"Median seconds of a training step on one batch of {BATCH}, alternated; channels_last "
        "is `danlu vision train`'s default (`--no-channels-last` turns it off), `--compile` is "
        "off by default. The speed-ups are ratios of the medians (> 1: faster).", "",
        section_formats(pixels, device, quick), "",
    ])  # fmt: skip
