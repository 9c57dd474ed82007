"""Maximum lengths, length penalties and the errors every search gives for bad options."""

from __future__ import annotations

import pytest
import torch

from danlu.decoding import (
    beam_search,
    exhaustive_search,
    greedy_search,
    length_penalty,
    sample,
)
from danlu.decoding.search import max_lengths
from danlu.errors import UsageError

from .toy_models import NgramModel


def test_max_lengths_follow_max_len_and_a_src_plus_b() -> None:
    state = {"x": torch.zeros(3, 2)}
    assert max_lengths(state, 7, 0.0, 200, None, 0).tolist() == [7, 7, 7]
    src = torch.tensor([1, 4, 10])
    assert max_lengths(state, None, 1.5, 2, src, 0).tolist() == [3, 8, 17]  # floor(1.5 s + 2)
    assert max_lengths(state, 9, 1.5, 2, src, 0).tolist() == [3, 8, 9]  # capped by max_len


def test_length_penalties_match_their_formulas() -> None:
    lengths = torch.tensor([1, 4, 9])
    assert length_penalty(lengths, "none", 0.6).tolist() == [1.0, 1.0, 1.0]
    torch.testing.assert_close(
        length_penalty(lengths, "average", 1.0), lengths.double(), rtol=0, atol=0
    )
    expected = ((5.0 + lengths.double()) / 6.0) ** 0.6
    torch.testing.assert_close(length_penalty(lengths, "gnmt", 0.6), expected)
    assert float(length_penalty(torch.tensor(1), "gnmt", 0.6)) == 1.0  # GNMT: lp(1) = 1


SEARCHES = {
    "greedy": greedy_search,
    "beam": beam_search,
    "sample": sample,
    "exhaustive": exhaustive_search,
}

# (search, options, words the message must contain)
BAD = [
    ("beam", {"beam_size": 0}, ["beam_size", "0", ">= 1"]),
    ("beam", {"beam_size": 2.5}, ["beam_size", "2.5"]),
    ("beam", {"beam_size": 2, "n_best": 3}, ["n_best=3", "beam_size=2", "raise beam_size"]),
    ("beam", {"length_penalty": "wu"}, ["'wu'", "none, average, gnmt"]),
    ("exhaustive", {"alpha": float("nan")}, ["alpha", "nan"]),
    ("greedy", {"max_len": None}, ["no maximum length", "max_len"]),
    ("greedy", {"max_len": 0}, ["max_len", ">= 1", "got 0"]),
    ("greedy", {"max_len_a": 1.0}, ["max_len_a=1.0", "src_lengths"]),
    ("beam", {"min_len": 6}, ["sentence 0", "at most 5 tokens", "min_len"]),
    ("beam", {"min_len": -1}, ["min_len", "-1"]),
    ("beam", {"no_repeat_ngram_size": -2}, ["no_repeat_ngram_size", "-2"]),
    ("beam", {"src_lengths": torch.tensor([3])}, ["src_lengths", "(2,)", "(1,)"]),
    ("sample", {"temperature": 0.0}, ["temperature", "> 0", "got 0.0"]),
    ("sample", {"top_p": 1.5}, ["top_p", "(0, 1]", "1.5"]),
    ("sample", {"top_k": -1}, ["top_k", "-1"]),
    ("sample", {"num_samples": 0}, ["num_samples", ">= 1"]),
]


@pytest.mark.parametrize(("search", "options", "words"), BAD)
def test_bad_options_raise_usage_errors_naming_value_and_rule(search, options, words) -> None:
    model = NgramModel(4)
    kwargs = {"bos": model.bos, "eos": 0, "max_len": 5, **options}
    with pytest.raises(UsageError) as info:
        SEARCHES[search](model.step, model.start(2), **kwargs)
    for word in words:
        assert word in str(info.value)


def test_a_state_without_tensors_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="no tensor"):
        greedy_search(lambda s, t: (s, s), {"a": 1}, bos=1, eos=0, max_len=3)


def test_exhaustive_search_refuses_too_many_outputs() -> None:
    model = NgramModel(4)
    with pytest.raises(UsageError, match="max_outputs"):
        exhaustive_search(model.step, model.start(1), bos=model.bos, eos=0, max_len=12)
