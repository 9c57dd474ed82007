"""Image classification (``danlu vision train|eval|predict|distort``): LeNet-5 to ResNet and
DenseNet on IDX files (MNIST, Fashion-MNIST) or image folders, with an optional spatial
transformer and batch augmentation on the device.

Modules, bottom to top (each imports only those before it)::

    config    VisionTrainConfig, VisionEvalConfig, VisionPredictConfig, VisionDistortConfig
              (no torch)
    data      IDX files and image folders as one uint8 tensor, the dev split, channel stats
    distort   vision distort: a per-image randomly rotated, scaled and shifted IDX copy
    model     VisionSpec, VisionNet (normalisation, optional STN, a CNN), the model file
    train     vision train: read, split, the Trainer with augmentation on the device
    plots     confusion matrix, misclassified images, the STN's warps (matplotlib)
    evaluate  vision eval: accuracy, the per-class table, the pictures
    predict   vision predict: the top classes of image files, one JSON line each
    commands  the CLI commands: parse, call, print
    demo      danlu demo's entry
"""

from typing import Any

__all__ = ["VisionDistortConfig", "VisionEvalConfig", "VisionPredictConfig", "VisionTrainConfig"]


def __getattr__(name: str) -> Any:
    """The configs, imported on first use (:pep:`562`): ``danlu`` imports this package for
    its command table, and any other command must not pay for the configs."""
    if name in __all__:
        from danlu.tasks.vision import config

        return getattr(config, name)
    raise AttributeError(f"module 'danlu.tasks.vision' has no attribute {name!r}")
