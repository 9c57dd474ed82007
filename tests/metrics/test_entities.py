"""Entity spans and entity-level P/R/F1: against seqeval (BIO/BIOES) and by hand (BMES)."""

from __future__ import annotations

import random

import pytest

from danlu.metrics.entities import entity_scores, entity_spans, format_entity_table

SPAN_CASES = [
    (["B-PER", "I-PER", "O", "B-LOC"], [("PER", 0, 2), ("LOC", 3, 4)]),
    (["I-PER", "I-PER", "O"], [("PER", 0, 2)]),  # I- without B- opens an entity (non-strict)
    (["B-PER", "I-LOC", "I-LOC"], [("PER", 0, 1), ("LOC", 1, 3)]),  # a type change splits
    (["B-PER", "B-PER"], [("PER", 0, 1), ("PER", 1, 2)]),
    (["S-ORG", "B-ORG", "E-ORG", "E-ORG"], [("ORG", 0, 1), ("ORG", 1, 3), ("ORG", 3, 4)]),
    (["B-ORG", "M-ORG", "M-ORG", "E-ORG", "O"], [("ORG", 0, 4)]),  # BMES: M is inside
    (["O", "M-ORG", "E-ORG"], [("ORG", 1, 3)]),
    (["B", "E", "S", "B", "M", "E"], [("", 0, 2), ("", 2, 3), ("", 3, 6)]),  # untyped tags
    ([], []),
]


@pytest.mark.parametrize(("tags", "spans"), SPAN_CASES)
def test_entity_spans(tags: list[str], spans: list[tuple[str, int, int]]) -> None:
    assert entity_spans(tags) == spans


def test_bmes_scores_by_hand() -> None:
    gold = [["B-NAME", "E-NAME", "O", "B-ORG", "M-ORG", "E-ORG"], ["S-LOC", "O"]]
    pred = [["B-NAME", "E-NAME", "O", "B-ORG", "E-ORG", "O"], ["S-LOC", "S-LOC"]]
    s = entity_scores(gold, pred)
    # predicted: NAME(0,2) ok, ORG(3,5) wrong, LOC(0,1) ok, LOC(1,2) wrong -> 2 of 4; gold 3
    assert s["micro"]["precision"] == pytest.approx(2 / 4)
    assert s["micro"]["recall"] == pytest.approx(2 / 3)
    assert s["per_type"]["ORG"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    assert s["per_type"]["LOC"]["precision"] == pytest.approx(0.5)
    macro_f1 = (1.0 + 0.0 + 2 * 0.5 * 1 / 1.5) / 3
    assert s["macro"]["f1"] == pytest.approx(macro_f1)
    table = format_entity_table(s)
    assert "micro avg" in table and "NAME" in table


def test_length_mismatch_is_an_error() -> None:
    with pytest.raises(ValueError, match="sentence 0"):
        entity_scores([["O", "O"]], [["O"]])


def _random_tags(rng: random.Random, prefixes: str, n: int) -> list[str]:
    out = []
    for _ in range(n):
        p = rng.choice(prefixes + "OO")
        out.append("O" if p == "O" else f"{p}-{rng.choice(['PER', 'LOC', 'ORG'])}")
    return out


@pytest.mark.reference
@pytest.mark.parametrize("prefixes", ["BI", "BIES"])
def test_matches_seqeval_default_mode(prefixes: str) -> None:
    seqeval = pytest.importorskip("seqeval.metrics")
    from seqeval.metrics.sequence_labeling import get_entities

    rng = random.Random(len(prefixes))
    gold = [_random_tags(rng, prefixes, rng.randint(1, 12)) for _ in range(300)]
    pred = [_random_tags(rng, prefixes, len(g)) for g in gold]
    for seq in gold[:100]:  # random sequences are full of ill-formed spans (I- after O, ...)
        ours = [(k, a, b - 1) for k, a, b in entity_spans(seq)]
        assert ours == get_entities(seq), seq
    s = entity_scores(gold, pred)
    report = seqeval.classification_report(gold, pred, output_dict=True, zero_division=0)
    assert s["micro"]["f1"] == pytest.approx(seqeval.f1_score(gold, pred))
    assert s["micro"]["precision"] == pytest.approx(seqeval.precision_score(gold, pred))
    assert s["micro"]["recall"] == pytest.approx(seqeval.recall_score(gold, pred))
    for kind, scores in s["per_type"].items():
        assert scores["f1"] == pytest.approx(report[kind]["f1-score"])
        assert scores["support"] == report[kind]["support"]
    assert s["macro"]["f1"] == pytest.approx(report["macro avg"]["f1-score"])
