"""Entity spans from BIO/BIOES/BMES tags and entity-level precision, recall and F1.

A tag is ``PREFIX-TYPE`` (``B-PER``) or a bare prefix (``B``, ``O``). Spans are read the way
seqeval's default (non-strict, "conlleval") mode reads them, so ill-formed sequences give
the same entities as seqeval: an ``I-X`` after ``O`` opens an entity, a change of type
closes one, ``E``/``S`` close one. BMES is read as BIOES with ``M`` meaning inside, which
seqeval cannot do.

With ``tp`` the predicted spans that equal a gold span (type, start and end), per type and
over all types (micro):

    precision = tp / #predicted,   recall = tp / #gold,   F1 = 2PR / (P + R)

(0 where a denominator is 0). The macro average is the unweighted mean of the per-type
scores over every type seen in gold or prediction, as in seqeval's ``macro avg``.

Example:
    >>> entity_spans(["B-PER", "I-PER", "O", "S-LOC"])
    [('PER', 0, 2), ('LOC', 3, 4)]
    >>> entity_scores([["B-PER", "I-PER", "O"]], [["B-PER", "O", "O"]])["micro"]["f1"]
    0.0
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

__all__ = ["entity_scores", "entity_spans", "format_entity_table", "split_tag"]

# Prefixes that continue a chunk; M (BMES) is read as I.
_INSIDE = {"I", "M"}


def split_tag(tag: str) -> tuple[str, str]:
    """``"B-PER" -> ("B", "PER")``; ``"O" -> ("O", "")``; a bare ``"S" -> ("S", "")``.

    The type is everything after the first ``-`` (types may contain dots or dashes:
    ``B-PER.NAM``).
    """
    prefix, _, kind = tag.partition("-")
    return prefix, kind


def _ends(prev: str, tag: str, prev_kind: str, kind: str) -> bool:
    """Whether the chunk open at the previous token ends before this one."""
    if prev in ("E", "S"):
        return True
    if prev in ("B", *_INSIDE) and tag in ("B", "S", "O"):
        return True
    return prev != "O" and prev_kind != kind


def _starts(prev: str, tag: str, prev_kind: str, kind: str) -> bool:
    """Whether a new chunk starts at this token."""
    if tag in ("B", "S"):
        return True
    if tag in ("E", *_INSIDE) and prev in ("E", "S", "O"):
        return True
    return tag != "O" and prev_kind != kind


def entity_spans(tags: Sequence[str]) -> list[tuple[str, int, int]]:
    """The entities of one tag sequence as ``(type, start, end)``, ``end`` exclusive.

    Untyped tags (``B``, ``M``, ``E``, ``S`` of word segmentation) give type ``""``.

    Args:
        tags: one tag per token, e.g. ``["B-ORG", "M-ORG", "E-ORG", "O"]``.

    Returns:
        The spans in order of their start.
    """
    spans: list[tuple[str, int, int]] = []
    prev, prev_kind, begin = "O", "", 0
    for i, tag in enumerate([*tags, "O"]):
        prefix, kind = split_tag(tag)
        prefix = "I" if prefix in _INSIDE else prefix
        if prefix != "O" and prefix not in ("B", "I", "E", "S"):
            prefix = "O"  # unknown prefixes are outside, as in seqeval
        if _ends(prev, prefix, prev_kind, kind) and prev != "O":
            spans.append((prev_kind, begin, i))
        if _starts(prev, prefix, prev_kind, kind):
            begin = i
        prev, prev_kind = prefix, kind
    return spans


def _prf(tp: int, n_pred: int, n_gold: int) -> dict[str, float]:
    p = tp / n_pred if n_pred else 0.0
    r = tp / n_gold if n_gold else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": p, "recall": r, "f1": f}


def entity_scores(gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]]) -> dict[str, Any]:
    """Entity-level precision/recall/F1 per type, micro and macro averaged.

    Args:
        gold: gold tag sequences, one per sentence.
        pred: predicted tag sequences, the same lengths.

    Returns:
        ``{"per_type": {TYPE: {precision, recall, f1, support}}, "micro": {...},
        "macro": {...}, "sentences": N}``; ``support`` is the number of gold entities.

    Raises:
        ValueError: the numbers of sentences or tokens differ.
    """
    if len(gold) != len(pred):
        raise ValueError(f"{len(gold)} gold sentences but {len(pred)} predicted ones")
    tp: Counter[str] = Counter()
    n_gold: Counter[str] = Counter()
    n_pred: Counter[str] = Counter()
    for i, (g, p) in enumerate(zip(gold, pred, strict=True)):
        if len(g) != len(p):
            raise ValueError(f"sentence {i}: {len(g)} gold tags but {len(p)} predicted")
        g_spans, p_spans = set(entity_spans(g)), set(entity_spans(p))
        n_gold.update(s[0] for s in g_spans)
        n_pred.update(s[0] for s in p_spans)
        tp.update(s[0] for s in g_spans & p_spans)
    types = sorted(set(n_gold) | set(n_pred))
    per_type = {t: {**_prf(tp[t], n_pred[t], n_gold[t]), "support": n_gold[t]} for t in types}
    micro = {**_prf(sum(tp.values()), sum(n_pred.values()), sum(n_gold.values())),
             "support": sum(n_gold.values())}  # fmt: skip
    macro = {k: (sum(per_type[t][k] for t in types) / len(types) if types else 0.0)
             for k in ("precision", "recall", "f1")}  # fmt: skip
    macro["support"] = micro["support"]
    return {"per_type": per_type, "micro": micro, "macro": macro, "sentences": len(gold)}


def format_entity_table(scores: dict[str, Any]) -> str:
    """The scores of :func:`entity_scores` as a fixed-width table (percentages)."""
    rows = [(t, s) for t, s in scores["per_type"].items()]
    rows += [("micro avg", scores["micro"]), ("macro avg", scores["macro"])]
    width = max([len("type"), *(len(name or "-") for name, _ in rows)])
    lines = [f"{'type':<{width}}  precision  recall     f1  support"]
    for name, s in rows:
        if name == "micro avg":
            lines.append("-" * len(lines[0]))
        lines.append(
            f"{name or '-':<{width}}  {100 * s['precision']:9.2f}  {100 * s['recall']:6.2f}"
            f"  {100 * s['f1']:5.2f}  {s['support']:7d}"
        )
    return "\n".join(lines)
