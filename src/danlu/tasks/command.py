"""One CLI subcommand: its words, its config dataclass and the function that runs it.

Each task package lists its commands in a ``COMMANDS`` tuple (module ``commands.py``, which
imports neither torch nor its config module at module level); :mod:`danlu.cli` concatenates
those tuples. A command names its config as ``"module:Class"`` (the spelling of entry
points), imported by :meth:`Command.load_config` only when that command is chosen:
importing every task's config costs about 45 ms, which every ``danlu`` command, the
fastText ones included, would pay. The config's fields become the flags (see
:mod:`danlu.config`); ``run(config)`` returns the exit status and raises
:class:`danlu.errors.UsageError` for anything the user can fix.
"""

from __future__ import annotations

import functools
import importlib
import os
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from danlu.config import FieldSpec, field_specs

__all__ = [
    "Command",
    "TrainEntry",
    "announce_config",
    "config_summary",
    "is_main_process",
    "training_command",
]


@dataclass(frozen=True)
class Command:
    path: tuple[str, ...]  # e.g. ("tabular", "train"); one or two words
    config: str  # "module:Class" of a frozen dataclass, e.g. "danlu.tasks.tabular.config:..."
    run: Callable[[Any], int]
    help: str

    def __post_init__(self) -> None:
        module, _, name = self.config.partition(":")
        if not (module and name.isidentifier()):
            raise ValueError(f"Command {' '.join(self.path)}: config must be 'module:Class', "
                             f"got {self.config!r}")  # fmt: skip

    def load_config(self) -> type:
        """The config dataclass, its module imported now (once: Python keeps it)."""
        module, _, name = self.config.partition(":")
        return getattr(importlib.import_module(module), name)


def is_main_process() -> bool:
    """False in torchrun processes of rank > 0 (they print nothing)."""
    return os.environ.get("RANK", "0") == "0"


def _as_flag(spec: FieldSpec, value: Any) -> str:
    """``--hidden 16,8``, ``--amp``/``--no-amp``, ``--dev ''``: the option as typed."""
    if isinstance(value, bool):
        return spec.flag if value else "--no-" + spec.flag[2:]
    if isinstance(value, tuple | list):
        value = ",".join(map(str, value))
    shown = "none" if value is None else shlex.quote(str(value))
    return shown if spec.positional else f"{spec.flag} {shown}"


def config_summary(cfg: Any, width: int = 88) -> str:
    """A few readable lines: the run folder, then the options that differ from their
    defaults, as flags (``config.json`` in the run folder keeps every option).

    Example:
        >>> print(config_summary(cfg))  # doctest: +SKIP
        config: run folder runs/a; options not at their defaults (all in runs/a/config.json):
          --data wine.csv --target cultivar --hidden 16 --epochs 150 --lr 0.003
    """
    out = getattr(cfg, "out", "")
    flags = []
    for spec in field_specs(type(cfg)):
        value = functools.reduce(getattr, spec.path, cfg)
        if spec.path != ("out",) and (spec.required or value != spec.default):
            flags.append(_as_flag(spec, value))
    where = f"run folder {out}; options" if out else "options"
    lines = [f"config: {where} not at their defaults"
             + (f" (all in {os.path.join(out, 'config.json')}):" if out else ":")]  # fmt: skip
    for flag in flags or ["(none: every option has its default)"]:
        if len(lines) > 1 and len(lines[-1]) + 1 + len(flag) <= width:
            lines[-1] += " " + flag
        else:
            lines.append("  " + flag)
    return "\n".join(lines)


def announce_config(cfg: Any, quiet: bool = False) -> None:
    """Print :func:`config_summary` (stdout) at the start of a run, on the main process."""
    if not quiet and is_main_process():
        print(config_summary(cfg), flush=True)


# (train(cfg) -> final metrics, describe(metrics) -> one line), imported when the command runs
TrainEntry = tuple[Callable[[Any], dict[str, Any]], Callable[[dict[str, Any]], str]]


def training_command(load: Callable[[], TrainEntry], quiet: Callable[[Any], bool]
                     ) -> Callable[[Any], int]:  # fmt: skip
    """The ``run`` of a ``... train`` command: print the config, train into ``cfg.out``
    (the task's entry point claims the folder and checks a ``--resume`` first, see
    :func:`danlu.train.launch.training_run`), print one line of results (rank 0).

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
