"""Tabular regression and classification (``danlu tabular train|predict``).

Modules, bottom to top (each imports only those before it)::

    config    TabularTrainConfig, TabularPredictConfig (no torch)
    model     TabularModel (standardisation + MLP) and its file
    train     train_tabular: read the CSV, split or K-fold, the Trainer, the run folder
    predict   predict_tabular: a run folder applied to a CSV
    commands  the CLI commands: parse, call, print
    demo      danlu demo's entries
"""

from typing import Any

__all__ = ["TabularPredictConfig", "TabularTrainConfig"]


def __getattr__(name: str) -> Any:
    """The configs, imported on first use (:pep:`562`): ``danlu`` imports this package for
    its command table, and any other command must not pay for the configs."""
    if name in __all__:
        from danlu.tasks.tabular import config

        return getattr(config, name)
    raise AttributeError(f"module 'danlu.tasks.tabular' has no attribute {name!r}")
