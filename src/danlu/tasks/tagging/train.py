"""``danlu tag train`` and ``danlu seg train``: a BiLSTM-CRF (or MEMM, Bi-MEMM, softmax)
tagger for NER or word segmentation.

Both tasks train the same way; each supplies only its reading and its tag set:

1. read the training file, and hold out dev sentences (:func:`split_dev`: ``--dev``, else
   a seeded ``--dev-fraction`` of the training sentences, else none);
2. build the vocabulary (and bigram vocabulary) from the training sentences, and encode
   them, splitting those over ``--max-len`` (:func:`training_data`);
3. train with danlu's :class:`~danlu.train.trainer.Trainer`: the loss is the head's mean
   negative log-likelihood per sentence, the dev evaluation the task's scores
   (:func:`~danlu.tasks.tagging.predict.dev_evaluator`; ``val_f1`` is the early-stopping
   metric). Under torchrun every process trains inside one process group; rank 0 writes
   ``config.json`` and ``metrics.json``.

Example:
    >>> cfg = TagTrainConfig(train="train.txt", dev="dev.txt", out="runs/ner")  # doctest: +SKIP
    >>> describe(train_tagger(cfg))  # doctest: +SKIP
    'dev F1 71.32 (P 73.05, R 69.67)'
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from danlu.config import config_to_dict
from danlu.data.conll import TaggedSentence, read_conll
from danlu.data.splits import train_val_split
from danlu.errors import UsageError
from danlu.io import write_json
from danlu.tasks.tagging.config import SegTrainConfig, TaggerOptions, TagTrainConfig
from danlu.tasks.tagging.model import Batch, Tagger, TaggerSpec, tagger_metadata
from danlu.tasks.tagging.ner import NER, ner_labels
from danlu.tasks.tagging.predict import TaggingTask, dev_evaluator
from danlu.tasks.tagging.seg import SEG, SEG_TAGS, read_seg, train_words
from danlu.tasks.tagging.sequences import (
    SequenceData,
    build_bigram_vocab,
    build_vocab,
    encode,
    repair_piece,
    sentence_features,
    split_long,
    warn_or_reject,
)
from danlu.train.config import TrainConfig
from danlu.train.launch import training_run
from danlu.train.seed import seed_everything
from danlu.train.trainer import Trainer

__all__ = [
    "Labels",
    "describe",
    "fit_tagger",
    "make_spec",
    "make_vocabs",
    "split_dev",
    "train_segmenter",
    "train_tagger",
    "training_data",
]

# how a user of tag/seg train gives validation data (the Trainer refuses --patience without)
DEV_HINT = "pass --dev or a --dev-fraction > 0"
Reader = Callable[[str], list[TaggedSentence]]  # path -> sentences (tokens, tags, line)


def make_spec(task: str, opts: TaggerOptions, vocab: tuple[str, ...], tags: tuple[str, ...],
              scheme: str, train_words: tuple[str, ...] = (),
              bigram_vocab: tuple[str, ...] = ()) -> TaggerSpec:  # fmt: skip
    """The spec of a new model; ``bigram_vocab`` (:func:`build_bigram_vocab`) is needed
    exactly when ``opts.bigrams``."""
    if opts.bigrams and not bigram_vocab:
        raise ValueError("opts.bigrams needs the bigram vocabulary of the training data")
    return TaggerSpec(
        task=task, vocab=vocab, tags=tags, scheme=scheme, head=opts.head,
        embedding_dim=opts.embedding_dim, hidden=opts.hidden, layers=opts.layers,
        dropout=opts.dropout, word_features=opts.word_features, constrained=opts.constrained,
        max_len=opts.max_len, train_words=train_words,
        bigram_vocab=bigram_vocab if opts.bigrams else (),
        bigram_dim=opts.bigram_dim if opts.bigrams else 0,
    )  # fmt: skip


def make_vocabs(sequences: Sequence[Sequence[str]], opts: TaggerOptions
                ) -> tuple[tuple[str, ...], tuple[str, ...]]:  # fmt: skip
    """The token vocabulary and (with ``opts.bigrams``, else ``()``) the bigram vocabulary."""
    vocab = build_vocab(sequences, opts.min_count)
    bigrams = build_bigram_vocab(sequences, opts.bigram_min_count) if opts.bigrams else ()
    return vocab, bigrams


def training_data(
    spec: TaggerSpec,
    sequences: Sequence[Sequence[str]],
    tags: Sequence[Sequence[str]],
    lines: Sequence[int],
    path: str,
    strict: bool,
) -> SequenceData:
    """Encode training sentences; split those over ``spec.max_len`` (or reject: ``strict``)."""
    index = {c: i for i, c in enumerate(spec.vocab)}
    tag_index = {t: i for i, t in enumerate(spec.tags)}
    too_long = [(ln, len(s)) for s, ln in zip(sequences, lines, strict=True)
                if spec.max_len and len(s) > spec.max_len]  # fmt: skip
    warn_or_reject(path, [a for a, _ in too_long], [b for _, b in too_long], spec.max_len, strict)
    bigram_index = {k: i for i, k in enumerate(spec.bigram_vocab)}
    chars, tag_ids, feats, bigrams = [], [], [], []
    for seq, seq_tags in zip(sequences, tags, strict=True):
        full_feats, full_bigrams = sentence_features(spec, seq, bigram_index)
        for a, b in split_long(seq, seq_tags, spec.max_len, spec.scheme):
            chars.append(encode(seq[a:b], index))
            piece = repair_piece(seq_tags[a:b], spec.scheme)
            tag_ids.append(np.array([tag_index[t] for t in piece], dtype=np.int64))
            if full_feats is not None:
                feats.append(full_feats[a:b])
            if full_bigrams is not None:
                bigrams.append(full_bigrams[a:b])
    return SequenceData(chars, tag_ids, feats if spec.word_features else None,
                        bigrams if spec.bigrams else None)  # fmt: skip


def _loss_fn(model: nn.Module, batch: Batch) -> torch.Tensor:
    return model(batch)  # the head's NLL, mean over the batch's sentences


def fit_tagger(
    spec: TaggerSpec,
    data: SequenceData,
    evaluate: Callable[[nn.Module], dict[str, float]] | None,
    optim: TrainConfig,
    out: Path,
    run_config: Any = None,
) -> dict[str, Any]:
    """Train a :class:`Tagger` for ``spec`` on ``data`` with the Trainer; return its metrics.

    The weights depend only on ``optim.seed`` (set before the model is built): the same
    seed, data and options give the same ``model.safetensors``.
    """
    seed_everything(optim.seed)
    model = Tagger(spec)
    trainer = Trainer(model, _loss_fn, data, optim, out, evaluate=evaluate,
                      model_metadata=tagger_metadata(spec), validation_hint=DEV_HINT,
                      run_config=run_config)  # fmt: skip
    metrics = trainer.fit()
    # epochs run, counting a partial last one (--max-steps); the time includes dev evaluation
    epochs_run = metrics["steps"] / math.ceil(len(data) / optim.batch_size)
    metrics["seconds_per_epoch"] = round(metrics["train_seconds"] / max(epochs_run, 1e-9), 3)
    metrics["train_sentences"] = len(data)
    return metrics


def split_dev(cfg: TagTrainConfig | SegTrainConfig, read: Reader
              ) -> tuple[list[TaggedSentence], list[TaggedSentence]]:  # fmt: skip
    """The training and dev sentences: ``read(cfg.train)`` and ``read(cfg.dev)``; without
    ``--dev``, a ``--dev-fraction`` share of the training sentences held out (seeded by
    ``--split-seed``); with ``--dev-fraction 0``, no dev sentences."""
    sents = read(cfg.train)
    if cfg.dev:
        return sents, read(cfg.dev)
    if cfg.dev_fraction == 0:
        return sents, []
    if len(sents) < 2:
        raise UsageError(f"{cfg.train}: {len(sents)} sentence(s) cannot be split into train and "
                         "dev; pass --dev FILE or --dev-fraction 0")  # fmt: skip
    train_idx, dev_idx = train_val_split(len(sents), cfg.dev_fraction, cfg.split_seed)
    return [sents[i] for i in train_idx], [sents[i] for i in dev_idx]


@dataclass(frozen=True)
class Labels:
    """What a task reads off its sentences for the model's spec."""

    scheme: str  # "BIO" | "BIOES" | "BMES"
    tags: tuple[str, ...]  # id -> tag
    train_words: tuple[str, ...] = ()  # segmentation: the training words, for OOV recall


# (training sentences, dev sentences) -> their labels
LabelsOf = Callable[[list[TaggedSentence], list[TaggedSentence]], Labels]


def _train(cfg: TagTrainConfig | SegTrainConfig, task: TaggingTask, read: Reader,
           labels_of: LabelsOf) -> dict[str, Any]:  # fmt: skip
    """Train ``task``'s tagger on the sentences ``read`` gives into ``cfg.out``."""
    with training_run(cfg.out, cfg.optim, run_config=cfg) as dist:
        out = Path(cfg.out)
        train, dev = split_dev(cfg, read)
        labels = labels_of(train, dev)
        seqs = [list(s.tokens) for s in train]
        vocab, bigram_vocab = make_vocabs(seqs, cfg.model)
        spec = make_spec(task.name, cfg.model, vocab, labels.tags, labels.scheme,
                         labels.train_words, bigram_vocab)  # fmt: skip
        data = training_data(spec, seqs, [list(s.tags) for s in train], [s.line for s in train],
                             cfg.train, cfg.model.strict)  # fmt: skip
        out.mkdir(parents=True, exist_ok=True)
        if dist.is_main:
            write_json(out / "config.json", config_to_dict(cfg))
        evaluate = dev_evaluator(task, dev) if dev else None
        metrics = fit_tagger(spec, data, evaluate, cfg.optim, out, run_config=cfg)
        metrics.update(scheme=labels.scheme, tags=len(labels.tags), dev_sentences=len(dev),
                       vocab=len(vocab), bigrams=len(bigram_vocab))  # fmt: skip
        if labels.train_words:
            metrics["train_words"] = len(labels.train_words)
        if dist.is_main:
            write_json(out / "metrics.json", metrics)
        return metrics


def train_tagger(cfg: TagTrainConfig) -> dict[str, Any]:
    """Train an NER tagger into ``cfg.out``; return the final metrics (best dev F1 kept)."""
    read = partial(read_conll, scheme=cfg.scheme, strict=cfg.model.strict)
    # the tag set covers dev too: a type seen only in dev still gets its tags
    return _train(cfg, NER, read, lambda train, dev: Labels(*ner_labels(cfg.scheme, train + dev)))


def train_segmenter(cfg: SegTrainConfig) -> dict[str, Any]:
    """Train a BMES segmenter into ``cfg.out``; return the final metrics."""
    read = partial(read_seg, fmt=cfg.format, strict=cfg.model.strict)
    return _train(cfg, SEG, read, lambda train, _: Labels("BMES", SEG_TAGS, train_words(train)))


def describe(metrics: dict[str, Any]) -> str:
    """One line: the headline dev F1 (or the training loss without dev data)."""
    if "val_f1" in metrics:
        return (f"dev F1 {100 * metrics['val_f1']:.2f} (P {100 * metrics['val_precision']:.2f}, "
                f"R {100 * metrics['val_recall']:.2f})")  # fmt: skip
    return f"train_loss {metrics.get('train_loss', float('nan')):.4f}"
