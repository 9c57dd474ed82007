"""``danlu seg train|eval|cut``: Chinese word segmentation as BMES character tagging.

Training text is SIGHAN-style (words separated by spaces) or the People's Daily
``word/TAG`` corpus; each sentence becomes characters with B/M/E/S tags (the model reads
each character and, by default, the bigrams on its two sides). Decoded tags are
turned back into words (:func:`~danlu.data.segmentation.tags_to_words`) and scored with
the SIGHAN word-level P/R/F1; OOV recall uses the training vocabulary stored in the model.
"""

from __future__ import annotations

import gzip
import re
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, TextIO

from torch import nn

from danlu.config import config_to_dict
from danlu.data.segmentation import (
    read_people_daily,
    read_sighan,
    tags_to_words,
    words_to_tags,
)
from danlu.data.splits import train_val_split
from danlu.errors import UsageError
from danlu.io import write_json
from danlu.metrics.segmentation import segmentation_scores
from danlu.tasks.tagging.config import SegCutConfig, SegEvalConfig, SegTrainConfig
from danlu.tasks.tagging.model import Tagger, load_tagger
from danlu.tasks.tagging.sequences import answer_lines, predict_tags
from danlu.tasks.tagging.train import fit_tagger, make_spec, make_vocabs, training_data
from danlu.train.device import resolve_device

__all__ = ["cut_lines", "evaluate_segmenter", "read_segmented", "segment", "train_segmenter"]

_PD_TOKEN = re.compile(r"\[?\S+/[A-Za-z]+(\][A-Za-z]+)?")
SEG_TAGS = ("B", "M", "E", "S")


def _detect_format(path: str) -> str:
    """people-daily when every token of the first non-empty line is ``word/TAG``."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8", errors="replace") as fh:
        for _, line in zip(range(20), fh, strict=False):
            tokens = line.split()
            if tokens:
                pd = all(_PD_TOKEN.fullmatch(t) for t in tokens)
                return "people-daily" if pd else "sighan"
    return "sighan"


def read_segmented(path: str, fmt: str = "auto", strict: bool = False
                   ) -> list[tuple[int, list[str]]]:  # fmt: skip
    """``[(line, words), ...]`` from a SIGHAN or People's Daily file (``fmt="auto"`` detects)."""
    if not Path(path).is_file():
        raise UsageError(f"file not found: {path}")
    if fmt == "auto":
        fmt = _detect_format(path)
    if fmt == "people-daily":
        return [(s.line, list(s.words)) for s in read_people_daily(path)]
    return read_sighan(path, strict=strict)


def _seg_evaluate(dev: Sequence[list[str]], train_words: frozenset[str], batch_size: int):
    chars = [list("".join(ws)) for ws in dev]

    def evaluate(model: nn.Module) -> dict[str, float]:
        device = next(model.parameters()).device
        pred_tags = predict_tags(model, chars, batch_size, device)  # type: ignore[arg-type]
        pred = [tags_to_words(c, t) for c, t in zip(chars, pred_tags, strict=True)]
        s = segmentation_scores(dev, pred, train_words)
        return {"val_f1": s["f1"], "val_precision": s["precision"], "val_recall": s["recall"],
                "val_oov_recall": s["oov_recall"]}  # fmt: skip

    return evaluate


def train_segmenter(cfg: SegTrainConfig) -> dict[str, Any]:
    """Train a BMES segmenter into ``cfg.out``; return the final metrics."""
    out = Path(cfg.out)
    sents = read_segmented(cfg.train, cfg.format, cfg.model.strict)
    if cfg.dev:
        train, dev = sents, read_segmented(cfg.dev, cfg.format, cfg.model.strict)
    elif cfg.dev_fraction > 0:
        if len(sents) < 2:
            raise UsageError(f"{cfg.train}: one sentence cannot be split into train and dev; "
                             "pass --dev FILE or --dev-fraction 0")  # fmt: skip
        train_idx, dev_idx = train_val_split(len(sents), cfg.dev_fraction, cfg.split_seed)
        train, dev = [sents[i] for i in train_idx], [sents[i] for i in dev_idx]
    else:
        train, dev = sents, []
    chars = [list("".join(ws)) for _, ws in train]
    train_words = tuple(sorted({w for _, ws in train for w in ws}))
    vocab, bigram_vocab = make_vocabs(chars, cfg.model)
    spec = make_spec("seg", cfg.model, vocab, SEG_TAGS, "BMES", train_words, bigram_vocab)
    tags = [words_to_tags(ws) for _, ws in train]
    data = training_data(spec, chars, tags, [ln for ln, _ in train], cfg.train, cfg.model.strict)
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "config.json", config_to_dict(cfg))
    evaluate = _seg_evaluate([ws for _, ws in dev], frozenset(train_words), 64) if dev else None
    metrics = fit_tagger(spec, data, evaluate, cfg.optim, out)
    metrics.update(dev_sentences=len(dev), train_words=len(train_words),
                   vocab=len(vocab), bigrams=len(bigram_vocab))  # fmt: skip
    write_json(out / "metrics.json", metrics)
    return metrics


def segment(model: Tagger, texts: Sequence[str], batch_size: int = 64, device: Any = "cpu"
            ) -> list[list[str]]:  # fmt: skip
    """Words of each text; whitespace in the input always separates words."""
    chunks: list[str] = []
    owner: list[int] = []
    for i, text in enumerate(texts):
        for chunk in text.split():
            chunks.append(chunk)
            owner.append(i)
    tags = predict_tags(model, [list(c) for c in chunks], batch_size, device)
    words: list[list[str]] = [[] for _ in texts]
    for chunk, chunk_tags, i in zip(chunks, tags, owner, strict=True):
        words[i].extend(tags_to_words(list(chunk), chunk_tags))
    return words


def evaluate_segmenter(cfg: SegEvalConfig) -> dict[str, Any]:
    """SIGHAN scores of a run folder on a gold file; also written to ``cfg.out``."""
    model = load_tagger(cfg.model, task="seg")
    device = resolve_device(cfg.device)
    model.to(device)
    gold = [ws for _, ws in read_segmented(cfg.gold, cfg.format)]
    pred = segment(model, ["".join(ws) for ws in gold], cfg.batch_size, device)
    vocab = frozenset(model.spec.train_words) if model.spec.train_words else None
    scores = segmentation_scores(gold, pred, vocab)
    scores["sentences"] = len(gold)
    if cfg.out:
        write_json(cfg.out, scores)
    return scores


def cut_lines(cfg: SegCutConfig, lines: Iterable[str], stream: TextIO = sys.stdout) -> int:
    """Segment each input line and write its words separated by one space; returns #lines."""
    model = load_tagger(cfg.model, task="seg")
    device = resolve_device(cfg.device)
    model.to(device)

    def answer(batch: list[str]) -> Iterable[str]:
        return (" ".join(words) for words in segment(model, batch, cfg.batch_size, device))

    return answer_lines(lines, answer, stream)


def format_scores(scores: dict[str, Any]) -> str:
    """The SIGHAN scores as a few aligned lines (percentages)."""
    rows = [("precision", scores["precision"]), ("recall", scores["recall"]),
            ("F1", scores["f1"])]  # fmt: skip
    if "oov_recall" in scores:
        rows += [("OOV rate", scores["oov_rate"]), ("OOV recall", scores["oov_recall"]),
                 ("IV recall", scores["iv_recall"])]  # fmt: skip
    lines = [f"{name:<10} {100 * v:6.2f}" for name, v in rows]
    lines.append(f"{'words':<10} {scores['gold_words']} gold, {scores['pred_words']} predicted")
    return "\n".join(lines)
