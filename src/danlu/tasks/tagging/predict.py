"""Running a trained tagger, the one path both tasks share: tags for token lists, scores
on gold sentences (during training and in ``tag eval`` / ``seg eval``), answers to lines of
text (``tag predict`` / ``seg cut``).

A task supplies only what differs, as a :class:`TaggingTask`: the kind of model it needs,
how predicted tags are scored against its gold sentences, and which of those scores are
watched during training. NER is :data:`danlu.tasks.tagging.ner.NER`, segmentation
:data:`danlu.tasks.tagging.seg.SEG`.

Example:
    >>> tagger = load_for("ner", TagPredictConfig(model="runs/tag"))  # doctest: +SKIP
    >>> tagger.tags([list("北京大学")])  # doctest: +SKIP
    [['B-ORG', 'I-ORG', 'I-ORG', 'I-ORG']]
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

import numpy as np
import torch
from torch import nn

from danlu.data.conll import TaggedSentence
from danlu.io import write_json
from danlu.tasks.tagging.config import InferenceConfig
from danlu.tasks.tagging.model import Tagger, TaggerSpec, load_tagger
from danlu.tasks.tagging.sequences import SequenceData, encode, sentence_features
from danlu.train.device import resolve_device, use_threads

__all__ = [
    "LoadedTagger",
    "TaggingTask",
    "answer_lines",
    "dev_evaluator",
    "evaluate_file",
    "load_for",
    "predict_tags",
]

# (spec of the model, gold sentences, predicted tags of each) -> the task's scores
Score = Callable[[TaggerSpec, Sequence[TaggedSentence], list[list[str]]], dict[str, Any]]


@dataclass(frozen=True)
class TaggingTask:
    """What a task adds to the shared train/evaluate/predict path.

    Attributes:
        name: the kind of model it needs (``TaggerSpec.task``): ``"ner"`` or ``"seg"``.
        score: its scores of predicted tags against gold sentences (what ``eval`` prints).
        headline: the scores watched during training, picked from ``score``'s result; they
            are logged with a ``val_`` prefix (``f1`` becomes ``val_f1``).
    """

    name: str
    score: Score
    headline: Callable[[dict[str, Any]], dict[str, float]]


def predict_tags(
    model: Tagger,
    sequences: Sequence[Sequence[str]],
    batch_size: int = 64,
    device: torch.device | str = "cpu",
) -> list[list[str]]:
    """Predicted tag strings for each token list (long ones decoded in ``max_len`` pieces)."""
    spec = model.spec
    index = {c: i for i, c in enumerate(spec.vocab)}
    pieces: list[tuple[int, int, int]] = []  # (sequence, start, end)
    for s, seq in enumerate(sequences):
        step = spec.max_len if spec.max_len > 0 else max(len(seq), 1)
        pieces.extend((s, a, min(a + step, len(seq))) for a in range(0, len(seq), step))
    chars = [encode(sequences[s][a:b], index) for s, a, b in pieces]
    bigram_index = {k: i for i, k in enumerate(spec.bigram_vocab)}
    full = [sentence_features(spec, seq, bigram_index) for seq in sequences]
    feats = [full[s][0][a:b] for s, a, b in pieces] if spec.word_features else None
    bigrams = [full[s][1][a:b] for s, a, b in pieces] if spec.bigrams else None
    data = SequenceData(chars, None, feats, bigrams)
    out: list[list[str]] = [[""] * len(seq) for seq in sequences]
    order = np.argsort(-data.lengths, kind="stable")  # similar lengths share a batch
    model.eval()
    with torch.no_grad():
        for k in range(0, len(order), batch_size):
            idx = order[k : k + batch_size]
            best = model.decode(data.get(idx, device)).cpu().tolist()
            for row, i in enumerate(idx):
                s, a, b = pieces[i]
                out[s][a:b] = [spec.tags[t] for t in best[row][: b - a]]
    return out


def _tokens(sentences: Sequence[TaggedSentence]) -> list[list[str]]:
    return [list(s.tokens) for s in sentences]


def dev_evaluator(task: TaggingTask, dev: Sequence[TaggedSentence], batch_size: int = 64
                  ) -> Callable[[nn.Module], dict[str, float]]:  # fmt: skip
    """The Trainer's ``evaluate``: the task's headline scores on ``dev``, as ``val_*``."""
    tokens = _tokens(dev)

    def evaluate(model: nn.Module) -> dict[str, float]:
        assert isinstance(model, Tagger)  # the Trainer passes the model it was given
        device = next(model.parameters()).device
        scores = task.score(model.spec, dev, predict_tags(model, tokens, batch_size, device))
        return {f"val_{k}": v for k, v in task.headline(scores).items()}

    return evaluate


@dataclass(frozen=True)
class LoadedTagger:
    """A trained tagger on its device, with the batch size to run it at."""

    model: Tagger
    device: torch.device
    batch_size: int

    def tags(self, sequences: Sequence[Sequence[str]]) -> list[list[str]]:
        """:func:`predict_tags` of ``sequences``."""
        return predict_tags(self.model, sequences, self.batch_size, self.device)


def load_for(task: str, cfg: InferenceConfig) -> LoadedTagger:
    """The ``task`` model of ``cfg.model`` moved to ``cfg.device`` (a model of the other task
    is refused with a hint)."""
    model = load_tagger(cfg.model, task=task)
    use_threads(cfg.threads)
    device = resolve_device(cfg.device)
    return LoadedTagger(model.to(device), device, cfg.batch_size)


def evaluate_file(task: TaggingTask, cfg: InferenceConfig,
                  read: Callable[[], Sequence[TaggedSentence]], out: str = ""
                  ) -> dict[str, Any]:  # fmt: skip
    """The task's scores of the model in ``cfg.model`` on the gold sentences ``read()``
    gives (read after the model loaded); also written as JSON to ``out`` if given."""
    tagger = load_for(task.name, cfg)
    gold = read()
    scores = task.score(tagger.model.spec, gold, tagger.tags(_tokens(gold)))
    if out:
        write_json(out, scores)
    return scores


def answer_lines(
    batches: Iterable[Sequence[str]],
    answer: Callable[[list[str]], Iterable[str]],
    stream: TextIO,
) -> int:
    """Write ``answer(batch)``'s output lines (one per input line) for each batch of input
    lines, flushing after each batch; returns the number of lines.

    Standard input comes in :func:`danlu.io.text.stdin_batches` (what has arrived: a piped
    file in large batches, a typed line at once).
    """
    count = 0
    for batch in batches:
        lines = [line.rstrip("\r\n") for line in batch]
        stream.write("".join(out + "\n" for out in answer(lines)))
        stream.flush()
        count += len(lines)
    return count
