"""``danlu tag train|eval|predict`` and ``danlu seg train|eval|cut`` (torch imported lazily).

Parse, call, print: :mod:`danlu.cli` builds the config from the flags, and each handler
calls one function of the task and prints its result.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from danlu.tasks.command import Command, TrainEntry, training_command

if TYPE_CHECKING:
    from danlu.tasks.tagging import config

__all__ = ["COMMANDS"]

_CONFIG = "danlu.tasks.tagging.config"  # imported when one of these commands is chosen


def _tag_trainer() -> TrainEntry:
    from danlu.tasks.tagging.train import describe, train_tagger

    return train_tagger, describe


def _seg_trainer() -> TrainEntry:
    from danlu.tasks.tagging.train import describe, train_segmenter

    return train_segmenter, describe


def _tag_eval(cfg: config.TagEvalConfig) -> int:
    from danlu.metrics.entities import format_entity_table
    from danlu.tasks.tagging.ner import evaluate_tagger

    print(format_entity_table(evaluate_tagger(cfg)))
    return 0


def _seg_eval(cfg: config.SegEvalConfig) -> int:
    from danlu.tasks.tagging.seg import evaluate_segmenter, format_scores

    print(format_scores(evaluate_segmenter(cfg)))
    return 0


def _tag_predict(cfg: config.TagPredictConfig) -> int:
    from danlu.io.text import stdin_batches
    from danlu.tasks.tagging.ner import predict_stream

    # UTF-8 or one line naming the bad byte; a typed line is answered at once
    predict_stream(cfg, stdin_batches(), sys.stdout)
    return 0


def _seg_cut(cfg: config.SegCutConfig) -> int:
    from danlu.io.text import stdin_batches
    from danlu.tasks.tagging.seg import cut_lines

    cut_lines(cfg, stdin_batches(), sys.stdout)
    return 0


def _quiet(cfg: config.TagTrainConfig | config.SegTrainConfig) -> bool:
    return cfg.optim.quiet


# by verb: each tag command beside its seg counterpart (the CLI groups them by first word)
COMMANDS: tuple[Command, ...] = (
    Command(("tag", "train"), f"{_CONFIG}:TagTrainConfig", training_command(_tag_trainer, _quiet),
            "train a BiLSTM-CRF/MEMM/softmax sequence tagger (NER) on CoNLL-style files"),
    Command(("seg", "train"), f"{_CONFIG}:SegTrainConfig", training_command(_seg_trainer, _quiet),
            "train a BiLSTM word segmenter on SIGHAN or People's Daily text"),
    Command(("tag", "eval"), f"{_CONFIG}:TagEvalConfig", _tag_eval,
            "entity-level precision/recall/F1 of a tagger on a CoNLL-style file"),
    Command(("seg", "eval"), f"{_CONFIG}:SegEvalConfig", _seg_eval,
            "SIGHAN word precision/recall/F1 and OOV recall of a segmenter"),
    Command(("tag", "predict"), f"{_CONFIG}:TagPredictConfig", _tag_predict,
            "tag text from standard input: one JSON object with entity spans per line"),
    Command(("seg", "cut"), f"{_CONFIG}:SegCutConfig", _seg_cut,
            "segment text from standard input into space-separated words"),
)  # fmt: skip
