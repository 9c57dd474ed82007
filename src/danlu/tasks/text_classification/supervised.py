"""``danlu supervised`` and ``fasttext.train_supervised``: one choice of trainer per config.

:func:`train_classifier` picks what the config asks for and returns the trained model:

- ``-model textcnn|...``: a network (:func:`neural_train.train_neural`; the only branch
  that imports torch);
- ``-autotune-validation FILE``: a hyper-parameter search of the fastText model
  (:func:`autotune.autotune`);
- otherwise the fastText model (:func:`train.train_fasttext`).

The command line and the Python API both call it; the command prints and saves.

Example:
    >>> cfg = SupervisedConfig(input="train.txt", output="m")
    >>> trained = train_classifier(cfg)  # doctest: +SKIP
    >>> trained.model.save("m.safetensors")  # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from danlu.tasks.text_classification.autotune import autotune
from danlu.tasks.text_classification.config import SupervisedConfig
from danlu.tasks.text_classification.model import FastTextModel
from danlu.tasks.text_classification.train import train_fasttext

if TYPE_CHECKING:
    from danlu.tasks.text_classification.neural_model import NeuralTextModel

__all__ = ["Trained", "train_classifier"]


@dataclass
class Trained:
    """A trained model, with what its trainer reports.

    Attributes:
        model: the fastText model or a network.
        metrics: a network's final metrics (the Trainer's), else None.
        trials: the autotune trials (options and ``val_p@1``), else None.
    """

    model: FastTextModel | NeuralTextModel
    metrics: dict[str, Any] | None = None
    trials: list[dict[str, Any]] | None = None


def train_classifier(cfg: SupervisedConfig) -> Trained:
    """Train the model ``cfg`` describes (see the module docstring); not yet saved."""
    if cfg.model != "fasttext":  # run files go to cfg.output + ".run"
        from danlu.tasks.text_classification.neural_train import train_neural

        model, metrics = train_neural(cfg)
        return Trained(model, metrics=metrics)
    if cfg.autotune_validation:
        model, trials = autotune(cfg)
        return Trained(model, trials=trials)
    return Trained(train_fasttext(cfg))
