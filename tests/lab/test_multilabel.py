"""The multi-label scores of the lab's ZLPR claim."""

from __future__ import annotations

import torch

from danlu.lab.multilabel import best_threshold, micro_f1


def test_micro_f1_counts_every_example_label_pair() -> None:
    target = torch.tensor([[1, 0, 1], [0, 1, 0]], dtype=torch.bool)
    predicted = torch.tensor([[1, 1, 0], [0, 1, 0]], dtype=torch.bool)
    # TP 2, FP 1, FN 1: 2·2 / (2·2 + 2)
    assert micro_f1(predicted, target) == 4 / 6
    assert micro_f1(target, target) == 1.0
    assert micro_f1(torch.zeros_like(target), torch.zeros_like(target)) == 0.0


def test_the_best_threshold_separates_positives_from_negatives() -> None:
    prob = torch.tensor([[0.9, 0.2], [0.35, 0.1], [0.3, 0.05]])
    target = torch.tensor([[1, 0], [1, 0], [0, 0]], dtype=torch.bool)
    grid = torch.tensor([0.1, 0.25, 0.32, 0.5])
    assert best_threshold(prob, target, grid) == grid[2].item()
