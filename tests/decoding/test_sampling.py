"""Sampling: the filtered distribution against direct computations, and draws against the
exact probabilities of every output of a tiny model."""

from __future__ import annotations

import math
from collections import Counter

import pytest
import torch

from danlu.decoding import exhaustive_search, greedy_search, sample, sampling_log_probs

from .toy_models import NgramModel, all_outputs, hypotheses


def random_log_probs(rows: int = 40, vocab: int = 12, seed: int = 0) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return (2 * torch.randn(rows, vocab, generator=gen, dtype=torch.float64)).log_softmax(1)


def test_temperature_is_a_softmax_of_log_probs_over_tau() -> None:
    log_probs = random_log_probs()
    for tau in (0.5, 1.0, 3.0):
        expected = torch.softmax(log_probs / tau, 1).log()
        torch.testing.assert_close(sampling_log_probs(log_probs, temperature=tau), expected)
    sharp = sampling_log_probs(log_probs, temperature=0.5).exp().max(1).values
    assert (sharp > log_probs.exp().max(1).values).all()


@pytest.mark.parametrize("k", [1, 3, 12, 20])
def test_top_k_keeps_the_k_most_probable_tokens_renormalized(k: int) -> None:
    log_probs = random_log_probs(seed=k)
    q = sampling_log_probs(log_probs, top_k=k).exp()
    for p_row, q_row in zip(log_probs.exp(), q, strict=True):
        kept = set(p_row.argsort(descending=True)[: min(k, 12)].tolist())
        assert set(q_row.nonzero().flatten().tolist()) == kept
        idx = sorted(kept)
        torch.testing.assert_close(q_row[idx], p_row[idx] / p_row[idx].sum())


@pytest.mark.parametrize("p", [1e-6, 0.3, 0.5, 0.9, 0.999, 1.0])
def test_top_p_keeps_the_smallest_set_with_mass_at_least_p(p: float) -> None:
    log_probs = random_log_probs(seed=int(p * 1000))
    q = sampling_log_probs(log_probs, top_p=p).exp()
    for p_row, q_row in zip(log_probs.exp().tolist(), q, strict=True):
        order = sorted(range(len(p_row)), key=lambda i: -p_row[i])
        kept, mass = [], 0.0
        for i in order:  # the smallest prefix of the sorted tokens reaching mass p
            if mass >= p:
                break
            kept.append(i)
            mass += p_row[i]
        assert set(q_row.nonzero().flatten().tolist()) == set(kept)
        assert sum(p_row[i] for i in kept) >= p - 1e-12
        assert len(kept) == 1 or sum(p_row[i] for i in kept[:-1]) < p  # smallest such set
        for i in kept:
            assert math.isclose(float(q_row[i]), p_row[i] / mass, rel_tol=1e-12)


def test_top_k_one_equals_greedy_search() -> None:
    model = NgramModel(9, seed=4, eos_bias=-1.0)
    state = model.start(5)
    common = {"bos": model.bos, "eos": 0, "pad": -1, "max_len": 10, "min_len": 1}
    greedy = greedy_search(model.step, state, **common)
    drawn = sample(model.step, state, top_k=1, num_samples=3, temperature=2.0, **common)
    for j in range(3):
        assert torch.equal(drawn.tokens[:, j], greedy.tokens[:, 0])
        torch.testing.assert_close(drawn.log_prob[:, j], greedy.log_prob[:, 0])


def test_a_generator_makes_draws_reproducible() -> None:
    model = NgramModel(9, seed=4, eos_bias=-2.0)
    state = model.start(3)
    common = {"bos": model.bos, "eos": 0, "max_len": 10, "num_samples": 4, "top_p": 0.9}

    def draw(seed: int):
        return sample(model.step, state, generator=torch.Generator().manual_seed(seed), **common)

    first, again, other = draw(1), draw(1), draw(2)
    assert torch.equal(first.tokens, again.tokens) and torch.equal(first.lengths, again.lengths)
    assert not torch.equal(first.tokens, other.tokens)


class Filtered:
    """The model with each step's distribution replaced by the sampling distribution q."""

    def __init__(self, model: NgramModel, **filters) -> None:
        self.model, self.filters = model, filters

    def __call__(self, state, last):
        log_probs, state = self.model.step(state, last)
        return sampling_log_probs(log_probs, **self.filters), state


@pytest.mark.parametrize(
    "filters", [{}, {"temperature": 2.0}, {"top_k": 2}, {"top_p": 0.7, "temperature": 0.8}]
)
def test_empirical_frequencies_match_the_sampling_distribution(filters: dict) -> None:
    model = NgramModel(3, seed=12)
    state = model.start(1)
    limit, draws = 3, 4000
    outputs = len(all_outputs(3, 0, limit))  # 15
    exact = exhaustive_search(
        Filtered(model, **filters), state, bos=model.bos, eos=0, max_len=limit, n_best=outputs
    )
    probability = {tuple(t): math.exp(s) for t, s in hypotheses(exact)[0] if s > float("-inf")}
    assert math.isclose(sum(probability.values()), 1.0, rel_tol=1e-12)
    gen = torch.Generator().manual_seed(123)
    drawn = sample(
        model.step, state, bos=model.bos, eos=0, max_len=limit, num_samples=draws,
        generator=gen, **filters,
    )  # fmt: skip
    counts = Counter(tuple(t) for t, _ in hypotheses(drawn)[0])
    assert set(counts) <= set(probability)  # filtered-out outputs are never drawn
    for output, p in probability.items():
        sd = math.sqrt(p * (1 - p) / draws)
        assert abs(counts[output] / draws - p) <= 4.5 * sd + 1e-3, (output, p)
