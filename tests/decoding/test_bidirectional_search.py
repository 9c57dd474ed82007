"""Bidirectional search: exhaustive oracle, one sentence at a time, greedy = beam 1, the
better-scored direction wins, scores recomputed by teacher forcing, the merge, the reversal.

The model is a tiny float64 bidirectional Transformer with an EOS bias (so outputs end);
the reference scorer recomputes a lead hypothesis and its greedy partner from whole pair
prefixes with the teacher-forced forward, one sentence at a time, with no search code.
"""

from __future__ import annotations

import itertools

import pytest
import torch
from torch import Tensor

from danlu.decoding import (
    SearchResult,
    bidirectional_beam_search,
    bidirectional_greedy_search,
    length_penalty,
    merge_directions,
    reverse_padded,
)
from danlu.errors import UsageError
from danlu.nn import BidirectionalTransformerSeq2Seq, create_bidirectional_seq2seq

PAD, BOS, EOS = 0, 1, 2
TOL = {"atol": 1e-10, "rtol": 0.0}


class Biased:
    """A bidirectional model with ``bias`` added to the EOS logit; float64, eval mode."""

    def __init__(self, vocab: int, bias: float, seed: int = 0) -> None:
        torch.manual_seed(seed)
        self.model: BidirectionalTransformerSeq2Seq = create_bidirectional_seq2seq(
            11, vocab, d_model=8, heads=2, num_encoder_layers=1, num_decoder_layers=2,
            dim_feedforward=16, dropout=0.0,
        ).double().eval()  # fmt: skip
        self.bias = bias

    def _adjust(self, log_probs: Tensor) -> Tensor:
        log_probs = log_probs.clone()
        log_probs[..., EOS] += self.bias
        return log_probs.log_softmax(-1)

    def step(self, state: object, last: Tensor) -> tuple[Tensor, object]:
        log_probs, state = self.model.step(state, last)
        return self._adjust(log_probs), state

    def start(self, src: Tensor) -> object:
        return self.model.start(src, src != PAD)

    def teacher_forced(self, src: Tensor, pair_in: list[list[int]]) -> Tensor:
        """(2, V): log-probabilities after the whole pair prefix ``pair_in``, recomputed."""
        tgt = torch.tensor(pair_in).unsqueeze(0)  # (1, t, 2)
        logits = self.model(src.unsqueeze(0), src.unsqueeze(0) != PAD, tgt)
        return self._adjust(logits.log_softmax(-1))[0, -1]

    def lead_log_prob(self, src: Tensor, tokens: list[int], lead: int) -> float:
        """log p of the lead output ``tokens`` given its greedy partner (no PAD output)."""
        pair_in, total, partner_ended = [[BOS, BOS]], 0.0, False
        for t, y in enumerate(tokens):
            log_probs = self.teacher_forced(src, pair_in)
            log_probs[:, PAD] = float("-inf")
            total += float(log_probs[lead, y])
            choice = int(log_probs[1 - lead].argmax())
            partner_ended = partner_ended or choice == EOS
            if t + 1 < len(tokens):
                pair = [y, PAD if partner_ended else choice]
                pair_in.append(pair if lead == 0 else pair[::-1])
        return total


def sources() -> Tensor:
    """Three right-padded sources of lengths 4, 2, 3."""
    return torch.tensor([[3, 4, 5, 6], [7, 8, 0, 0], [9, 10, 3, 0]])


def hypotheses(result: SearchResult, b: int) -> Hypotheses:
    return [
        (result.tokens[b, j, : result.lengths[b, j]].tolist(), float(result.scores[b, j]))
        for j in range(result.tokens.size(1))
        if result.lengths[b, j] > 0
    ]


Hypotheses = list[tuple[list[int], float]]  # (tokens, score), best first


def reading_order(y: list[int], lead: int) -> list[int]:
    """An output in the order direction ``lead`` produced it <-> in reading order (R2L:
    reversed before its EOS; the mapping is its own inverse)."""
    if lead == 0:
        return y
    return [*y[:-1][::-1], EOS] if y and y[-1] == EOS else y[::-1]


def assert_same(got: Hypotheses, expected: Hypotheses) -> None:
    """The same hypotheses in the same order, scores to 1e-10 (batches round differently)."""
    assert [tokens for tokens, _ in got] == [tokens for tokens, _ in expected]
    assert [score for _, score in got] == pytest.approx([score for _, score in expected], abs=1e-10)


def test_a_big_beam_finds_the_brute_force_n_best_of_each_direction() -> None:
    """|V| = 5 (PAD never output), at most 3 tokens: every output of each direction, scored
    with its greedy partner by teacher forcing; the search's n best are the true n best."""
    model = Biased(vocab=5, bias=0.5)
    src, limit, n = sources()[:2], 3, 3
    words = [1, 3, 4]  # every token but PAD and EOS (BOS may be output)
    outputs = [[*p, EOS] for k in range(limit) for p in itertools.product(words, repeat=k)]
    outputs += [list(p) for p in itertools.product(words, repeat=limit)]
    with torch.no_grad():
        found = bidirectional_beam_search(
            model.step, model.start(src), bos=BOS, eos=EOS, beam_size=64, n_best=n,
            max_len=limit, length_penalty="gnmt", alpha=0.6,
        )  # fmt: skip
        for b in range(2):
            best_of = {}
            for lead, result in ((0, found.l2r), (1, found.r2l)):
                scored = []
                for y in outputs:
                    lp = length_penalty(torch.tensor(len(y)), "gnmt", 0.6).item()
                    scored.append((model.lead_log_prob(src[b], y, lead) / lp, y))
                scored.sort(key=lambda s: -s[0])
                got = hypotheses(result, b)
                # R2L outputs come back in reading order
                assert [g[0] for g in got] == [reading_order(y, lead) for _, y in scored[:n]]
                torch.testing.assert_close(
                    torch.tensor([g[1] for g in got]), torch.tensor([s for s, _ in scored[:n]]),
                    **TOL,
                )  # fmt: skip
                best_of[lead] = scored[0][0]
            winner = int(best_of[1] > best_of[0])
            assert int(found.direction[b, 0]) == winner
            assert float(found.best.scores[b, 0]) == pytest.approx(best_of[winner], abs=1e-10)


@pytest.mark.parametrize("directions", ["both", "l2r", "r2l"])
def test_batched_equals_one_sentence_at_a_time(directions: str) -> None:
    model = Biased(vocab=9, bias=1.0, seed=1)
    src = sources()
    lengths = (src != PAD).sum(1)
    opts = {"bos": BOS, "eos": EOS, "beam_size": 3, "n_best": 2, "max_len_a": 1.5,
            "max_len_b": 2, "length_penalty": "average", "directions": directions}  # fmt: skip
    with torch.no_grad():
        batch = bidirectional_beam_search(
            model.step, model.start(src), src_lengths=lengths, **opts
        ).best
        for b in range(3):
            one = src[b : b + 1, : lengths[b]]
            alone = bidirectional_beam_search(
                model.step, model.start(one), src_lengths=lengths[b : b + 1], **opts
            ).best
            assert_same(hypotheses(batch, b), hypotheses(alone, 0))


@pytest.mark.parametrize("directions", ["both", "l2r", "r2l"])
def test_beam_of_one_equals_greedy(directions: str) -> None:
    model = Biased(vocab=9, bias=0.5, seed=2)
    src = sources()
    opts = {"bos": BOS, "eos": EOS, "max_len": 8, "min_len": 2, "no_repeat_ngram_size": 2,
            "directions": directions}  # fmt: skip
    with torch.no_grad():
        greedy = bidirectional_greedy_search(model.step, model.start(src), **opts)
        beam = bidirectional_beam_search(model.step, model.start(src), beam_size=1, **opts)
    for name in ("best", "l2r", "r2l"):
        g, k = getattr(greedy, name), getattr(beam, name)
        assert (g is None) == (k is None) == (name != "best" and directions not in (name, "both"))
        if g is not None and k is not None:
            torch.testing.assert_close(g.tokens, k.tokens)
            torch.testing.assert_close(g.lengths, k.lengths)
            torch.testing.assert_close(g.log_prob, k.log_prob, **TOL)
    torch.testing.assert_close(greedy.direction, beam.direction)
    assert (greedy.best.lengths >= 3).all() and (greedy.best.lengths <= 8).all()


def test_the_result_is_the_better_scored_direction_and_its_scores_are_the_models() -> None:
    """``both`` equals the two directions searched separately, merged by score; every
    returned log-probability is the teacher-forced one of the hypothesis and its partner."""
    model = Biased(vocab=9, bias=0.5, seed=3)
    src = sources()
    opts = {"bos": BOS, "eos": EOS, "beam_size": 4, "n_best": 2, "max_len": 9,
            "length_penalty": "gnmt", "alpha": 0.6}  # fmt: skip
    with torch.no_grad():
        both = bidirectional_beam_search(model.step, model.start(src), **opts)
        l2r = bidirectional_beam_search(model.step, model.start(src), directions="l2r", **opts)
        r2l = bidirectional_beam_search(model.step, model.start(src), directions="r2l", **opts)
        assert l2r.l2r is not None and r2l.r2l is not None and both.l2r and both.r2l
        for ours, alone in ((both.l2r, l2r.best), (both.r2l, r2l.best)):
            for field in ("tokens", "lengths", "scores", "log_prob"):
                torch.testing.assert_close(getattr(ours, field), getattr(alone, field))
        for b in range(3):
            first = (float(l2r.best.scores[b, 0]), float(r2l.best.scores[b, 0]))
            winner = int(first[1] > first[0])
            assert int(both.direction[b, 0]) == winner
            expected = (l2r if winner == 0 else r2l).best
            assert_same(hypotheses(both.best, b)[:1], hypotheses(expected, b)[:1])
            for lead, result in ((0, both.l2r), (1, both.r2l)):
                for j in range(2):
                    y = result.tokens[b, j, : result.lengths[b, j]].tolist()
                    reference = model.lead_log_prob(src[b], reading_order(y, lead), lead)
                    assert float(result.log_prob[b, j]) == pytest.approx(reference, abs=1e-10)


def test_merge_keeps_a_sentence_found_by_both_directions_once() -> None:
    def result(rows: list[list[int]], scores: list[float]) -> SearchResult:
        tokens = torch.tensor([rows])
        lengths = (tokens != PAD).sum(-1)
        return SearchResult(tokens, lengths, torch.tensor([scores]), torch.tensor([scores]))

    l2r = result([[5, 6, EOS], [5, 7, EOS]], [-1.0, -3.0])
    r2l = result([[5, 7, EOS], [8, EOS, PAD]], [-2.0, -4.0])  # [5, 7] found by both
    best, direction = merge_directions(l2r, r2l, n=3)
    assert best.tokens[0].tolist() == [[5, 6, EOS], [5, 7, EOS], [8, EOS, PAD]]
    assert best.scores[0].tolist() == [-1.0, -2.0, -4.0]  # the better copy of [5, 7]
    assert direction[0].tolist() == [0, 1, 1]
    tie, direction = merge_directions(l2r, result([[5, 6, EOS], [9, EOS, PAD]], [-1.0, -9.0]), 2)
    assert tie.tokens[0].tolist() == [[5, 6, EOS], [5, 7, EOS]] and direction[0].tolist() == [0, 0]


def test_reverse_padded_reverses_before_the_length_and_undoes_itself() -> None:
    tokens = torch.tensor([[5, 6, 7, EOS, PAD], [8, EOS, PAD, PAD, PAD], [3, 4, 5, 6, 7]])
    lengths = torch.tensor([3, 1, 5])
    reversed_ = reverse_padded(tokens, lengths)
    assert reversed_.tolist() == [[7, 6, 5, EOS, PAD], [8, EOS, PAD, PAD, PAD], [7, 6, 5, 4, 3]]
    assert torch.equal(reverse_padded(reversed_, lengths), tokens)


def test_unknown_directions_are_refused_listing_the_valid_ones() -> None:
    model = Biased(vocab=9, bias=0.0)
    with pytest.raises(UsageError, match=r"unknown directions 'left'; valid: both, l2r, r2l"):
        bidirectional_beam_search(
            model.step, model.start(sources()), bos=BOS, eos=EOS, max_len=5, directions="left"
        )  # type: ignore[arg-type]
