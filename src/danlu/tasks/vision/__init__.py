"""Image classification (``danlu vision train|eval|predict``): LeNet-5 to ResNet-18 and
DenseNet on IDX files (MNIST, Fashion-MNIST) or image folders, with an optional spatial
transformer and batch augmentation on the device.

Modules, bottom to top (each imports only those before it)::

    config    VisionTrainConfig, VisionEvalConfig, VisionPredictConfig (no torch)
    data      IDX files and image folders as one uint8 tensor, the dev split, channel stats
    model     VisionSpec, VisionNet (normalisation, optional STN, a CNN), the model file
    train     vision train: read, split, the Trainer with augmentation on the device
    plots     confusion matrix, misclassified images, the STN's warps (matplotlib)
    evaluate  vision eval: accuracy, the per-class table, the pictures
    predict   vision predict: the top classes of image files, one JSON line each
    commands  the CLI commands: parse, call, print
    demo      danlu demo's entry
"""

from danlu.tasks.vision.config import VisionEvalConfig, VisionPredictConfig, VisionTrainConfig

__all__ = ["VisionEvalConfig", "VisionPredictConfig", "VisionTrainConfig"]
