"""Every name a user can type for a library component, listed once (no torch import).

A flag such as ``--optimizer``, ``--schedule``, ``--head`` or ``-model`` takes a name from
one of these tables. Everything else derives from them: the config ``Literal`` choices and
their validation (before any data is read), the ``--help`` text, and the tables that map a
name to its implementation in :mod:`danlu.nn` and :mod:`danlu.optim`. Those implementation
tables are built with :func:`implement`, which fails at import if a name of the table here
has no implementation or an implementation has no name here.

Task-level names (the fastText losses, tokenizers) live in the task's own ``config.py``,
which is also torch-free.

Example:
    >>> "lookahead_adamw" in optimizer_names()
    True
    >>> describe(TAGGER_HEADS)
    'crf (linear-chain CRF), memm (...), ...'  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

__all__ = [
    "ACTIVATIONS",
    "ATTENTION_SCORES",
    "AUGMENTATIONS",
    "CNN_MODELS",
    "DEVICES",
    "DIRECTIONS",
    "LENGTH_PENALTIES",
    "OPTIMIZERS",
    "OPTIMIZER_CHAINS",
    "OPTIMIZER_WRAPPERS",
    "SCHEDULES",
    "SEQ2SEQ_MODELS",
    "TAGGER_HEADS",
    "TEXT_CLASSIFIERS",
    "describe",
    "implement",
    "optimizer_names",
    "schedule_names",
]

T = TypeVar("T")

# ------------------------------------------------------------------------ optimizers
# base name -> what it is (danlu.optim.factory maps each to its class and defaults)
OPTIMIZERS: dict[str, str] = {
    "sgd": "plain SGD (momentum, nesterov as keywords)",
    "momentum": "SGD with momentum 0.9",
    "nesterov": "SGD with Nesterov momentum 0.9",
    "adagrad": "AdaGrad",
    "rmsprop": "RMSProp",
    "adam": "Adam (L2 weight decay)",
    "adamw": "AdamW (decoupled weight decay)",
}
# wrapper prefix -> what it does
OPTIMIZER_WRAPPERS: dict[str, str] = {
    "lazy": "updates only the embedding rows a batch touched",
    "lookahead": "slow weights pulled toward the fast ones every k steps",
}
# wrapper chains allowed in front of a base name, outermost first
OPTIMIZER_CHAINS: tuple[tuple[str, ...], ...] = ((), ("lazy",), ("lookahead",),
                                                 ("lookahead", "lazy"))  # fmt: skip


def optimizer_names() -> list[str]:
    """Every optimizer name: a base, optionally after wrappers (``lookahead_lazy_adam``)."""
    return ["_".join((*chain, base)) for chain in OPTIMIZER_CHAINS for base in OPTIMIZERS]


# ------------------------------------------------------------------------ schedules
# name -> its keyword parameters (default); see danlu.optim.schedule_factory
SCHEDULES: dict[str, str] = {
    "constant": "value (1.0)",
    "step": "step_size, gamma (0.1)",
    "exponential": "gamma",
    "linear": "min_value (0.0)",
    "cosine": "min_value (0.0)",
    "cosine_restarts": "T_0, T_mult (1), min_value (0.0)",
    "noam": "d_model (uses --warmup as its own warm-up)",
    "piecewise_linear": "points, e.g. '0:0,1000:1,2000:0.1'",
}


def schedule_names() -> list[str]:
    """Every schedule name, in table order."""
    return list(SCHEDULES)


# ------------------------------------------------------------------------ modules
# sequence-labelling output layers (danlu.nn.heads)
TAGGER_HEADS: dict[str, str] = {
    "crf": "linear-chain CRF, global normalisation",
    "memm": "MEMM, local softmax over emission + transition",
    "bimemm": "MEMM in both directions",
    "softmax": "independent softmax per token",
}
# neural text classifiers (danlu.nn.text_classifiers)
TEXT_CLASSIFIERS: dict[str, str] = {
    "textcnn": "convolutions of widths 2,3,4, max over time (Kim 2014)",
    "textrnn": "BiLSTM, final states",
    "textrnn_att": "BiLSTM with attention pooling",
    "textrcnn": "[h->; e; h<-], tanh projection, max over time",
    "transformer": "Transformer encoder, mean over tokens",
}
# sequence-to-sequence models (danlu.nn.seq2seq): encoder, decoder, one step at a time
SEQ2SEQ_MODELS: dict[str, str] = {
    "gru": "GRU encoder-decoder, the decoder sees only the final encoder state",
    "gru_attn": "GRU encoder-decoder with attention over the encoder states",
    "transformer": "Transformer encoder-decoder (pre-norm, tied embeddings)",
}
# convolutional image classifiers (danlu.nn.cnn), sized for 28x28 and 32x32 images
CNN_MODELS: dict[str, str] = {
    "lenet5": "LeNet-5, sigmoid + average pooling",
    "lenet5_modern": "LeNet-5 with ReLU, max pooling and batch norm",
    "alexnet_small": "AlexNet with a 3x3 stem, half width",
    "vgg11_small": "VGG-11 with a quarter of the channels",
    "nin": "Network in Network",
    "googlenet": "GoogLeNet, Inception v1",
    "resnet18": "ResNet-18 with a CIFAR stem",
    "resnet20": "ResNet-20, 3 stages x 3 blocks of 16/32/64 channels, the paper's CIFAR net",
    "densenet": "DenseNet, 4 blocks x 4 layers, growth 32",
}
# random augmentations of an image batch (danlu.data.augment): the ops of --augment, each
# name followed by its arguments (upper case here) after colons, e.g. crop:4,flip
AUGMENTATIONS: dict[str, str] = {
    "crop": "pad PAD zero pixels on each side, take a random HxW window",
    "flip": "mirror left-right, each image with probability 0.5",
    "affine": "rotate by ±DEGREES, shift by ±TRANSLATE of the size, scale by 1±SCALE",
    "erase": "with probability P set a random rectangle to FILL: zero (default) or mean",
}
# how a recurrent decoder scores the encoder states (Luong et al. 2015; Bahdanau et al.)
ATTENTION_SCORES: dict[str, str] = {
    "dot": "s = h_dec . h_enc",
    "general": "s = h_dec W h_enc",
    "additive": "s = v tanh(W_q h_dec + W_k h_enc) (Bahdanau)",
}
# how beam search ranks hypotheses of different lengths (danlu.decoding)
LENGTH_PENALTIES: dict[str, str] = {
    "none": "rank by log p(Y|x)",
    "average": "rank by log p(Y|x) / |Y|^alpha (alpha = 1: mean log-probability per token)",
    "gnmt": "rank by log p(Y|x) / ((5 + |Y|) / 6)^alpha (Wu et al. 2016)",
}
# what a bidirectional (L2R + R2L) model's search returns (danlu.decoding)
DIRECTIONS: dict[str, str] = {
    "both": "search both directions, keep the better-scored output",
    "l2r": "the left-to-right decoder's output alone",
    "r2l": "the right-to-left decoder's output alone (reversed back to reading order)",
}
# activation functions (danlu.nn.activations)
ACTIVATIONS: dict[str, str] = {
    "sigmoid": "1 / (1 + e^-x)",
    "tanh": "tanh(x)",
    "relu": "max(0, x)",
    "leaky_relu": "x if x > 0 else 0.01 x",
    "prelu": "x if x > 0 else a x, a learned",
    "rrelu": "x if x > 0 else a x, a random in training",
    "gelu": "x Phi(x)",
}
# where to run
DEVICES: tuple[str, ...] = ("auto", "cpu", "cuda")


def describe(table: Mapping[str, str]) -> str:
    """``name (what it is), ...``: a table as one line of help text."""
    return ", ".join(f"{name} ({what})" for name, what in table.items())


def implement(table: Mapping[str, str], impls: Mapping[str, T], what: str) -> dict[str, T]:
    """``impls`` in the order of ``table``, after checking both name the same things.

    Raises:
        TypeError: a name without an implementation or the reverse (a bug in danlu,
            found at import time).
    """
    missing = [n for n in table if n not in impls]
    extra = [n for n in impls if n not in table]
    if missing or extra:
        raise TypeError(f"{what}: names without an implementation {missing}, "
                        f"implementations without a name in danlu.names {extra}")  # fmt: skip
    return {name: impls[name] for name in table}
