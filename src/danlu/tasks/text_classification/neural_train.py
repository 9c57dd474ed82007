"""Training the network classifiers: ``danlu supervised -model textcnn|textrnn|...`` (torch).

The same ``__label__`` files and tokenizers as the fastText model; the network comes from
:func:`danlu.nn.text_classifiers.create_text_classifier` (:func:`neural_model.build_net`)
and trains with danlu's :class:`~danlu.train.trainer.Trainer` (progress bar,
``-validation`` with early stopping on ``val_accuracy``, checkpoints, run files in
``PREFIX.run/``), inside torchrun's process group when launched by it. Vocabulary: words
with at least ``-minCount`` occurrences, most frequent first. Losses
(:data:`config.NEURAL_LOSSES`): ``softmax`` (cross-entropy on the first label), ``ova``
and ``zlpr`` (multi-label)::

    softmax: -log p(y | x),  p = softmax(s)
    ova:     -[c in Y] log sigma(s_c) - [c not in Y] log(1 - sigma(s_c)), averaged over c
    zlpr:    log(1 + sum_{i not in Y} e^{s_i}) + log(1 + sum_{j in Y} e^{-s_j})

AdamW at ``-lr`` (default 1e-3 for a network, :class:`config.SupervisedConfig`),
``-weight-decay`` 0.01; ``-ema DECAY`` evaluates and saves the moving average of the
weights; ``-adversarial EPS`` adds FGM adversarial training on the embeddings
(:mod:`danlu.train.adversarial`). ``-seed`` seeds torch before the network is built:
the same seed with ``-thread 1`` gives the same weights.

Example:
    >>> cfg = SupervisedConfig(input="train.txt", output="cnn", model="textcnn")  # doctest: +SKIP
    >>> model, metrics = train_neural(cfg)  # doctest: +SKIP
"""

from __future__ import annotations

import tempfile
from collections import Counter
from itertools import chain
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from danlu.config import config_to_dict
from danlu.data import TensorData
from danlu.errors import UsageError
from danlu.functional.multilabel import zlpr_loss
from danlu.io import write_json
from danlu.tasks.text_classification.config import SupervisedConfig
from danlu.tasks.text_classification.data import LabeledCorpus, load_vectors, read_labeled_file
from danlu.tasks.text_classification.neural_model import NeuralTextModel, build_net
from danlu.tasks.text_classification.predict import evaluate as evaluate_model
from danlu.train.config import TrainConfig
from danlu.train.launch import training_run
from danlu.train.seed import seed_everything
from danlu.train.trainer import Trainer

__all__ = ["train_neural"]

VALIDATION_HINT = "pass -validation FILE"


def train_neural(cfg: SupervisedConfig) -> tuple[NeuralTextModel, dict[str, Any]]:
    """Train ``cfg.model`` on ``cfg.input``; returns the model and the Trainer's metrics.

    Runs in torchrun's process group when launched by it (a plain run: one process), with
    the run folder ``PREFIX.run`` claimed for the whole training
    (:func:`danlu.train.launch.training_run`): a second run on the same prefix is refused
    while this one lasts (naming its PID), and the files of an earlier, finished run there
    are replaced, as ``PREFIX.safetensors`` is.
    """
    train_cfg = _train_config(cfg)
    run_dir = cfg.output + ".run" if cfg.output else tempfile.mkdtemp(prefix="danlu-textclf-")
    with training_run(run_dir, train_cfg, flag="-output") as dist:
        if dist.is_main:  # the options of the run, as every run folder has them
            write_json(Path(run_dir) / "config.json", config_to_dict(cfg))
        return _train(cfg, train_cfg, run_dir)


def _train_config(cfg: SupervisedConfig) -> TrainConfig:
    """The Trainer's options: AdamW at ``-lr``; replaces an earlier run's files."""
    return TrainConfig(
        epochs=cfg.epoch, batch_size=cfg.batch_size or 64, seed=cfg.seed, lr=cfg.lr,
        optimizer="adamw", device=cfg.device, early_stop_metric="val_accuracy",
        # early stopping only with -validation (-patience has fastText's default, 3)
        patience=cfg.patience if cfg.validation else 0, quiet=cfg.verbose < 2, ema=cfg.ema,
        weight_decay=cfg.weight_decay, adversarial=cfg.adversarial, overwrite=True,
        threads=cfg.thread,  # -thread: torch's CPU threads (the Trainer sets them)
    )  # fmt: skip


def _train(
    cfg: SupervisedConfig, train_cfg: TrainConfig, run_dir: str
) -> tuple[NeuralTextModel, dict[str, Any]]:
    corpus = read_labeled_file(cfg.input, cfg.label, cfg.tokenizer)
    if not corpus.words:
        raise UsageError(f"{cfg.input}: no line with a label (prefix {cfg.label!r})")
    counts = Counter(chain.from_iterable(corpus.words))
    words = [w for w, c in counts.most_common() if c >= cfg.min_count]
    labels = [x for x, _ in Counter(chain.from_iterable(corpus.labels)).most_common()]
    args = {"model": cfg.model, "dim": cfg.dim, "label": cfg.label}
    seed_everything(cfg.seed)  # the network's initial weights, dropout, the data order
    model = NeuralTextModel(
        build_net(args, len(words) + 2, len(labels)), ["<pad>", "<unk>", *words], labels,
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
        return zlpr_loss(logits, y)

    trainer = Trainer(model.net, loss_fn, data, train_cfg, run_dir,
                      evaluate=_evaluator(cfg, model), validation_hint=VALIDATION_HINT,
                      run_config=cfg)  # fmt: skip
    return model, trainer.fit()


def _evaluator(cfg: SupervisedConfig, model: NeuralTextModel) -> Any:
    """``evaluate(net)`` on ``-validation``: P@1 (``val_accuracy``) and R@1 with softmax,
    P and R of the labels above 0.5 for the multi-label losses; None without the file."""
    if not cfg.validation:
        return None
    val = read_labeled_file(cfg.validation, cfg.label, cfg.tokenizer)
    single = cfg.loss == "softmax"

    def evaluate(net: nn.Module) -> dict[str, float]:
        _, p, r = evaluate_model(model, val, 1 if single else -1, 0.0 if single else 0.5)
        return {"val_accuracy": p, "val_recall": r}

    return evaluate


def _targets(corpus: LabeledCorpus, labels: list[str], multi: bool) -> torch.Tensor:
    """Label ids (N,) (the first label of each line), or 0/1 targets (N, C) with ``multi``."""
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
