"""Exhaustive search against a brute force in plain Python: every output scored one by one."""

from __future__ import annotations

import math

import pytest
import torch

from danlu.decoding import exhaustive_search

from .toy_models import NgramModel, all_outputs, hypotheses


def penalty(kind: str, alpha: float, n: int) -> float:
    return {"none": 1.0, "average": n**alpha, "gnmt": ((5 + n) / 6) ** alpha}[kind]


def allowed(tokens: list[int], eos: int, min_len: int, ngram: int) -> bool:
    if tokens[-1] == eos and len(tokens) <= min_len:
        return False
    if ngram:
        grams = [tuple(tokens[i : i + ngram]) for i in range(len(tokens) - ngram + 1)]
        return len(grams) == len(set(grams))
    return True


def brute_force(model, state, row, limit, *, n_best, kind, alpha, min_len, ngram):
    scored = []
    for tokens in all_outputs(model.vocab, model.eos, limit):
        if allowed(tokens, model.eos, min_len, ngram):
            log_p = model.log_prob(state, row, tokens)
            scored.append((log_p / penalty(kind, alpha, len(tokens)), tokens))
    scored.sort(key=lambda s: -s[0])
    return [(tokens, score) for score, tokens in scored[:n_best]]


# (vocab, order, limits per sentence, length penalty, alpha, min_len, no_repeat, n_best, eos)
CASES = [
    (3, 3, [4, 4], "none", 1.0, 0, 0, 5, 0),
    (3, 2, [2, 4, 3], "gnmt", 0.6, 1, 0, 4, 1),
    (4, 3, [3, 1], "average", 1.0, 0, 2, 6, 0),
    (3, 3, [5], "gnmt", 1.5, 2, 2, 30, 2),  # more than there are: missing ones are -inf
]


@pytest.mark.parametrize("case", CASES)
def test_exhaustive_search_equals_brute_force(case) -> None:
    vocab, order, limits, kind, alpha, min_len, ngram, n_best, eos = case
    model = NgramModel(vocab, order=order, eos=eos, seed=sum(limits))
    state = model.start(len(limits))
    result = exhaustive_search(
        model.step, state, bos=model.bos, eos=eos, pad=-1, n_best=n_best,
        src_lengths=torch.tensor(limits), max_len_a=1.0, max_len_b=0, min_len=min_len,
        length_penalty=kind, alpha=alpha, no_repeat_ngram_size=ngram,
    )  # fmt: skip
    assert result.tokens.shape[:2] == (len(limits), n_best)
    for b, got in enumerate(hypotheses(result)):
        expected = brute_force(
            model, state, b, limits[b], n_best=n_best, kind=kind, alpha=alpha,
            min_len=min_len, ngram=ngram,
        )  # fmt: skip
        assert [t for t, _ in got] == [t for t, _ in expected]
        torch.testing.assert_close([s for _, s in got], [s for _, s in expected])
        missing = n_best - len(expected)
        if missing:
            assert result.lengths[b, -missing:].tolist() == [0] * missing
            assert (result.tokens[b, -missing:] == -1).all()


def test_unconstrained_outputs_have_probabilities_that_sum_to_one() -> None:
    model = NgramModel(3, seed=3)
    limit = 4
    count = len(all_outputs(3, 0, limit))
    result = exhaustive_search(
        model.step, model.start(2), bos=model.bos, eos=0, max_len=limit, n_best=count
    )
    assert (result.scores > float("-inf")).all()
    torch.testing.assert_close(result.log_prob.exp().sum(1), torch.ones(2, dtype=torch.float64))
    assert math.isclose(float(result.scores[0, 0]), float(result.log_prob[0, 0]))
