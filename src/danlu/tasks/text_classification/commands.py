"""CLI commands of the text classification task (handlers import torch only when they run)."""

from __future__ import annotations

from danlu.tasks.command import Command

__all__ = ["COMMANDS"]

COMMANDS: tuple[Command, ...] = ()
