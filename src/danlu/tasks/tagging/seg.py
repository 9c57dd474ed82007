"""Chinese word segmentation as BMES character tagging: reading segmented text, SIGHAN scores.

Training text is SIGHAN-style (words separated by spaces) or the People's Daily
``word/TAG`` corpus; each sentence becomes characters with B/M/E/S tags
(:func:`read_seg`), so segmentation trains, evaluates and predicts through the same path
as NER. Decoded tags are turned back into words
(:func:`~danlu.data.segmentation.tags_to_words`) and scored with the SIGHAN word-level
P/R/F1; OOV recall uses the training vocabulary stored in the model. Training is
:func:`danlu.tasks.tagging.train.train_segmenter`.

Example:
    >>> [(s.tokens, s.tags) for s in read_seg("one_line.txt")]  # doctest: +SKIP
    [(('北', '京', '大', '学'), ('B', 'E', 'B', 'E'))]        # from "北京  大学"
"""

from __future__ import annotations

import gzip
import re
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, TextIO

from danlu.data.conll import TaggedSentence
from danlu.data.segmentation import read_people_daily, read_sighan, tags_to_words, words_to_tags
from danlu.errors import UsageError
from danlu.metrics.segmentation import segmentation_scores
from danlu.tasks.tagging.config import SegCutConfig, SegEvalConfig
from danlu.tasks.tagging.model import Tagger, TaggerSpec
from danlu.tasks.tagging.predict import (
    TaggingTask,
    answer_lines,
    evaluate_file,
    load_for,
    predict_tags,
)

__all__ = [
    "SEG",
    "SEG_TAGS",
    "cut_lines",
    "evaluate_segmenter",
    "format_scores",
    "read_seg",
    "read_segmented",
    "segment",
    "train_words",
]

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


def read_seg(path: str, fmt: str = "auto", strict: bool = False) -> list[TaggedSentence]:
    """The sentences of :func:`read_segmented` as characters with their BMES tags."""
    return [TaggedSentence(tuple("".join(words)), tuple(words_to_tags(words)), line)
            for line, words in read_segmented(path, fmt, strict)]  # fmt: skip


def _words(sentence: TaggedSentence) -> list[str]:
    return tags_to_words(sentence.tokens, sentence.tags)  # the words read_seg joined


def train_words(sentences: Sequence[TaggedSentence]) -> tuple[str, ...]:
    """The sorted word vocabulary of ``sentences`` (stored in the model for OOV recall)."""
    return tuple(sorted({w for s in sentences for w in _words(s)}))


def _score(spec: TaggerSpec, gold: Sequence[TaggedSentence], pred: list[list[str]]
           ) -> dict[str, Any]:  # fmt: skip
    pred_words = [tags_to_words(s.tokens, t) for s, t in zip(gold, pred, strict=True)]
    vocab = frozenset(spec.train_words) if spec.train_words else None
    scores = segmentation_scores([_words(s) for s in gold], pred_words, vocab)
    scores["sentences"] = len(gold)
    return scores


def _headline(scores: dict[str, Any]) -> dict[str, float]:
    return {k: scores[k] for k in ("f1", "precision", "recall", "oov_recall")}


SEG = TaggingTask("seg", _score, _headline)


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
    return evaluate_file(SEG, cfg, lambda: read_seg(cfg.gold, cfg.format), cfg.out)


def cut_lines(cfg: SegCutConfig, batches: Iterable[Sequence[str]],
              stream: TextIO | None = None) -> int:  # fmt: skip
    """Segment each input line and write its words separated by one space (to standard
    output by default); ``batches``: lists of input lines
    (e.g. :func:`danlu.io.text.stdin_batches`); returns #lines."""
    tagger = load_for(SEG.name, cfg)

    def answer(batch: list[str]) -> Iterable[str]:
        words = segment(tagger.model, batch, tagger.batch_size, tagger.device)
        return (" ".join(w) for w in words)

    return answer_lines(batches, answer, stream or sys.stdout)


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
