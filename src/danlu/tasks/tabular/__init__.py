"""Tabular regression and classification (``danlu tabular train|predict``)."""

from danlu.tasks.tabular.config import TabularPredictConfig, TabularTrainConfig

__all__ = ["TabularPredictConfig", "TabularTrainConfig"]
