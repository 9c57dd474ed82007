"""What ``--resume`` may change, and the check that nothing else did (no torch import).

A resumed run continues the optimisation its checkpoint froze, so the model's shape, the
data, the loss, the optimizer and its schedule must be the run's. Only the options in
:data:`RESUME_MAY_CHANGE` may differ: how long it goes on (``--epochs``, ``--max-steps``,
``--patience``), what it logs and saves (``--log-every``, ``--checkpoint-every``,
``--keep-checkpoints``, ``--inspect``, ``--quiet``), where it runs (``--device``,
``--threads``) and the run folder's spelling (``--out``). Any other difference is refused
in one line that lists each option with both values.

The check runs twice: ``danlu ... train --resume`` compares the task's whole config with
the run folder's ``config.json`` before any data is read
(:func:`danlu.tasks.command.training_command`), and the :class:`~danlu.train.trainer.Trainer`
compares what it was given with what it stored in the checkpoint (for every caller of the
Python API too).

Example:
    >>> check_same_run({"lr": 0.1, "epochs": 5}, {"lr": 0.1, "epochs": 9}, "runs/a")
    >>> check_same_run({"lr": 0.1}, {"lr": 0.2}, "runs/a")
    Traceback (most recent call last):
    ...
    danlu.errors.UsageError: --resume: options differ from the run in runs/a: --lr (0.1 ...
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from danlu.errors import UsageError

__all__ = [
    "RESUME_MAY_CHANGE",
    "check_run_folder",
    "check_same_run",
    "config_changes",
    "restore_states",
]

# Options (config field names) a resumed run may change; --resume and --overwrite differ
# by nature and are never compared.
RESUME_MAY_CHANGE: tuple[str, ...] = (
    "epochs", "max_steps", "patience", "log_every", "checkpoint_every", "keep_checkpoints",
    "inspect", "quiet", "device", "threads", "out",
)  # fmt: skip
_NOT_COMPARED = frozenset((*RESUME_MAY_CHANGE, "resume", "overwrite"))


def _leaves(config: Mapping[str, Any], prefix: tuple[str, ...] = ()) -> dict[tuple[str, ...], Any]:
    """``{("train", "lr"): 0.001, ...}``: the options of a nested config dict."""
    found: dict[tuple[str, ...], Any] = {}
    for key, value in config.items():
        if isinstance(value, Mapping):
            found.update(_leaves(value, (*prefix, key)))
        else:
            found[(*prefix, key)] = value
    return found


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _shown(value: Any) -> str:
    """A value as it is written on the command line (``16,32``; ``''`` when empty)."""
    if isinstance(value, list | tuple):
        value = ",".join(map(str, value))
    if isinstance(value, bool):
        return "on" if value else "off"
    return "''" if value in ("", None) else str(value)


def config_changes(saved: Mapping[str, Any], current: Mapping[str, Any]) -> list[str]:
    """Each option outside :data:`RESUME_MAY_CHANGE` whose value differs between the run's
    config ``saved`` and this run's ``current`` (nested dicts as in ``config.json``), as
    ``--flag (saved value in the run, current value now)``. Options only one side has (an
    option added by a newer danlu) are not compared.

    Example:
        >>> config_changes({"train": {"lr": 0.1}, "hidden": [16]}, {"train": {"lr": 0.1},
        ...                "hidden": [8]})
        ['--hidden (16 in the run, 8 now)']
    """
    old, new = _leaves(saved), _leaves(current)
    return [
        f"{_flag(path[-1])} ({_shown(old[path])} in the run, {_shown(new[path])} now)"
        for path in new
        if path in old and path[-1] not in _NOT_COMPARED and old[path] != new[path]
    ]


def check_same_run(saved: Mapping[str, Any], current: Mapping[str, Any], where: str) -> None:
    """Refuse to resume the run described by ``saved`` (found in ``where``) with the
    options ``current`` when they differ beyond :data:`RESUME_MAY_CHANGE`.

    Raises:
        UsageError: one line: each differing option with both values, the options that
            may change, and the way out.
    """
    changed = config_changes(saved, current)
    if changed:
        may = ", ".join(_flag(name) for name in RESUME_MAY_CHANGE)
        raise UsageError(f"--resume: options differ from the run in {where}: "
                         f"{', '.join(changed)}; a resumed run may change only {may}: pass "
                         "the run's values, or --overwrite to start a new run")  # fmt: skip


def check_run_folder(out: str | Path, current: Mapping[str, Any]) -> None:
    """:func:`check_same_run` against the ``config.json`` of the run folder ``out`` (nothing
    to compare when it has none yet). Call it before the run rewrites that file.

    Example:
        >>> check_run_folder("runs/a", config_to_dict(cfg))  # doctest: +SKIP
    """
    path = Path(out) / "config.json"
    if not path.is_file():
        return
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UsageError(f"--resume: cannot read {path} ({exc}); it records the options of "
                         "the run to continue: restore it, or --overwrite to start a new "
                         "run") from None  # fmt: skip
    if isinstance(saved, Mapping):
        check_same_run(saved, current, str(path))


def restore_states(path: Path, saved: Mapping[str, Any], **into: Any) -> None:
    """``into[name].load_state_dict(saved[name])`` for each name (model, optimizer, ...);
    a checkpoint that does not fit (an option that shapes the model changed, or the data
    behind the vocabulary) is one line rather than torch's ``size mismatch`` traceback.

    Raises:
        UsageError: a state does not fit its object; the message gives torch's first detail.

    Example:
        >>> restore_states(path, ckpt, model=model, optimizer=optimizer)  # doctest: +SKIP
    """
    for name, target in into.items():
        try:
            target.load_state_dict(saved[name])
        except (RuntimeError, ValueError, KeyError) as exc:  # e.g. size mismatch for 0.weight
            lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()] or [repr(exc)]
            detail = lines[min(1, len(lines) - 1)]  # torch's first line only names the class
            raise UsageError(f"--resume: the {name} state in {path} does not fit this run "
                             f"({detail}); resume with the run's data and options, or "
                             "--overwrite to start a new run") from None  # fmt: skip
