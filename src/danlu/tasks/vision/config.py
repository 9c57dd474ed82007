"""Options of ``danlu vision train|eval|predict`` (no torch import).

Images come as an IDX file (the MNIST layout; its labels in a second IDX file) or as an
image folder ``root/<class>/*.png|jpg``, whose labels are its class folders. Which one a
path is, is read from the file system: a folder is an image folder, anything else an IDX
file; an IDX file without its labels flag, or a folder with one, is refused here, before
any data is read, as are an unknown ``--model`` and an unknown op in ``--augment`` (its
arguments are checked by :func:`danlu.data.augment.parse_augment`, still before the data).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from danlu.config import option, require_at_least
from danlu.errors import UsageError
from danlu.names import AUGMENTATIONS, CNN_MODELS, describe
from danlu.train.config import THREADS_HELP, Device, TrainConfig

__all__ = [
    "VisionDistortConfig",
    "VisionEvalConfig",
    "VisionPredictConfig",
    "VisionTrainConfig",
    "augmentation_names",
    "check_images",
]

CnnModel = Literal[tuple(CNN_MODELS)]  # type: ignore[valid-type]

# LeNet-5 on MNIST (54k train / 6k dev): AdamW, a short warm-up, cosine decay over 40
# epochs of batches of 128, the best dev accuracy kept. Measured on that dev split with
# --augment crop:2: lr 2e-3 x 10 epochs without augmentation 97.95 %, lr 5e-3 x 30 epochs
# 99.08 % (with or without crop:2), lr 5e-3 x 30 with affine:8:0.08:0.08 99.27 %,
# lr 1e-2 x 40 with crop:2 99.30 % (these defaults)
_TRAIN = TrainConfig(
    epochs=40, batch_size=128, lr=1e-2, weight_decay=0.01, schedule="cosine", warmup=100,
    early_stop_metric="val_accuracy",
)  # fmt: skip


def check_images(flag: str, path: str, labels_flag: str, labels: str) -> None:
    """An IDX file needs its labels file; an image folder takes none (its class folders are
    the labels)."""
    if not path:
        raise UsageError(f"{flag} is empty; pass an IDX image file or an image folder")
    if Path(path).is_dir():
        if labels:
            raise UsageError(f"{labels_flag} is for IDX files, but {flag} {path} is an image "
                             "folder, whose labels are its class folders: drop "
                             f"{labels_flag}")  # fmt: skip
    elif not labels:
        raise UsageError(f"{flag} {path} is not a folder, so it is read as an IDX image file, "
                         f"which needs its labels: pass {labels_flag} LABELS.idx.gz (or give "
                         "an image folder root/<class>/*.png)")  # fmt: skip


def augmentation_names(spec: str) -> list[str]:
    """The op names of an ``--augment`` spec, checked against :data:`names.AUGMENTATIONS`
    (their arguments are :func:`danlu.data.augment.parse_augment`'s to check)."""
    if not spec.strip():
        return []
    found = [item.split(":")[0].strip() for item in spec.split(",")]
    for name in found:
        if name not in AUGMENTATIONS:
            what = f"unknown augmentation {name!r}" if name else "an empty augmentation"
            raise UsageError(f"--augment: {what} in {spec!r}; valid: {', '.join(AUGMENTATIONS)} "
                             "(e.g. crop:2,affine:10:0.1:0.1)")  # fmt: skip
    return found


@dataclass(frozen=True)
class VisionTrainConfig:
    """``danlu vision train``: a CNN image classifier on an IDX file or an image folder.

    Without ``--dev``, ``--dev-fraction`` of the training images are drawn at random
    (seeded by ``--split-seed``) as dev images. The pixel mean and standard deviation of
    each channel are measured on the training images alone and stored with the model.
    """

    train: str = option(
        help="training images: an IDX file (labels in --labels) or a folder root/<class>/*.png"
    )
    labels: str = option("", help="IDX labels of --train (needed when --train is an IDX file)")
    dev: str = option(
        "", help="dev images for the accuracy per epoch and the best model: an IDX file "
        "(labels in --dev-labels) or an image folder",
    )  # fmt: skip
    dev_labels: str = option("", help="IDX labels of --dev")
    dev_fraction: float = option(
        0.1, help="without --dev: this share of --train held out as dev images (0: none)"
    )
    split_seed: int = option(0, help="seed of that draw")
    out: str = option("runs/vision", help="run folder to write")
    model: CnnModel = option("lenet5", help=describe(CNN_MODELS))
    stn: bool = option(
        False, help="put a spatial transformer (an affine warp learned per image, Jaderberg "
        "et al. 2015) in front of the classifier",
    )  # fmt: skip
    augment: str = option(
        "crop:2", help="random augmentation of each training batch on the device: ops separated "
        f"by commas, arguments by colons, e.g. crop:2,affine:10:0.1:0.1 ('': none); "
        f"{describe(AUGMENTATIONS)}",
    )  # fmt: skip
    label_smoothing: float = option(0.0, help="label smoothing epsilon of the loss (0: off)")
    class_names: tuple[str, ...] = option(
        (), help="IDX labels 0..K-1 by name, comma separated, e.g. for Fashion-MNIST "
        "T-shirt/top,Trouser,... ('': the digits 0..K-1)",
    )  # fmt: skip
    size: int = option(
        0, help="image folders: resize every image to SIZE x SIZE (0: keep their size, which "
        "must be one square size)",
    )  # fmt: skip
    channels_last: bool = option(
        True, help="keep weights and activations channels-last (NHWC), which the CPU and "
        "GPU convolution kernels run faster on; --no-channels-last: the NCHW default",
    )  # fmt: skip
    compile: bool = option(
        False, help="torch.compile the CNN (a one-off compilation of a minute or so, then "
        "faster steps; needs a C++ compiler on CPU)",
    )  # fmt: skip
    optim: TrainConfig = option(default_factory=lambda: _TRAIN, embed=True)

    def __post_init__(self) -> None:
        if self.model not in CNN_MODELS:
            raise UsageError(f"unknown model {self.model!r}; valid: {', '.join(CNN_MODELS)}")
        augmentation_names(self.augment)
        check_images("--train", self.train, "--labels", self.labels)
        if self.dev:
            check_images("--dev", self.dev, "--dev-labels", self.dev_labels)
        elif self.dev_labels:
            raise UsageError("--dev-labels is the labels file of --dev: pass --dev too")
        if not 0.0 <= self.dev_fraction < 1.0:
            raise UsageError(f"--dev-fraction must be in [0, 1), got {self.dev_fraction}")
        if not 0.0 <= self.label_smoothing < 1.0:
            raise UsageError(f"--label-smoothing must be in [0, 1), got {self.label_smoothing}")
        require_at_least(0, {"--size": self.size})
        folder = Path(self.train).is_dir()
        if self.size and not folder:
            raise UsageError("--size resizes the images of an image folder; IDX images keep "
                             "their size: drop --size")  # fmt: skip
        if self.class_names and folder:
            raise UsageError("--class-names names IDX labels; an image folder's classes are "
                             "its subfolder names: drop --class-names")  # fmt: skip
        twice = sorted({n for n in self.class_names if self.class_names.count(n) > 1})
        if twice or any(not n for n in self.class_names):
            raise UsageError(f"--class-names must be distinct and non-empty, got "
                             f"{','.join(self.class_names)}")  # fmt: skip


@dataclass(frozen=True, kw_only=True)
class _Inference:
    """What every command that runs a trained classifier takes."""

    model: str = option(help="run folder written by danlu vision train")
    batch_size: int = option(512, help="images per forward pass")
    device: Device = option("auto", help="where to run")
    threads: int = option(0, help=THREADS_HELP)

    def __post_init__(self) -> None:
        require_at_least(1, {"--batch-size": self.batch_size})


@dataclass(frozen=True, kw_only=True)
class VisionEvalConfig(_Inference):
    """``danlu vision eval``: accuracy, per-class precision/recall/F1, a confusion matrix
    (``confusion.png``) and misclassified images (``errors.png``) on labelled images.

    The two pictures are written into the folder of ``--out``, or into the ``--model``
    run folder when there is no ``--out``.
    """

    data: str = option(help="labelled images: an IDX file (labels in --labels) or an image "
                       "folder root/<class>/*.png whose classes the model knows")  # fmt: skip
    labels: str = option("", help="IDX labels of --data (needed when --data is an IDX file)")
    out: str = option(
        "", help="write the scores as JSON here; confusion.png and errors.png go beside it "
        "(none: into the --model folder)",
    )  # fmt: skip
    errors: int = option(36, help="misclassified images drawn in errors.png, at most")
    stn_png: str = option(
        "", help="also draw input images beside what the spatial transformer made of them "
        "(a model trained with --stn)",
    )  # fmt: skip

    def __post_init__(self) -> None:
        super().__post_init__()
        check_images("--data", self.data, "--labels", self.labels)
        require_at_least(0, {"--errors": self.errors})


@dataclass(frozen=True, kw_only=True)
class VisionPredictConfig(_Inference):
    """``danlu vision predict``: the most probable classes of images, one JSON line each
    (``{"file": ..., "labels": [...], "probs": [...]}``), in the order given."""

    images: tuple[str, ...] = option(
        help="image files (.png, .jpg, ...) or folders (every .png/.jpg/.jpeg under them, "
        "sorted)", positional=True,
    )  # fmt: skip
    top_k: int = option(3, help="classes per image, most probable first (at most all)")

    def __post_init__(self) -> None:
        super().__post_init__()
        require_at_least(1, {"--top-k": self.top_k})


@dataclass(frozen=True)
class VisionDistortConfig:
    """``danlu vision distort``: a copy of an IDX image set in which every image is rotated,
    scaled and shifted at random, once (seeded), e.g. the rotated/scaled/translated MNIST of
    the spatial transformer paper (Jaderberg et al. 2015) at its original 28 x 28 size.

    Each image draws its own angle ``~ U[-rotate, rotate]`` degrees, scale
    ``~ U[scale_min, scale_max]`` and shift ``(dx, dy) ~ U[-shift, shift]^2`` (fractions of
    the side), applied by :func:`danlu.data.augment.affine` (bilinear, zero fill); with
    ``canvas`` the image is first centred on a blank ``canvas x canvas`` square, so a digit
    can move and grow without losing its edges and the shift is a fraction of the canvas.
    Every image of the file gets the same recipe, so a dev split drawn from the output later
    is distorted exactly as the training images are.
    """

    data: str = option(help="IDX image file to distort, (N, H, W) or (N, C, H, W) uint8")
    labels: str = option(help="its IDX labels, copied beside the distorted images")
    out: str = option(help="folder to write images-idx3-ubyte.gz and labels-idx1-ubyte.gz into")
    rotate: float = option(45.0, help="largest rotation in degrees, either way")
    scale_min: float = option(0.7, help="smallest scale factor")
    scale_max: float = option(1.2, help="largest scale factor")
    shift: float = option(0.1, help="largest shift, a fraction of the side, along each axis")
    canvas: int = option(
        0, help="side of the blank canvas each image is centred on before the warp (0: the "
        "image's own size; the paper's RTS set uses 42 for 28 x 28 digits)",
    )  # fmt: skip
    seed: int = option(0, help="seed of the per-image draws")

    def __post_init__(self) -> None:
        check_images("--data", self.data, "--labels", self.labels)
        if Path(self.data).is_dir():
            raise UsageError(f"--data {self.data} is a folder; vision distort reads IDX files")
        if not 0 <= self.rotate <= 180:
            raise UsageError(f"--rotate must be in [0, 180] degrees, got {self.rotate!r}")
        if not 0 < self.scale_min <= self.scale_max:
            raise UsageError(f"need 0 < --scale-min <= --scale-max, got {self.scale_min!r} and "
                             f"{self.scale_max!r}")  # fmt: skip
        if not 0 <= self.shift < 1:
            raise UsageError(f"--shift must be in [0, 1), got {self.shift!r}")
        if self.canvas < 0:
            raise UsageError(f"--canvas must be 0 (the image's size) or a side in pixels, "
                             f"got {self.canvas!r}")  # fmt: skip
