"""``danlu tag train``: a BiLSTM-CRF (or MEMM, Bi-MEMM, softmax) tagger for NER.

The loop is danlu's :class:`~danlu.train.Trainer`; this module reads the data, builds the
vocabulary and tag set from the training file, splits over-long sentences, and supplies
the loss (the head's mean negative log-likelihood per sentence) and the dev evaluation
(entity-level micro F1 as ``val_f1``, the early-stopping metric).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from danlu.config import config_to_dict
from danlu.data.conll import SCHEMES, TaggedSentence, read_conll
from danlu.data.splits import train_val_split
from danlu.errors import UsageError
from danlu.io import write_json
from danlu.metrics.entities import entity_scores
from danlu.tasks.tagging.config import TaggerOptions, TagTrainConfig
from danlu.tasks.tagging.model import Batch, Tagger, TaggerSpec
from danlu.tasks.tagging.sequences import (
    SequenceData,
    build_bigram_vocab,
    build_vocab,
    encode,
    predict_tags,
    repair_piece,
    sentence_features,
    split_long,
    warn_or_reject,
)
from danlu.train.config import TrainConfig
from danlu.train.seed import seed_everything
from danlu.train.trainer import Trainer

__all__ = [
    "fit_tagger",
    "full_tag_set",
    "make_spec",
    "make_vocabs",
    "train_tagger",
    "training_data",
]


def full_tag_set(tags: Sequence[str], scheme: str) -> tuple[str, ...]:
    """``O`` (if the scheme has it) then every prefix of the scheme for each type seen.

    Bare segmentation tags (``B``, ``M``, ``E``, ``S``) give exactly those four.
    """
    kinds = sorted({t.partition("-")[2] for t in tags if t != "O"})
    prefixes = sorted(SCHEMES[scheme], key="BIMES".index)
    out = [] if kinds == [""] else ["O"]
    for kind in kinds:
        out.extend(p + (f"-{kind}" if kind else "") for p in prefixes)
    return tuple(out)


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
) -> dict[str, Any]:
    """Train a :class:`Tagger` for ``spec`` on ``data`` with the Trainer; return its metrics."""
    if evaluate is None:
        if optim.patience:
            raise UsageError("--patience needs dev data: pass --dev or a --dev-fraction > 0")
        optim = dataclasses.replace(optim, early_stop_metric="")
    seed_everything(optim.seed)
    model = Tagger(spec)
    trainer = Trainer(model, _loss_fn, data, optim, out, evaluate=evaluate,
                      model_metadata=spec.to_metadata())  # fmt: skip
    metrics = trainer.fit()
    # epochs run, counting a partial last one (--max-steps); the time includes dev evaluation
    epochs_run = metrics["steps"] / math.ceil(len(data) / optim.batch_size)
    metrics["seconds_per_epoch"] = round(metrics["train_seconds"] / max(epochs_run, 1e-9), 3)
    metrics["train_sentences"] = len(data)
    return metrics


def _ner_evaluate(dev: Sequence[TaggedSentence], batch_size: int
                  ) -> Callable[[nn.Module], dict[str, float]]:  # fmt: skip
    tokens = [list(s.tokens) for s in dev]
    gold = [list(s.tags) for s in dev]

    def evaluate(model: nn.Module) -> dict[str, float]:
        device = next(model.parameters()).device
        pred = predict_tags(model, tokens, batch_size, device)  # type: ignore[arg-type]
        micro = entity_scores(gold, pred)["micro"]
        return {"val_f1": micro["f1"], "val_precision": micro["precision"],
                "val_recall": micro["recall"]}  # fmt: skip

    return evaluate


def _split_dev(cfg: TagTrainConfig, sents: list[TaggedSentence]
               ) -> tuple[list[TaggedSentence], list[TaggedSentence]]:  # fmt: skip
    if cfg.dev:
        return sents, read_conll(cfg.dev, cfg.scheme, strict=cfg.model.strict)
    if cfg.dev_fraction == 0:
        return sents, []
    if len(sents) < 2:
        raise UsageError(f"{cfg.train}: {len(sents)} sentence(s) cannot be split into train and "
                         "dev; pass --dev FILE or --dev-fraction 0")  # fmt: skip
    train_idx, dev_idx = train_val_split(len(sents), cfg.dev_fraction, cfg.split_seed)
    return [sents[i] for i in train_idx], [sents[i] for i in dev_idx]


def train_tagger(cfg: TagTrainConfig) -> dict[str, Any]:
    """Train an NER tagger into ``cfg.out``; return the final metrics (best dev F1 kept)."""
    out = Path(cfg.out)
    sents = read_conll(cfg.train, cfg.scheme, strict=cfg.model.strict)
    train, dev = _split_dev(cfg, sents)
    scheme = cfg.scheme.upper() if cfg.scheme != "auto" else _scheme_of(train + dev)
    seqs = [list(s.tokens) for s in train]
    vocab, bigram_vocab = make_vocabs(seqs, cfg.model)
    tags = full_tag_set([t for s in train + dev for t in s.tags], scheme)
    spec = make_spec("ner", cfg.model, vocab, tags, scheme, bigram_vocab=bigram_vocab)
    data = training_data(spec, seqs, [list(s.tags) for s in train], [s.line for s in train],
                         cfg.train, cfg.model.strict)  # fmt: skip
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "config.json", config_to_dict(cfg))
    evaluate = _ner_evaluate(dev, 64) if dev else None
    metrics = fit_tagger(spec, data, evaluate, cfg.optim, out)
    metrics.update(scheme=scheme, tags=len(tags), vocab=len(vocab), dev_sentences=len(dev),
                   bigrams=len(bigram_vocab))  # fmt: skip
    write_json(out / "metrics.json", metrics)
    return metrics


def _scheme_of(sents: Sequence[TaggedSentence]) -> str:
    from danlu.data.conll import detect_scheme

    return detect_scheme(t for s in sents for t in s.tags)


def describe(metrics: dict[str, Any]) -> str:
    """One line: the headline dev F1 (or the training loss without dev data)."""
    if "val_f1" in metrics:
        return (f"dev F1 {100 * metrics['val_f1']:.2f} (P {100 * metrics['val_precision']:.2f}, "
                f"R {100 * metrics['val_recall']:.2f})")  # fmt: skip
    return f"train_loss {metrics.get('train_loss', float('nan')):.4f}"
