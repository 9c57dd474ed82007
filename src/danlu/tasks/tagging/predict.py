"""``danlu tag eval`` and ``danlu tag predict`` with a trained run folder.

``eval`` scores a CoNLL-style file at the entity level (per type, micro and macro, see
:mod:`danlu.metrics.entities`). ``predict`` reads raw text, one sentence per line, tags its
characters and writes one JSON object per line::

    {"text": "高勇：男，中国国籍", "entities": [{"type": "NAME", "start": 0, "end": 2,
     "text": "高勇"}, {"type": "CONT", "start": 5, "end": 9, "text": "中国国籍"}]}

(``end`` exclusive, offsets in characters of the line).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from typing import Any, TextIO

from danlu.data.conll import read_conll
from danlu.io import write_json
from danlu.metrics.entities import entity_scores, entity_spans
from danlu.tasks.tagging.config import TagEvalConfig, TagPredictConfig
from danlu.tasks.tagging.model import load_tagger
from danlu.tasks.tagging.sequences import answer_lines, predict_tags
from danlu.train.device import resolve_device

__all__ = ["evaluate_tagger", "predict_stream", "spans_json"]


def evaluate_tagger(cfg: TagEvalConfig) -> dict[str, Any]:
    """Entity scores of the model in ``cfg.model`` on ``cfg.data`` (also written to ``cfg.out``)."""
    model = load_tagger(cfg.model, task="ner")
    device = resolve_device(cfg.device)
    model.to(device)
    sents = read_conll(cfg.data, "auto")
    pred = predict_tags(model, [list(s.tokens) for s in sents], cfg.batch_size, device)
    scores = entity_scores([list(s.tags) for s in sents], pred)
    if cfg.out:
        write_json(cfg.out, scores)
    return scores


def spans_json(text: str, tags: list[str]) -> dict[str, Any]:
    """The JSON object written for one line: its text and entities."""
    entities = [{"type": kind, "start": a, "end": b, "text": text[a:b]}
                for kind, a, b in entity_spans(tags)]  # fmt: skip
    return {"text": text, "entities": entities}


def predict_stream(cfg: TagPredictConfig, lines: Iterable[str], stream: TextIO = sys.stdout
                   ) -> int:  # fmt: skip
    """Tag each line of ``lines`` and write its JSON object to ``stream``; returns #lines."""
    model = load_tagger(cfg.model, task="ner")
    device = resolve_device(cfg.device)
    model.to(device)

    def answer(batch: list[str]) -> Iterable[str]:
        tags = predict_tags(model, [list(t) for t in batch], cfg.batch_size, device)
        for text, t in zip(batch, tags, strict=True):
            yield json.dumps(spans_json(text, t), ensure_ascii=False)

    return answer_lines(lines, answer, stream)
