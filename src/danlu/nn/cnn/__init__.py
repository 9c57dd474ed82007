"""Convolutional networks of the course, sized for 28×28 and 32×32 images, and a registry.

Each family lives in its own module; :func:`create_model` builds any of them by name.
"""

from __future__ import annotations

from danlu.nn.cnn.alexnet import AlexNetSmall
from danlu.nn.cnn.densenet import DenseBlock, DenseNet, transition_block
from danlu.nn.cnn.googlenet import GoogLeNet, Inception
from danlu.nn.cnn.lenet import LeNet5
from danlu.nn.cnn.nin import NiN, nin_block
from danlu.nn.cnn.registry import MODELS, create_model, model_names
from danlu.nn.cnn.resnet import BasicBlock, ResNet, resnet18, resnet20
from danlu.nn.cnn.vgg import VGG, VGG11_SMALL, vgg_block

__all__ = [
    "MODELS",
    "VGG",
    "VGG11_SMALL",
    "AlexNetSmall",
    "BasicBlock",
    "DenseBlock",
    "DenseNet",
    "GoogLeNet",
    "Inception",
    "LeNet5",
    "NiN",
    "ResNet",
    "create_model",
    "model_names",
    "nin_block",
    "resnet18",
    "resnet20",
    "transition_block",
    "vgg_block",
]
