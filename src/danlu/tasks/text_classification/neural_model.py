"""The network classifiers' model (``-model textcnn|textrnn|...``) and its file (torch).

A :class:`NeuralTextModel` is a network of :mod:`danlu.nn.text_classifiers` with the
vocabulary, labels and options that turn lines of tokens into its inputs, and the
prediction interface that ``test`` and ``predict`` use (``predict_topk``,
``predict_tokens`` of :class:`classifier.Classifier`, as the fastText model's). Token
ids: 0 is padding, 1 an unknown word, then the vocabulary; a line is cut at ``MAX_LEN``
tokens.

Probabilities: ``softmax(s)`` for ``-loss softmax``, ``sigmoid(s)`` per label for ``ova``
and ``zlpr`` (multi-label), with ``s`` the network's scores (L, C).

The file ``PREFIX.safetensors`` holds the weights with the vocabulary, labels and model
options in its metadata (format :data:`config.NEURAL_FORMAT`); :func:`load_neural`
rebuilds the model from it, executing nothing.

Example:
    >>> model = load_neural("cnn.safetensors", meta)  # doctest: +SKIP
    >>> model.predict_tokens([["质", "量", "很", "好"]], k=2)  # doctest: +SKIP
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from danlu.nn.text_classifiers import create_text_classifier
from danlu.tasks.text_classification.classifier import Classifier
from danlu.tasks.text_classification.config import NEURAL_FORMAT
from danlu.train.checkpoint import load_safetensors, save_safetensors

__all__ = ["MAX_LEN", "NeuralTextModel", "build_net", "load_neural"]

MAX_LEN = 256


@dataclass
class NeuralTextModel(Classifier):
    """A trained network with its vocabulary and labels (its top-k prediction:
    :class:`classifier.Classifier`, as the fastText model's)."""

    CHUNK = 512  # lines a forward pass

    net: nn.Module
    vocab: list[str]
    labels: list[str]
    loss: str
    tokenizer: str
    args: dict[str, Any] = field(default_factory=dict)

    def encode(self, lines: Sequence[Sequence[str]]) -> torch.Tensor:
        """Token ids (L, T), right-padded with 0; unknown words are 1."""
        index = {w: i for i, w in enumerate(self.vocab)}
        width = max(1, min(MAX_LEN, max((len(x) for x in lines), default=1)))
        out = torch.zeros(len(lines), width, dtype=torch.long)
        for i, line in enumerate(lines):
            ids = [index.get(w, 1) for w in line[:width]]
            out[i, : len(ids)] = torch.tensor(ids, dtype=torch.long)
        return out

    @property
    def dim(self) -> int:
        return int(self.args["dim"])

    def scores(self, tokens: torch.Tensor) -> torch.Tensor:
        """Label probabilities (L, C) on the CPU of token ids (L, T)."""
        tokens = tokens.to(next(self.net.parameters()).device)
        logits = self.net(tokens, tokens != 0).float().cpu()
        return torch.softmax(logits, 1) if self.loss == "softmax" else torch.sigmoid(logits)

    def line_probabilities(self, lines: Sequence[Sequence[str]]) -> np.ndarray:
        """Label probabilities (L, C) float32 of tokenized lines (the network in eval mode)."""
        self.net.eval()
        with torch.no_grad():
            return self.scores(self.encode(lines)).numpy()

    def save(self, path: str | Path) -> Path:
        """Write one safetensors file: the weights, with vocabulary, labels and args in its
        metadata."""
        meta = {
            "format": NEURAL_FORMAT, "loss": self.loss, "tokenizer": self.tokenizer,
            "vocab": json.dumps(self.vocab, ensure_ascii=False),
            "labels": json.dumps(self.labels, ensure_ascii=False),
            "args": json.dumps(self.args, ensure_ascii=False),
        }  # fmt: skip
        return save_safetensors(path, self.net.state_dict(), meta)


def build_net(args: dict[str, Any], vocab_size: int, n_labels: int) -> nn.Module:
    """The network ``args["model"]`` (one of :data:`danlu.names.TEXT_CLASSIFIERS`) with
    embeddings of size ``args["dim"]``."""
    return create_text_classifier(args["model"], vocab_size, n_labels, embed_dim=args["dim"])


def load_neural(path: str | Path, meta: dict[str, str]) -> NeuralTextModel:
    """Rebuild a network saved by :meth:`NeuralTextModel.save` (``meta``: its metadata)."""
    args = json.loads(meta["args"])
    vocab, labels = json.loads(meta["vocab"]), json.loads(meta["labels"])
    net = build_net(args, len(vocab), len(labels))
    net.load_state_dict(load_safetensors(path))
    return NeuralTextModel(net, vocab, labels, meta["loss"], meta["tokenizer"], args)
