"""The ``danlu`` command line.

Subcommands are declared in one table (:data:`COMMANDS`, the tasks' ``COMMANDS`` tuples
joined): each names its config dataclass (flags are generated from it, 1:1) and the
function that runs it. Errors the user can fix print one line and exit with status 2; only
internal errors show tracebacks.

Every ``danlu`` command pays for what this module does before the command starts, so it
does only what the chosen command needs:

- the table holds each command's words, help and handler; its config is named by string
  (``"module:Class"``) and imported only when that command is chosen
  (:meth:`Command.load_config`). The tasks' ``commands`` modules import nothing heavy
  (their handlers import their task, and torch, when they run);
- :func:`build_parser` registers every command by name and help (what ``danlu --help``,
  ``danlu GROUP --help`` and argparse's "invalid choice" list), but a command's flags are
  added when argparse hands it the arguments (:meth:`Parser.parse_known_args`). argparse
  itself picks the command, so the result is the parser of old, built for one command.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NoReturn

from danlu import __version__
from danlu.config import add_arguments, build_config
from danlu.errors import DiskFull, TrainingDiverged, UsageError
from danlu.lab.commands import COMMANDS as LAB_COMMANDS
from danlu.tasks.command import Command
from danlu.tasks.tabular.commands import COMMANDS as TABULAR_COMMANDS
from danlu.tasks.tagging.commands import COMMANDS as TAGGING_COMMANDS
from danlu.tasks.text_classification.commands import COMMANDS as TEXT_COMMANDS
from danlu.tasks.translation.commands import COMMANDS as TRANSLATION_COMMANDS
from danlu.tasks.vision.commands import COMMANDS as VISION_COMMANDS

if TYPE_CHECKING:
    from danlu.tasks.demo_config import DemoConfig
    from danlu.tasks.schedule_plot import SchedulePlotConfig

__all__ = ["COMMANDS", "build_parser", "main"]


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors (status 2) and defaults shown in ``--help``.

    ``command``: the parser of that command, whose flags are added the first time it
    parses or formats its help (a command's config is imported then, not before).
    """

    def __init__(self, *args: Any, command: Command | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        kwargs.setdefault("allow_abbrev", False)  # --epoch must not silently mean --epochs
        super().__init__(*args, **kwargs)
        self._flags_of = command

    def _add_flags(self) -> None:
        if self._flags_of is not None:
            command, self._flags_of = self._flags_of, None
            add_arguments(self, command.load_config())

    def parse_known_args(self, args: Any = None, namespace: Any = None) -> Any:
        self._add_flags()  # argparse calls this on the command it chose
        return super().parse_known_args(args, namespace)

    def format_usage(self) -> str:
        self._add_flags()
        return super().format_usage()

    def format_help(self) -> str:
        self._add_flags()
        return super().format_help()

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")

    def unknown_arguments(self, extra: Sequence[str]) -> NoReturn:
        import difflib  # only a mistake needs it

        flags = [s for a in self._actions for s in a.option_strings]
        parts = []
        for arg in extra:
            close = difflib.get_close_matches(arg.split("=")[0], flags, n=3, cutoff=0.6)
            parts.append(f"{arg} (did you mean {' or '.join(close)}?)" if close else arg)
        self.error(f"unrecognized arguments: {' '.join(parts)}; see {self.prog} --help")


# ------------------------------------------------------------------------------ commands


def _demo(cfg: DemoConfig) -> int:
    from danlu.tasks.demo import run_demo

    run_demo(cfg)
    return 0


def _schedule_plot(cfg: SchedulePlotConfig) -> int:
    from danlu.tasks.schedule_plot import plot_named_schedule

    info = plot_named_schedule(cfg)
    peaks = ", ".join(map(str, info["argmax"]))
    print(f"wrote {info['out']}: max {info['max']:.4g} at step(s) {peaks}; min {info['min']:.4g}")
    return 0


# Every subcommand, in --help order. Task packages contribute their COMMANDS tuples.
COMMANDS: tuple[Command, ...] = (
    Command(("demo",), "danlu.tasks.demo_config:DemoConfig", _demo,
            "train every task on the data shipped with danlu"),
    *TABULAR_COMMANDS,
    *TEXT_COMMANDS,
    *TAGGING_COMMANDS,
    *TRANSLATION_COMMANDS,
    *VISION_COMMANDS,
    Command(("schedule", "plot"), "danlu.tasks.schedule_plot:SchedulePlotConfig",
            _schedule_plot, "draw a learning-rate schedule (multiplier against step) to a PNG"),
    *LAB_COMMANDS,
)  # fmt: skip

_GROUP_HELP = {
    "tabular": "tabular regression and classification",
    "schedule": "learning-rate schedules",
    "tag": "sequence labeling (NER): train, eval, predict",
    "seg": "Chinese word segmentation: train, eval, cut",
    "translate": "machine translation (seq2seq, Transformer): train, eval, run, align",
    "vision": "image classification (LeNet-5 ... ResNet-18, STN): train, eval, predict, distort",
    "lab": "the notes' claims as experiments: list, run, report",
}


def build_parser() -> Parser:
    parser = Parser(
        prog="danlu",
        description="danlu (丹炉): deep-learning notes as tested PyTorch tools.",
        epilog="Run 'danlu COMMAND --help' for the options of a command.",
    )
    parser.add_argument("--version", action="version", version=f"danlu {__version__}")
    top = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    groups: dict[str, Any] = {}
    for cmd in COMMANDS:
        if len(cmd.path) == 1:
            sub = top.add_parser(cmd.path[0], help=cmd.help, description=cmd.help, command=cmd)
        else:
            group, name = cmd.path
            if group not in groups:
                gp = top.add_parser(group, help=_GROUP_HELP.get(group, group))
                groups[group] = gp.add_subparsers(
                    dest="subcommand", metavar="SUBCOMMAND", parser_class=Parser
                )
                gp.set_defaults(_parser=gp)
            sub = groups[group].add_parser(name, help=cmd.help, description=cmd.help, command=cmd)
        sub.set_defaults(_command=cmd, _parser=sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``danlu`` console script; returns the exit status."""
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    sub: Parser = getattr(args, "_parser", parser)
    if extra:
        sub.unknown_arguments(extra)
    command: Command | None = getattr(args, "_command", None)
    if command is None:
        sub.print_help(sys.stderr)
        return 2
    try:
        return command.run(build_config(command.load_config(), args))
    except UsageError as exc:
        print(f"danlu {' '.join(command.path)}: error: {exc}", file=sys.stderr)
        return 2
    except TrainingDiverged as exc:
        print(f"danlu {' '.join(command.path)}: training stopped: {exc}", file=sys.stderr)
        return 1
    except DiskFull as exc:
        print(f"danlu {' '.join(command.path)}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
