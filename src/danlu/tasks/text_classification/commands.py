"""fastText-compatible CLI commands (handlers import torch only when they run).

``danlu supervised``, ``test``, ``test-label``, ``predict``, ``predict-prob``, ``quantize``.
"""

from __future__ import annotations

import sys
import time

from danlu.tasks.command import Command
from danlu.tasks.text_classification.config import (
    PredictConfig,
    QuantizeConfig,
    SupervisedConfig,
    TestConfig,
)

__all__ = ["COMMANDS"]


def _supervised(cfg: SupervisedConfig) -> int:
    if cfg.model != "fasttext":
        from danlu.tasks.text_classification.neural import train_neural

        model, metrics = train_neural(cfg)
        path = model.save(cfg.output + ".safetensors")
        shown = {k: v for k, v in metrics.items() if isinstance(v, float)}
        print(f"wrote {path} (run files: {cfg.output}.run/): {shown}", file=sys.stderr)
        return 0
    t0 = time.perf_counter()
    if cfg.autotune_validation:
        from danlu.tasks.text_classification.autotune import autotune

        model, trials = autotune(cfg)
        best = max(trials, key=lambda t: t["val_p@1"] if t["val_p@1"] == t["val_p@1"] else -1)
        print(f"autotune: {len(trials)} trials; best {best}", file=sys.stderr)
    else:
        from danlu.tasks.text_classification.train import train_fasttext

        model = train_fasttext(cfg)
    path = model.save(cfg.output + ".safetensors")
    if cfg.verbose > 0:
        print(f"wrote {path} in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    return 0


def _test(cfg: TestConfig) -> int:
    from danlu.tasks.text_classification.model import load_model
    from danlu.tasks.text_classification.predict import format_test, test_file

    model = load_model(cfg.model)
    print(format_test(*test_file(model, cfg.file, cfg.k, cfg.threshold), cfg.k))
    return 0


def _test_label(cfg: TestConfig) -> int:
    from danlu.tasks.text_classification.model import load_model
    from danlu.tasks.text_classification.predict import (
        format_test,
        format_test_label,
        test_file,
        test_label_file,
    )

    model = load_model(cfg.model)
    print(format_test_label(test_label_file(model, cfg.file, cfg.k, cfg.threshold)))
    print(format_test(*test_file(model, cfg.file, cfg.k, cfg.threshold), cfg.k))
    return 0


def _predict_with(with_prob: bool):
    def run(cfg: PredictConfig) -> int:
        from danlu.tasks.text_classification.data import read_text
        from danlu.tasks.text_classification.model import load_model
        from danlu.tasks.text_classification.predict import predict_stream

        model = load_model(cfg.model)
        if cfg.file == "-":
            predict_stream(model, sys.stdin, cfg.k, cfg.threshold, with_prob, batch=1)
        else:
            lines = read_text(cfg.file).splitlines()
            predict_stream(model, lines, cfg.k, cfg.threshold, with_prob)
        return 0

    return run


def _quantize(cfg: QuantizeConfig) -> int:
    from danlu.tasks.text_classification.quantize import quantize_file

    retrain_on = cfg.train if cfg.retrain else None
    _, dst, before, after = quantize_file(
        cfg.input, cfg.output, cfg.cutoff, retrain_on, cfg.epoch, cfg.lr, cfg.thread,
        cfg.qtype, cfg.dsub, cfg.qnorm, cfg.qout,
    )  # fmt: skip
    print(f"wrote {dst}: {after / 1e6:.2f} MB (from {before / 1e6:.2f} MB, "
          f"{before / max(after, 1):.1f}x smaller)", file=sys.stderr)  # fmt: skip
    return 0


COMMANDS: tuple[Command, ...] = (
    Command(("supervised",), SupervisedConfig, _supervised,
            "train a fastText-compatible text classifier (writes PREFIX.safetensors)"),
    Command(("test",), TestConfig, _test, "N, P@k and R@k of a model on a labeled file"),
    Command(("test-label",), TestConfig, _test_label,
            "per-label precision, recall and F1 on a labeled file"),
    Command(("predict",), PredictConfig, _predict_with(False),
            "most likely labels of each line of a file (- reads standard input)"),
    Command(("predict-prob",), PredictConfig, _predict_with(True),
            "labels with probabilities of each line of a file (- reads standard input)"),
    Command(("quantize",), QuantizeConfig, _quantize,
            "shrink a model: prune input rows by norm (-retrain: train again), store in bytes"),
)  # fmt: skip
