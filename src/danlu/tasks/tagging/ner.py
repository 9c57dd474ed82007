"""Named-entity recognition as character tagging: the tag set, entity scores, JSON spans.

``tag eval`` scores a CoNLL-style file at the entity level (per type, micro and macro, see
:mod:`danlu.metrics.entities`). ``tag predict`` reads raw text, one sentence per line, tags
its characters and writes one JSON object per line::

    {"text": "高勇：男，中国国籍", "entities": [{"type": "NAME", "start": 0, "end": 2,
     "text": "高勇"}, {"type": "CONT", "start": 5, "end": 9, "text": "中国国籍"}]}

(``end`` exclusive, offsets in characters of the line). Training is
:func:`danlu.tasks.tagging.train.train_tagger`.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from typing import Any, TextIO

from danlu.data.conll import SCHEMES, TaggedSentence, detect_scheme, read_conll
from danlu.metrics.entities import entity_scores, entity_spans
from danlu.tasks.tagging.config import TagEvalConfig, TagPredictConfig
from danlu.tasks.tagging.model import TaggerSpec
from danlu.tasks.tagging.predict import TaggingTask, answer_lines, evaluate_file, load_for

__all__ = [
    "NER",
    "evaluate_tagger",
    "full_tag_set",
    "ner_labels",
    "predict_stream",
    "spans_json",
]


def full_tag_set(tags: Sequence[str], scheme: str) -> tuple[str, ...]:
    """``O`` (if the scheme has it) then every prefix of the scheme for each type seen.

    Bare segmentation tags (``B``, ``M``, ``E``, ``S``) give exactly those four.

    Example:
        >>> full_tag_set(["B-PER", "I-LOC"], "BIO")
        ('O', 'B-LOC', 'I-LOC', 'B-PER', 'I-PER')
    """
    kinds = sorted({t.partition("-")[2] for t in tags if t != "O"})
    prefixes = sorted(SCHEMES[scheme], key="BIMES".index)
    out = [] if kinds == [""] else ["O"]
    for kind in kinds:
        out.extend(p + (f"-{kind}" if kind else "") for p in prefixes)
    return tuple(out)


def ner_labels(scheme: str, sentences: Sequence[TaggedSentence]) -> tuple[str, tuple[str, ...]]:
    """The scheme (``--scheme``, or detected from the tags when ``auto``) and the full tag
    set of ``sentences`` (training and dev: a type seen only in dev still gets its tags)."""
    seen = [t for s in sentences for t in s.tags]
    scheme = scheme.upper() if scheme != "auto" else detect_scheme(seen)
    return scheme, full_tag_set(seen, scheme)


def _score(spec: TaggerSpec, gold: Sequence[TaggedSentence], pred: list[list[str]]
           ) -> dict[str, Any]:  # fmt: skip
    return entity_scores([list(s.tags) for s in gold], pred)


def _headline(scores: dict[str, Any]) -> dict[str, float]:
    micro = scores["micro"]  # entity-level micro average over types
    return {"f1": micro["f1"], "precision": micro["precision"], "recall": micro["recall"]}


NER = TaggingTask("ner", _score, _headline)


def evaluate_tagger(cfg: TagEvalConfig) -> dict[str, Any]:
    """Entity scores of the model in ``cfg.model`` on ``cfg.data`` (also written to ``cfg.out``)."""
    return evaluate_file(NER, cfg, lambda: read_conll(cfg.data, "auto"), cfg.out)


def spans_json(text: str, tags: list[str]) -> dict[str, Any]:
    """The JSON object written for one line: its text and entities."""
    entities = [{"type": kind, "start": a, "end": b, "text": text[a:b]}
                for kind, a, b in entity_spans(tags)]  # fmt: skip
    return {"text": text, "entities": entities}


def predict_stream(cfg: TagPredictConfig, batches: Iterable[Sequence[str]],
                   stream: TextIO | None = None) -> int:  # fmt: skip
    """Tag each input line and write its JSON object to ``stream`` (standard output
    by default); ``batches``: lists of input lines (e.g.
    :func:`danlu.io.text.stdin_batches`); returns #lines."""
    tagger = load_for(NER.name, cfg)

    def answer(batch: list[str]) -> Iterable[str]:
        for text, tags in zip(batch, tagger.tags([list(t) for t in batch]), strict=True):
            yield json.dumps(spans_json(text, tags), ensure_ascii=False)

    return answer_lines(batches, answer, stream or sys.stdout)
