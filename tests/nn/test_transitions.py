"""allowed_transitions against an independent oracle: a regular expression per scheme."""

from __future__ import annotations

import itertools
import re

import pytest
import torch

from danlu.errors import UsageError
from danlu.nn.transitions import allowed_transitions, split_constraints

# Well-formed tag sequences, written as "PREFIX-TYPE " tokens (bare tags get an empty type).
ORACLES = {
    "BIO": re.compile(r"^(?:O |B-(\w*) (?:I-\1 )*)*$"),
    "BIOES": re.compile(r"^(?:O |S-\w* |B-(\w*) (?:I-\1 )*E-\1 )*$"),
    "BMES": re.compile(r"^(?:O |S-\w* |B-(\w*) (?:M-\1 )*E-\1 )*$"),
}
CASES = [
    ("BIO", ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"], 4),
    ("BIOES", ["O", "B-PER", "I-PER", "E-PER", "S-PER", "B-LOC", "E-LOC", "S-LOC"], 4),
    ("BMES", ["B", "M", "E", "S"], 5),
    ("BMES", ["O", "B-ORG", "M-ORG", "E-ORG", "S-ORG", "B-LOC", "E-LOC", "S-LOC"], 4),
    ("bio", ["B_PER", "I_PER", "O"], 5),  # lower-case scheme, underscore separator
]


def token(label: str) -> str:
    if label == "O":
        return "O "
    prefix, _, kind = label.replace("_", "-").partition("-")
    return f"{prefix}-{kind} "


@pytest.mark.parametrize(("scheme", "labels", "max_len"), CASES)
def test_allowed_paths_are_exactly_the_well_formed_ones(scheme, labels, max_len):
    allowed = allowed_transitions(scheme, labels)
    k = len(labels)
    assert allowed.shape == (k + 2, k + 2) and allowed.dtype == torch.bool
    start, end, trans = split_constraints(allowed, k)
    oracle = ORACLES[scheme.upper()]
    counts = [0, 0]
    for n in range(1, max_len + 1):
        for path in itertools.product(range(k), repeat=n):
            ok = bool(start[path[0]]) and bool(end[path[-1]])
            ok = ok and all(bool(trans[a, b]) for a, b in itertools.pairwise(path))
            well_formed = oracle.match("".join(token(labels[i]) for i in path)) is not None
            assert ok == well_formed, [labels[i] for i in path]
            counts[ok] += 1
    assert counts[0] > 0 and counts[1] > 0  # both kinds occur, so the check means something
    assert not allowed[:, k].any() and not allowed[k + 1].any()  # into START, out of END


def test_named_examples():
    labels = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
    allowed = allowed_transitions("BIO", labels)
    idx = {name: i for i, name in enumerate(labels)}
    assert not allowed[idx["O"], idx["I-PER"]]
    assert not allowed[idx["B-LOC"], idx["I-PER"]]
    assert allowed[idx["B-PER"], idx["I-PER"]] and allowed[idx["I-PER"], idx["O"]]
    seg = allowed_transitions("BMES", ["B", "M", "E", "S"])
    assert not seg[3, 1] and not seg[0, 3] and seg[2, 0]  # S->M, B->S forbidden; E->B ok


@pytest.mark.parametrize(
    ("scheme", "labels", "message"),
    [
        ("BILOU", ["O"], "unknown tagging scheme 'BILOU'; valid: BIO, BIOES, BMES"),
        ("BIO", ["O", "X-PER"], "label 'X-PER' does not fit the BIO scheme"),
        ("BMES", ["B", "I"], "label 'I' does not fit the BMES scheme"),
        ("BIO", ["B-"], "label 'B-' does not fit"),
    ],
)
def test_bad_scheme_or_label(scheme, labels, message):
    with pytest.raises(UsageError, match=re.escape(message)):
        allowed_transitions(scheme, labels)


def test_split_plain_square_matrix():
    start, end, trans = split_constraints(torch.eye(3, dtype=torch.bool), 3)
    assert start.all() and end.all() and torch.equal(trans, torch.eye(3, dtype=torch.bool))
    with pytest.raises(UsageError, match=r"expected \(5, 5\)"):
        split_constraints(torch.ones(4, 4), 3)
