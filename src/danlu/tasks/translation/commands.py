"""``danlu translate train|eval|run|align`` (torch imported lazily).

Parse, call, print: :mod:`danlu.cli` builds the config from the flags, and each handler
calls one function of the task and prints its result.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from danlu.tasks.command import Command, TrainEntry, training_command

if TYPE_CHECKING:
    from danlu.tasks.translation import config

__all__ = ["COMMANDS"]

_CONFIG = "danlu.tasks.translation.config"  # imported when one of these commands is chosen


def _trainer() -> TrainEntry:
    from danlu.tasks.translation.train import describe, train_translator

    return train_translator, describe


def _eval(cfg: config.EvalConfig) -> int:
    from danlu.tasks.translation.evaluate import evaluate_file

    scores = evaluate_file(cfg)
    print(scores["bleu_line"])
    print(scores["chrf_line"])
    wrote = [p for p in (scores.get("hypotheses"), cfg.out) if p]
    if wrote:
        print(f"wrote {' and '.join(wrote)}", file=sys.stderr)
    return 0


def _run(cfg: config.RunConfig) -> int:
    from danlu.io.text import stdin_batches
    from danlu.tasks.translation.evaluate import answer_lines

    # UTF-8 or one line naming the bad byte; a typed line is answered at once
    answer_lines(cfg, stdin_batches(), sys.stdout)
    return 0


def _align(cfg: config.AlignConfig) -> int:
    from danlu.tasks.translation.align import draw_alignment

    info = draw_alignment(cfg)
    print(f"source: {' '.join(info['source'])}")
    print(f"translation: {info['translation']}")
    print("alignment: " + "  ".join(f"{o}<-{s}" for o, s in info["pairs"]))
    print(f"wrote {info['out']} ({info['what']})")
    return 0


def _quiet(cfg: config.TrainTranslatorConfig) -> bool:
    return cfg.optim.quiet


COMMANDS: tuple[Command, ...] = (
    Command(path=("translate", "train"), config=f"{_CONFIG}:TrainTranslatorConfig",
            run=training_command(_trainer, _quiet),
            help="train a GRU / attention / Transformer translator on TAB-separated pairs"),
    Command(path=("translate", "eval"), config=f"{_CONFIG}:EvalConfig", run=_eval,
            help="sacreBLEU BLEU and chrF of a translator on a file of pairs; writes the "
            "translations"),
    Command(path=("translate", "run"), config=f"{_CONFIG}:RunConfig", run=_run,
            help="translate standard input: one output line per input line"),
    Command(path=("translate", "align"), config=f"{_CONFIG}:AlignConfig", run=_align,
            help="draw the attention of a translator over one sentence (a heat map)"),
)  # fmt: skip
