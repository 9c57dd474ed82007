"""``danlu tag train|eval|predict`` and ``danlu seg train|eval|cut`` (torch imported lazily)."""

from __future__ import annotations

import sys

from danlu.tasks.command import Command, announce_config, is_main_process
from danlu.tasks.tagging.config import (
    SegCutConfig,
    SegEvalConfig,
    SegTrainConfig,
    TagEvalConfig,
    TagPredictConfig,
    TagTrainConfig,
)

__all__ = ["COMMANDS"]


def _tag_train(cfg: TagTrainConfig) -> int:
    from danlu.tasks.tagging.train import describe, train_tagger

    announce_config(cfg, cfg.optim.quiet)
    metrics = train_tagger(cfg)
    if is_main_process():
        print(f"{describe(metrics)}  (run folder: {cfg.out})")
    return 0


def _tag_eval(cfg: TagEvalConfig) -> int:
    from danlu.metrics.entities import format_entity_table
    from danlu.tasks.tagging.predict import evaluate_tagger

    scores = evaluate_tagger(cfg)
    print(format_entity_table(scores))
    return 0


def _tag_predict(cfg: TagPredictConfig) -> int:
    from danlu.tasks.tagging.predict import predict_stream

    predict_stream(cfg, sys.stdin)
    return 0


def _seg_train(cfg: SegTrainConfig) -> int:
    from danlu.tasks.tagging.seg import train_segmenter
    from danlu.tasks.tagging.train import describe

    announce_config(cfg, cfg.optim.quiet)
    metrics = train_segmenter(cfg)
    if is_main_process():
        print(f"{describe(metrics)}  (run folder: {cfg.out})")
    return 0


def _seg_eval(cfg: SegEvalConfig) -> int:
    from danlu.tasks.tagging.seg import evaluate_segmenter, format_scores

    print(format_scores(evaluate_segmenter(cfg)))
    return 0


def _seg_cut(cfg: SegCutConfig) -> int:
    from danlu.tasks.tagging.seg import cut_lines

    cut_lines(cfg, sys.stdin)
    return 0


COMMANDS: tuple[Command, ...] = (
    Command(("tag", "train"), TagTrainConfig, _tag_train,
            "train a BiLSTM-CRF/MEMM/softmax sequence tagger (NER) on CoNLL-style files"),
    Command(("tag", "eval"), TagEvalConfig, _tag_eval,
            "entity-level precision/recall/F1 of a tagger on a CoNLL-style file"),
    Command(("tag", "predict"), TagPredictConfig, _tag_predict,
            "tag text from standard input: one JSON object with entity spans per line"),
    Command(("seg", "train"), SegTrainConfig, _seg_train,
            "train a BiLSTM word segmenter on SIGHAN or People's Daily text"),
    Command(("seg", "eval"), SegEvalConfig, _seg_eval,
            "SIGHAN word precision/recall/F1 and OOV recall of a segmenter"),
    Command(("seg", "cut"), SegCutConfig, _seg_cut,
            "segment text from standard input into space-separated words"),
)  # fmt: skip
