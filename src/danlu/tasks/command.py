"""One CLI subcommand: its words, its config dataclass and the function that runs it.

Each task package lists its commands in a ``COMMANDS`` tuple (module ``commands.py``, which
must not import torch at module level); :mod:`danlu.cli` concatenates those tuples. The
config's fields become the flags (see :mod:`danlu.config`); ``run(config)`` returns the
exit status and raises :class:`danlu.errors.UsageError` for anything the user can fix.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from danlu.config import config_to_dict

__all__ = ["Command", "TrainEntry", "announce_config", "is_main_process", "training_command"]


@dataclass(frozen=True)
class Command:
    path: tuple[str, ...]  # e.g. ("tabular", "train"); one or two words
    config: type  # a frozen dataclass
    run: Callable[[Any], int]
    help: str


def is_main_process() -> bool:
    """False in torchrun processes of rank > 0 (they print nothing)."""
    return os.environ.get("RANK", "0") == "0"


def announce_config(cfg: Any, quiet: bool = False) -> None:
    """Print the resolved config as one JSON line (stdout) at the start of a run."""
    if not quiet and is_main_process():
        print("config: " + json.dumps(config_to_dict(cfg), ensure_ascii=False), flush=True)


# (train(cfg) -> final metrics, describe(metrics) -> one line), imported when the command runs
TrainEntry = tuple[Callable[[Any], dict[str, Any]], Callable[[dict[str, Any]], str]]


def training_command(load: Callable[[], TrainEntry], quiet: Callable[[Any], bool]
                     ) -> Callable[[Any], int]:  # fmt: skip
    """The ``run`` of a ``... train`` command: print the config, train into ``cfg.out``,
    print one line of results (rank 0 only).

    ``load()`` imports the task's training module (torch) only when the command runs and
    returns its ``train`` and ``describe`` functions; ``quiet(cfg)`` says whether the
    config line is left out.
    """

    def run(cfg: Any) -> int:
        train, describe = load()
        announce_config(cfg, quiet(cfg))
        metrics = train(cfg)
        if is_main_process():
            print(f"{describe(metrics)}  (run folder: {cfg.out})")
        return 0

    return run
