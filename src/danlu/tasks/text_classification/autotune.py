"""``-autotune-validation FILE -autotune-duration S``: random search, best on validation.

The first trial uses the options as given; later trials draw

    lr ~ log-uniform [0.05, 1.0],  dim in {50, 100, 200},  epoch in [5, 50],
    wordNgrams in {1, 2, 3},  loss in {softmax, hs, ova}

from a generator seeded with ``-seed``. Trials run until ``S`` seconds have passed (a trial
that has started is finished); the model with the best validation P@1 is returned. The
training file is read and tokenized once.

Example:
    >>> model, trials = autotune(cfg)  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import math
import random
import sys
import time
from typing import Any

from danlu.errors import TrainingDiverged, UsageError
from danlu.tasks.text_classification.config import SupervisedConfig
from danlu.tasks.text_classification.data import read_labeled_file
from danlu.tasks.text_classification.model import FastTextModel
from danlu.tasks.text_classification.predict import evaluate
from danlu.tasks.text_classification.train import train_supervised_corpus

__all__ = ["autotune", "sample_options"]


def sample_options(rng: random.Random) -> dict[str, Any]:
    """One random point of the search space (see the module docstring)."""
    return {
        "lr": math.exp(rng.uniform(math.log(0.05), math.log(1.0))),
        "dim": rng.choice([50, 100, 200]),
        "epoch": rng.randint(5, 50),
        "word_ngrams": rng.choice([1, 2, 3]),
        "loss": rng.choice(["softmax", "hs", "ova"]),
    }


def autotune(cfg: SupervisedConfig) -> tuple[FastTextModel, list[dict[str, Any]]]:
    """Search hyper-parameters for ``cfg.autotune_duration`` seconds; (best model, trials)."""
    corpus = read_labeled_file(cfg.input, cfg.label, cfg.tokenizer)
    val = read_labeled_file(cfg.autotune_validation, cfg.label, cfg.tokenizer)
    rng = random.Random(cfg.seed)
    deadline = time.perf_counter() + cfg.autotune_duration
    best: tuple[float, FastTextModel] | None = None
    trials: list[dict[str, Any]] = []
    options: dict[str, Any] = {}
    while True:
        trial_cfg = dataclasses.replace(cfg, **options)
        try:
            model: FastTextModel | None = train_supervised_corpus(trial_cfg, corpus)
        except TrainingDiverged:  # a diverged trial is just a bad point
            model = None
        score = evaluate(model, val, 1)[1] if model is not None else float("nan")
        trials.append({**options, "val_p@1": score})
        if cfg.verbose > 1:
            print(f"autotune trial {len(trials)}: {options or 'as given'} -> P@1 {score:.4f}",
                  file=sys.stderr)  # fmt: skip
        if model is not None and (best is None or score > best[0]):
            best = (score, model)
        if time.perf_counter() >= deadline:
            break
        options = sample_options(rng)
    if best is None:
        raise UsageError("autotune: every trial diverged; lower -lr or give more time")
    return best[1], trials
