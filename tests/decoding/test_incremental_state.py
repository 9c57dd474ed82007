"""The searches carry a GRU's hidden state step by step and reorder it with the beams: every
returned score must equal the same output scored in one call from the whole prefix."""

from __future__ import annotations

import pytest
import torch

from danlu.decoding import beam_search, greedy_search, length_penalty, sample

from .toy_models import GRUDecoder, hypotheses


@pytest.mark.parametrize("search", ["beam", "greedy", "sample"])
def test_returned_log_probs_equal_a_recompute_from_the_prefix(search: str) -> None:
    model = GRUDecoder(vocab=11)
    state = model.start(3)
    common = {"bos": model.bos, "eos": 0, "pad": -1, "min_len": 2}
    common.update(src_lengths=torch.tensor([5, 9, 7]), max_len_a=1.0, max_len_b=0)
    if search == "beam":
        result = beam_search(
            model.step, state, beam_size=5, n_best=4, length_penalty="gnmt", alpha=0.7, **common
        )
    elif search == "greedy":
        result = greedy_search(model.step, state, **common)
    else:
        gen = torch.Generator().manual_seed(0)
        result = sample(model.step, state, num_samples=6, generator=gen, **common)
    assert torch.isfinite(result.log_prob).all()
    for b, sentence in enumerate(hypotheses(result)):
        for j, (tokens, _) in enumerate(sentence):
            recomputed = model.recompute(state["h"][b], tokens)
            assert abs(float(result.log_prob[b, j]) - recomputed) < 1e-10
    if search == "beam":
        lp = length_penalty(result.lengths, "gnmt", 0.7)
        torch.testing.assert_close(result.scores, result.log_prob / lp)
    else:
        torch.testing.assert_close(result.scores, result.log_prob)
