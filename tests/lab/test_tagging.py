"""The helpers of the lab's tagging claims: the rib/rob automaton, path probabilities and
batches of similar length."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from danlu.lab.tagging import (
    RIB_ROB_TAGS,
    bucketed_batches,
    path_probability,
    rib_rob_constraints,
)
from danlu.nn import create_head


def test_the_rib_rob_automaton() -> None:
    allowed = rib_rob_constraints()
    k = len(RIB_ROB_TAGS)
    start, end = k, k + 1
    moves = {(int(a), int(b)) for a, b in allowed.nonzero()}
    assert moves == {(start, 0), (start, 2), (0, 1), (1, 4), (2, 3), (3, 4), (4, end)}
    # the state after each r has exactly one successor: the source of label bias
    assert int(allowed[0, :k].sum()) == int(allowed[2, :k].sum()) == 1


@pytest.mark.parametrize("name", ["crf", "memm", "softmax"])
def test_path_probabilities_sum_to_one(name: str) -> None:
    k, length = 3, 3
    head = create_head(name, k)
    emissions = torch.randn(1, length, k, generator=torch.Generator().manual_seed(0))
    paths = torch.tensor(list(itertools.product(range(k), repeat=length)))  # (27, 3)
    probs = path_probability(head, emissions.expand(len(paths), -1, -1), paths)
    assert float(probs.sum()) == pytest.approx(1.0, abs=1e-5)


def test_bucketed_batches_cover_every_index_once_in_batches_of_similar_length() -> None:
    lengths = np.random.default_rng(0).integers(1, 200, size=1000)
    batches = bucketed_batches(lengths, 32, seed=3)
    flat = np.concatenate(batches)
    assert sorted(flat.tolist()) == list(range(1000))
    assert all(len(b) <= 32 for b in batches)
    # each batch comes from one sorted chunk: its spread is far below that of random batches
    spread = np.mean([np.ptp(lengths[b]) for b in batches])
    random = np.mean([np.ptp(lengths[i : i + 32]) for i in range(0, 1000, 32)])
    assert spread < random / 3
