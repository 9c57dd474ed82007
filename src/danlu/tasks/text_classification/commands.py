"""fastText-compatible CLI commands: parse (the configs), call, print.

``danlu supervised``, ``test``, ``test-label``, ``predict``, ``predict-prob``, ``quantize``;
word vectors: ``skipgram``, ``cbow``, ``print-word-vectors``, ``print-sentence-vectors``,
``nn``, ``analogies``, ``dump``.
Handlers import their modules when they run, and the configs' module is imported when one
of these commands is chosen, so that every command starts fast; only a network
(``-model textcnn`` ...) imports torch.
"""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Any

from danlu.tasks.command import Command

if TYPE_CHECKING:
    from pathlib import Path

    from danlu.tasks.text_classification.config import (
        DumpConfig,
        PredictConfig,
        QuantizeConfig,
        SupervisedConfig,
        TestConfig,
        UnsupervisedConfig,
        WordVectorsConfig,
    )

__all__ = ["COMMANDS"]

_CONFIG = "danlu.tasks.text_classification.config"  # imported when a command is chosen


def _supervised(cfg: SupervisedConfig) -> int:
    from danlu.tasks.text_classification.supervised import train_classifier

    t0 = time.perf_counter()
    trained = train_classifier(cfg)
    if trained.trials is not None:
        best = max(trained.trials,
                   key=lambda t: t["val_p@1"] if t["val_p@1"] == t["val_p@1"] else -1)  # fmt: skip
        print(f"autotune: {len(trained.trials)} trials; best {best}", file=sys.stderr)
    path = _save(trained.model, cfg.output, cfg.save_format)
    if trained.metrics is not None:  # a network
        shown = {k: v for k, v in trained.metrics.items() if isinstance(v, float)}
        print(f"wrote {path} (run files: {cfg.output}.run/): {shown}", file=sys.stderr)
    elif cfg.verbose > 0:
        print(f"wrote {path} in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    return 0


def _save(model: Any, prefix: str, save_format: str) -> Path:
    """Write ``PREFIX.<save_format>``: danlu's safetensors or fastText's dense ``.bin``."""
    if save_format == "bin":
        from danlu.tasks.text_classification.fasttext_bin_write import write_bin

        return write_bin(model, f"{prefix}.bin")
    return model.save(f"{prefix}.{save_format}")


def _test(cfg: TestConfig) -> int:
    from danlu.tasks.text_classification.load import load_model
    from danlu.tasks.text_classification.predict import format_test, test_file

    model = load_model(cfg.model)
    print(format_test(*test_file(model, cfg.file, cfg.k, cfg.threshold), cfg.k))
    return 0


def _test_label(cfg: TestConfig) -> int:
    from danlu.tasks.text_classification.load import load_model
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
        from danlu.io.text import stdin_batches
        from danlu.tasks.text_classification.data import read_text_lines
        from danlu.tasks.text_classification.load import load_model
        from danlu.tasks.text_classification.predict import BATCH, file_batches, predict_stream

        model = load_model(cfg.model)
        if cfg.file == "-":  # batches of what has arrived: a pipe full, or a typed line
            batches = stdin_batches(BATCH)
        else:
            batches = file_batches(read_text_lines(cfg.file))
        predict_stream(model, batches, cfg.k, cfg.threshold, with_prob)
        return 0

    return run


def _quantize(cfg: QuantizeConfig) -> int:
    from danlu.tasks.text_classification.quantize import quantize_file

    _, dst, before, after = quantize_file(cfg)
    print(f"wrote {dst}: {after / 1e6:.2f} MB (from {before / 1e6:.2f} MB, "
          f"{before / max(after, 1):.1f}x smaller)", file=sys.stderr)  # fmt: skip
    return 0


def _unsupervised(cfg: UnsupervisedConfig) -> int:
    from danlu.io import check_output_file
    from danlu.tasks.text_classification.data import require_file
    from danlu.tasks.text_classification.unsupervised import train_word_vectors
    from danlu.tasks.text_classification.vectors import write_vec

    t0 = time.perf_counter()
    require_file(cfg.input)
    for suffix in (cfg.save_format, "vec"):
        check_output_file(f"{cfg.output}.{suffix}", "-output")
    model = train_word_vectors(cfg)
    path = _save(model, cfg.output, cfg.save_format)
    write_vec(model, cfg.output + ".vec")
    if cfg.verbose > 0:
        print(f"wrote {path} and {cfg.output}.vec in "
              f"{time.perf_counter() - t0:.1f} s", file=sys.stderr)  # fmt: skip
    return 0


def _write(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()  # a person or a program waits for each answer


def _query(name: str):
    def run(cfg: WordVectorsConfig) -> int:
        from danlu.io.text import stdin_lines
        from danlu.tasks.text_classification import word_queries as q
        from danlu.tasks.text_classification.load import load_model

        model = load_model(cfg.model)
        if name == "print-word-vectors":
            q.answer_word_vectors(model, stdin_lines(), _write)
        elif name == "print-sentence-vectors":
            q.answer_sentence_vectors(model, stdin_lines(), _write)
        elif name == "nn":
            q.answer_neighbours(model, stdin_lines(), cfg.k, _write)
        else:
            q.answer_analogies(model, stdin_lines(), cfg.k, _write)
        return 0

    return run


def _dump(cfg: DumpConfig) -> int:
    from danlu.tasks.text_classification.load import load_model
    from danlu.tasks.text_classification.word_queries import dump

    dump(load_model(cfg.model), cfg.option, _write)
    return 0


COMMANDS: tuple[Command, ...] = (
    Command(("supervised",), f"{_CONFIG}:SupervisedConfig", _supervised,
            "train a fastText-compatible text classifier (writes PREFIX.safetensors; "
            "-saveFormat bin: fastText's PREFIX.bin)"),
    Command(("test",), f"{_CONFIG}:TestConfig", _test,
            "N, P@k and R@k of a model on a labeled file"),
    Command(("test-label",), f"{_CONFIG}:TestConfig", _test_label,
            "per-label precision, recall and F1 on a labeled file"),
    Command(("predict",), f"{_CONFIG}:PredictConfig", _predict_with(False),
            "most likely labels of each line of a file (- reads standard input)"),
    Command(("predict-prob",), f"{_CONFIG}:PredictConfig", _predict_with(True),
            "labels with probabilities of each line of a file (- reads standard input)"),
    Command(("quantize",), f"{_CONFIG}:QuantizeConfig", _quantize,
            "shrink a model: prune input rows by norm (-retrain: train again), store in bytes "
            "(-saveFormat ftz: fastText's PREFIX.ftz)"),
    Command(("skipgram",), f"{_CONFIG}:SkipgramConfig", _unsupervised,
            "train word vectors: skipgram (writes PREFIX.bin and PREFIX.vec)"),
    Command(("cbow",), f"{_CONFIG}:CbowConfig", _unsupervised,
            "train word vectors: cbow (writes PREFIX.bin and PREFIX.vec)"),
    Command(("print-word-vectors",), f"{_CONFIG}:WordVectorsConfig",
            _query("print-word-vectors"),
            "the vector of every word read from standard input"),
    Command(("print-sentence-vectors",), f"{_CONFIG}:WordVectorsConfig",
            _query("print-sentence-vectors"),
            "the vector of every line read from standard input"),
    Command(("nn",), f"{_CONFIG}:NeighboursConfig", _query("nn"),
            "nearest neighbours of the words read from standard input"),
    Command(("analogies",), f"{_CONFIG}:NeighboursConfig", _query("analogies"),
            "words closest to A - B + C for each triplet read from standard input"),
    Command(("dump",), f"{_CONFIG}:DumpConfig", _dump,
            "print a model's args, dictionary or a matrix"),
)  # fmt: skip
