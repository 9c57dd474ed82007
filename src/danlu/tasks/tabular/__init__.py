"""Tabular regression and classification (``danlu tabular train|predict``).

Modules, bottom to top (each imports only those before it)::

    config    TabularTrainConfig, TabularPredictConfig (no torch)
    model     TabularModel (standardisation + MLP) and its file
    train     train_tabular: read the CSV, split or K-fold, the Trainer, the run folder
    predict   predict_tabular: a run folder applied to a CSV
    commands  the CLI commands: parse, call, print
    demo      danlu demo's entries
"""

from danlu.tasks.tabular.config import TabularPredictConfig, TabularTrainConfig

__all__ = ["TabularPredictConfig", "TabularTrainConfig"]
