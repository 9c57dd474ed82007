"""Neural text classifiers by name: ``create_text_classifier("textcnn", V, C, 128)``.

The models (in :mod:`danlu.nn.text`) share one interface::

    model(tokens, mask) -> logits
    tokens (B, T) int64, 0 = padding (right-padded); mask (B, T) bool, True at real tokens
    (optional, defaults to tokens != 0); logits (B, C)

and padding never changes the output. The table:

===========  =====================================  =========================================
name         model                                  reference
===========  =====================================  =========================================
textcnn      convolutions of widths 2,3,4, max      Kim, EMNLP 2014
textrnn      BiLSTM, final states (or mean)         Liu et al., IJCAI 2016 (RNN for text)
textrnn_att  BiLSTM + attention pooling             Zhou et al., ACL 2016
textrcnn     [h→; e; h←], tanh projection, max      Lai et al., AAAI 2015
transformer  sinusoidal positions, encoder, mean    Vaswani et al., NeurIPS 2017
===========  =====================================  =========================================

Example:
    >>> import torch
    >>> model = create_text_classifier("textcnn", vocab_size=1000, num_classes=10, embed_dim=64)
    >>> tokens = torch.tensor([[4, 8, 15, 16], [23, 42, 0, 0]])
    >>> model(tokens, tokens != 0).shape
    torch.Size([2, 10])
"""

from __future__ import annotations

import inspect
from typing import Any

from torch import nn

from danlu import names
from danlu.errors import UsageError
from danlu.nn.init import init_weights
from danlu.nn.text import TextCNN, TextRCNN, TextRNN, TextRNNAttention, TransformerClassifier

__all__ = [
    "TEXT_CLASSIFIERS",
    "TextCNN",
    "TextRCNN",
    "TextRNN",
    "TextRNNAttention",
    "TransformerClassifier",
    "create_text_classifier",
    "text_classifier_names",
]

# Explicit table: name -> class built as cls(vocab_size, num_classes, embed_dim, **options).
TEXT_CLASSIFIERS: dict[str, type[nn.Module]] = names.implement(
    names.TEXT_CLASSIFIERS,
    {
        "textcnn": TextCNN,
        "textrnn": TextRNN,
        "textrnn_att": TextRNNAttention,
        "textrcnn": TextRCNN,
        "transformer": TransformerClassifier,
    },
    "text classifiers",
)


def text_classifier_names() -> list[str]:
    """Names accepted by :func:`create_text_classifier`, in table order."""
    return list(TEXT_CLASSIFIERS)


def _option_names(cls: type[nn.Module]) -> list[str]:
    """The keyword-only options of a model's constructor."""
    params = inspect.signature(cls.__init__).parameters.values()
    return [p.name for p in params if p.kind is inspect.Parameter.KEYWORD_ONLY]


def create_text_classifier(
    name: str, vocab_size: int, num_classes: int, embed_dim: int = 128, **options: Any
) -> nn.Module:
    """Build the text classifier ``name`` (see :data:`TEXT_CLASSIFIERS`).

    Args:
        name: one of ``text_classifier_names()``.
        vocab_size: ``V``: token ids are ``0..V-1``, 0 being padding.
        num_classes: ``C``, the width of the logits.
        embed_dim: embedding size ``D``.
        **options: the model's keyword options (e.g. ``dropout``, ``hidden_size``,
            ``widths``, ``num_filters``, ``heads``, ``num_layers``, ``pretrained`` (a
            ``(V, D)`` tensor), ``freeze_embeddings``), plus ``init``: a scheme name of
            :func:`danlu.nn.init_weights` applied to every weight matrix (embeddings
            excepted); default: PyTorch's initialisation.

    Returns:
        The model, an ``nn.Module`` with ``forward(tokens (B, T), mask (B, T)) -> (B, C)``.

    Raises:
        UsageError: unknown name or option (the message lists the valid ones), bad sizes.
    """
    try:
        cls = TEXT_CLASSIFIERS[name]
    except KeyError:
        raise UsageError(
            f"unknown text classifier {name!r}; valid: {', '.join(TEXT_CLASSIFIERS)}"
        ) from None
    init = options.pop("init", None)
    valid = _option_names(cls)
    unknown = sorted(set(options) - set(valid))
    if unknown:
        raise UsageError(
            f"{name} has no option {', '.join(map(repr, unknown))}; valid: "
            f"{', '.join([*valid, 'init'])}"
        )
    model = cls(vocab_size, num_classes, embed_dim, **options)
    if init is not None:
        init_weights(model, init)
    return model
