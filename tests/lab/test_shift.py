"""The shift corrections of the lab: weighted softmax fit, domain weights, BBSE, AUC."""

from __future__ import annotations

import torch

from danlu.lab.shift import auc, bbse_weights, domain_weights, fit_softmax, predict_proba


def test_a_perfect_classifier_makes_bbse_the_ratio_of_the_label_shares() -> None:
    labels = torch.tensor([0, 0, 1, 1, 2, 2])  # source: uniform
    target = torch.tensor([0, 0, 0, 0, 1, 2])  # target predictions: (4, 1, 1) / 6
    w = bbse_weights(labels, labels, target, 3)
    torch.testing.assert_close(w, torch.tensor([2.0, 0.5, 0.5], dtype=torch.float64))


def test_bbse_undoes_a_known_confusion() -> None:
    # classifier confuses 20 % of class 0 as 1 and 10 % of class 1 as 0, source p = (.5, .5)
    labels = torch.tensor([0] * 10 + [1] * 10)
    predicted = torch.tensor([0] * 8 + [1] * 2 + [0] * 1 + [1] * 9)
    # target q = (0.8, 0.2): q(f = 0) = 0.8·0.8 + 0.2·0.1 = 0.66
    target = torch.tensor([0] * 66 + [1] * 34)
    torch.testing.assert_close(bbse_weights(predicted, labels, target, 2),
                               torch.tensor([1.6, 0.4], dtype=torch.float64))  # fmt: skip


def test_the_domain_classifier_estimates_a_gaussian_density_ratio() -> None:
    g = torch.Generator().manual_seed(0)
    xs = torch.randn(4000, 1, generator=g, dtype=torch.float64)  # p = N(0, 1)
    xt = 1.0 + torch.randn(4000, 1, generator=g, dtype=torch.float64)  # q = N(1, 1)
    beta, _ = domain_weights(xs, xt, lambda x: x)
    true = torch.exp(xs[:, 0] - 0.5)  # q/p = e^{x − 1/2}
    inside = xs[:, 0].abs() < 1.5
    assert float((beta[inside].log() - true[inside].log()).abs().max()) < 0.25


def test_weights_shift_the_fitted_boundary() -> None:
    x = torch.tensor([[-2.0], [-1.0], [1.0], [2.0], [0.5], [-0.5]], dtype=torch.float64)
    y = torch.tensor([0, 0, 1, 1, 0, 1])
    plain = predict_proba(fit_softmax(x, y, 2), x)
    heavy = predict_proba(fit_softmax(x, y, 2, torch.tensor([1.0, 1, 1, 1, 10, 1])), x)
    assert heavy[4, 1] < plain[4, 1]  # the heavy example pulls its own prediction to class 0


def test_auc() -> None:
    labels = torch.tensor([0, 0, 1, 1])
    assert auc(torch.tensor([0.1, 0.2, 0.8, 0.9]), labels) == 1.0
    assert auc(torch.tensor([0.5, 0.5, 0.5, 0.5]), labels) == 0.5
