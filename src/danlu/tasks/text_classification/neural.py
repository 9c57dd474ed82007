"""``danlu supervised -model textcnn|textrnn|textrnn_att|textrcnn|transformer``.

The same ``__label__`` files and tokenizers as the fastText model; the network comes from
:func:`danlu.nn.text_classifiers.create_text_classifier` and trains with danlu's
:class:`~danlu.train.Trainer` (progress bar, ``-validation`` with early stopping on
``val_accuracy``, checkpoints, run files in ``PREFIX.run/``). Token ids: 0 is padding, 1
is an unknown word, then words with at least ``-minCount`` occurrences, most frequent first.
Losses: ``softmax`` (cross-entropy on the first label), ``ova`` and ``zlpr`` (multi-label).
``-lr`` keeps fastText's default 0.1 for the linear model; a network left at that default
trains with AdamW at 1e-3 instead (``-weight-decay`` 0.01; ``-ema DECAY`` evaluates and
saves the moving average of the weights; ``-adversarial EPS`` adds FGM adversarial training
on the embeddings, :mod:`danlu.train.adversarial`).

The model file ``PREFIX.safetensors`` holds the weights with the vocabulary, labels and
model options in its metadata; :func:`load_neural` rebuilds it, executing nothing.
"""

from __future__ import annotations

import json
import tempfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from danlu.errors import UsageError
from danlu.tasks.text_classification.config import SupervisedConfig
from danlu.tasks.text_classification.data import LabeledCorpus, load_vectors, read_labeled_file

__all__ = ["NEURAL_FORMAT", "NeuralTextModel", "load_neural", "train_neural"]

NEURAL_FORMAT = "danlu-textclf-1"
MAX_LEN = 256


@dataclass
class NeuralTextModel:
    """A trained network with the interface of :class:`FastTextModel` used by predict/test."""

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
        tokens = tokens.to(next(self.net.parameters()).device)
        logits = self.net(tokens, tokens != 0).float().cpu()
        return torch.softmax(logits, 1) if self.loss == "softmax" else torch.sigmoid(logits)

    def predict_topk(
        self, lines: Sequence[Sequence[str]], k: int = 1, threshold: float = 0.0
    ) -> tuple[np.ndarray, np.ndarray]:
        kk = len(self.labels) if k < 0 else min(k, len(self.labels))
        if self.loss == "zlpr":
            threshold = max(threshold, 0.5)
        self.net.eval()
        parts_i, parts_p = [], []
        with torch.no_grad():
            for start in range(0, len(lines), 512):
                probs = self.scores(self.encode(lines[start : start + 512]))
                top_p, top_i = probs.topk(kk, dim=1)
                top_i[(top_p < threshold) | (top_p <= 0.0)] = -1
                parts_i.append(top_i.numpy())
                parts_p.append(top_p.numpy())
        if not parts_i:
            return np.zeros((0, kk), np.int64), np.zeros((0, kk), np.float32)
        return np.concatenate(parts_i), np.concatenate(parts_p)

    def predict_tokens(
        self, lines: Sequence[Sequence[str]], k: int = 1, threshold: float = 0.0
    ) -> list[list[tuple[str, float]]]:
        idx, probs = self.predict_topk(lines, k, threshold)
        return [
            [(self.labels[i], p) for i, p in zip(ir, pr, strict=True) if i >= 0]
            for ir, pr in zip(idx.tolist(), probs.tolist(), strict=True)
        ]

    def save(self, path: str | Path) -> Path:
        from danlu.train.checkpoint import save_safetensors

        meta = {
            "format": NEURAL_FORMAT, "loss": self.loss, "tokenizer": self.tokenizer,
            "vocab": json.dumps(self.vocab, ensure_ascii=False),
            "labels": json.dumps(self.labels, ensure_ascii=False),
            "args": json.dumps(self.args, ensure_ascii=False),
        }  # fmt: skip
        return save_safetensors(path, self.net.state_dict(), meta)


def _build_net(args: dict[str, Any], vocab_size: int, n_labels: int) -> nn.Module:
    from danlu.nn.text_classifiers import create_text_classifier

    return create_text_classifier(args["model"], vocab_size, n_labels, embed_dim=args["dim"])


def load_neural(path: str | Path, meta: dict[str, str]) -> NeuralTextModel:
    """Rebuild a network saved by :meth:`NeuralTextModel.save` (``meta``: its metadata)."""
    from danlu.train.checkpoint import load_safetensors

    args = json.loads(meta["args"])
    vocab, labels = json.loads(meta["vocab"]), json.loads(meta["labels"])
    net = _build_net(args, len(vocab), len(labels))
    net.load_state_dict(load_safetensors(path))
    return NeuralTextModel(net, vocab, labels, meta["loss"], meta["tokenizer"], args)


def _targets(corpus: LabeledCorpus, labels: list[str], multi: bool) -> torch.Tensor:
    index = {x: i for i, x in enumerate(labels)}
    if not multi:
        return torch.tensor([index[x[0]] for x in corpus.labels], dtype=torch.long)
    y = torch.zeros(len(corpus.labels), len(labels))
    for i, labs in enumerate(corpus.labels):
        y[i, [index[x] for x in labs if x in index]] = 1.0
    return y


def _load_embeddings(model: NeuralTextModel, path: str) -> None:
    """Start the embedding rows of words found in the ``.vec`` file ``path`` from their vectors
    (the other rows keep the model's initialisation; padding stays zero)."""
    weight = model.net.embedding.weight
    table = weight.detach().cpu().numpy().copy()  # (V, D)
    index = {w: i for i, w in enumerate(model.vocab) if i >= 2}  # not padding or unknown
    load_vectors(path, lambda w: index.get(w, -1), table)
    with torch.no_grad():
        weight.copy_(torch.from_numpy(table))


def train_neural(cfg: SupervisedConfig) -> tuple[NeuralTextModel, dict[str, Any]]:
    """Train ``cfg.model`` on ``cfg.input``; returns the model and the Trainer's metrics."""
    from danlu.data import TensorData
    from danlu.train.config import TrainConfig
    from danlu.train.trainer import Trainer

    if cfg.loss not in ("softmax", "ova", "zlpr"):
        raise UsageError(f"-model {cfg.model} trains with -loss softmax, ova or zlpr, "
                         f"not {cfg.loss}")  # fmt: skip
    corpus = read_labeled_file(cfg.input, cfg.label, cfg.tokenizer)
    if not corpus.words:
        raise UsageError(f"{cfg.input}: no line with a label (prefix {cfg.label!r})")
    counts = Counter(chain.from_iterable(corpus.words))
    words = [w for w, c in counts.most_common() if c >= cfg.min_count]
    labels = [x for x, _ in Counter(chain.from_iterable(corpus.labels)).most_common()]
    args = {"model": cfg.model, "dim": cfg.dim, "label": cfg.label}
    model = NeuralTextModel(
        _build_net(args, len(words) + 2, len(labels)), ["<pad>", "<unk>", *words], labels,
        cfg.loss, cfg.tokenizer, args,
    )  # fmt: skip
    if cfg.pretrained_vectors:
        _load_embeddings(model, cfg.pretrained_vectors)
    multi = cfg.loss != "softmax"
    data = TensorData(model.encode(corpus.words), _targets(corpus, labels, multi))

    def loss_fn(net: nn.Module, batch: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        tokens, y = batch
        logits = net(tokens, tokens != 0)
        if cfg.loss == "softmax":
            return F.cross_entropy(logits, y)
        if cfg.loss == "ova":
            return F.binary_cross_entropy_with_logits(logits, y)
        from danlu.functional.multilabel import zlpr_loss

        return zlpr_loss(logits, y)

    evaluate = None
    if cfg.validation:
        from danlu.tasks.text_classification.predict import evaluate as ft_evaluate

        val = read_labeled_file(cfg.validation, cfg.label, cfg.tokenizer)

        def evaluate(net: nn.Module) -> dict[str, float]:
            single = cfg.loss == "softmax"
            _, p, r = ft_evaluate(model, val, 1 if single else -1, 0.0 if single else 0.5)
            return {"val_accuracy": p, "val_recall": r}

    train_cfg = TrainConfig(
        epochs=cfg.epoch, batch_size=cfg.batch_size or 64, seed=cfg.seed,
        lr=1e-3 if cfg.lr == 0.1 else cfg.lr, optimizer="adamw", device=cfg.device,
        early_stop_metric="val_accuracy" if cfg.validation else "",
        patience=cfg.patience if cfg.validation else 0, quiet=cfg.verbose < 2, ema=cfg.ema,
        weight_decay=cfg.weight_decay, adversarial=cfg.adversarial,
    )  # fmt: skip
    torch.set_num_threads(cfg.thread)
    run_dir = cfg.output + ".run" if cfg.output else tempfile.mkdtemp(prefix="danlu-textclf-")
    trainer = Trainer(model.net, loss_fn, data, train_cfg, run_dir, evaluate=evaluate)
    metrics = trainer.fit()
    return model, metrics
