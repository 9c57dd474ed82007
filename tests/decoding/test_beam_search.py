"""Beam search: against greedy (K = 1), exhaustive search (K >= |V|^T), itself one sentence
at a time, its constraints, and its stopping rule."""

from __future__ import annotations

import pytest
import torch

from danlu.decoding import beam_search, exhaustive_search, greedy_search, select_rows

from .toy_models import CountingStep, NgramModel, hypotheses


def options(limits: list[int], **extra) -> dict:
    """Sentences of different maximum lengths: a·|src| + b with a = 1, b = 0."""
    return {"src_lengths": torch.tensor(limits), "max_len_a": 1.0, "max_len_b": 0, **extra}


# (vocab, order, limits, min_len, no_repeat_ngram_size, seed)
GREEDY_CASES = [
    (7, 3, [6, 2, 9, 4], 0, 0, 0),
    (5, 2, [8, 8, 3], 2, 0, 1),
    (9, 3, [10, 5, 7], 1, 2, 2),
    (4, 3, [6, 6], 0, 1, 3),
]


@pytest.mark.parametrize("case", GREEDY_CASES)
def test_beam_one_equals_greedy(case) -> None:
    vocab, order, limits, min_len, ngram, seed = case
    model = NgramModel(vocab, order=order, seed=seed, eos_bias=-1.0)
    state = model.start(len(limits))
    common = options(limits, bos=model.bos, eos=0, pad=-1, min_len=min_len)
    common["no_repeat_ngram_size"] = ngram
    greedy = greedy_search(model.step, state, **common)
    beam = beam_search(model.step, state, beam_size=1, **common)
    assert torch.equal(beam.tokens, greedy.tokens)
    assert torch.equal(beam.lengths, greedy.lengths)
    torch.testing.assert_close(beam.log_prob, greedy.log_prob, rtol=0, atol=1e-12)
    torch.testing.assert_close(beam.scores, greedy.scores, rtol=0, atol=1e-12)


# (vocab, order, limits, length penalty, alpha, min_len, no_repeat, n_best, seed)
EXACT_CASES = [
    (3, 3, [4, 2, 3], "none", 1.0, 0, 0, 1, 0),
    (3, 3, [4, 4], "none", 1.0, 0, 0, 6, 1),
    (3, 2, [3, 4], "gnmt", 0.6, 0, 0, 5, 2),
    (3, 3, [4, 1, 4], "average", 1.0, 1, 0, 4, 3),
    (4, 3, [3, 3], "gnmt", 2.0, 1, 2, 8, 4),
    (2, 3, [6], "average", 0.5, 0, 0, 3, 5),
]


@pytest.mark.parametrize("case", EXACT_CASES)
def test_a_beam_of_all_sequences_equals_exhaustive_search(case) -> None:
    vocab, order, limits, kind, alpha, min_len, ngram, n_best, seed = case
    model = NgramModel(vocab, order=order, seed=seed)
    state = model.start(len(limits))
    common = options(limits, bos=model.bos, eos=0, pad=-1, n_best=n_best, min_len=min_len)
    common.update(length_penalty=kind, alpha=alpha, no_repeat_ngram_size=ngram)
    exact = exhaustive_search(model.step, state, **common)
    beam = beam_search(model.step, state, beam_size=vocab ** max(limits), **common)
    assert torch.equal(beam.tokens, exact.tokens)
    assert torch.equal(beam.lengths, exact.lengths)
    torch.testing.assert_close(beam.scores, exact.scores, rtol=0, atol=1e-12)
    torch.testing.assert_close(beam.log_prob, exact.log_prob, rtol=0, atol=1e-12)
    assert (exact.scores[:, :-1] >= exact.scores[:, 1:]).all()  # best first


@pytest.mark.parametrize(("kind", "stop_early"), [("none", True), ("gnmt", True), ("gnmt", False)])
def test_a_batch_gives_what_each_sentence_gives_alone(kind: str, stop_early: bool) -> None:
    model = NgramModel(9, seed=7, eos_bias=1.0)
    limits = [3, 12, 7, 1, 9]
    state = model.start(len(limits))
    common = {"bos": model.bos, "eos": 0, "pad": -1, "beam_size": 4, "n_best": 3}
    common.update(length_penalty=kind, alpha=0.7, min_len=1, stop_early=stop_early)
    batched = hypotheses(beam_search(model.step, state, **options(limits, **common)))
    for b, limit in enumerate(limits):
        alone = beam_search(
            model.step, select_rows(state, torch.tensor([b])), **options([limit], **common)
        )
        (expected,) = hypotheses(alone)
        assert [t for t, _ in batched[b]] == [t for t, _ in expected]
        torch.testing.assert_close([s for _, s in batched[b]], [s for _, s in expected])


def test_greedy_search_of_a_batch_gives_what_each_sentence_gives_alone() -> None:
    model = NgramModel(9, seed=8, eos_bias=-0.5)
    limits = [3, 12, 7, 1, 9]
    state = model.start(len(limits))
    common = {"bos": model.bos, "eos": 0, "pad": -1, "min_len": 1, "no_repeat_ngram_size": 2}
    batched = greedy_search(model.step, state, **options(limits, **common))
    for b, limit in enumerate(limits):
        alone = greedy_search(
            model.step, select_rows(state, torch.tensor([b])), **options([limit], **common)
        )
        assert hypotheses(alone) == [hypotheses(batched)[b]]


def repetitive_model(vocab: int = 8) -> NgramModel:
    """A model that loves the cycles 1 2 1 2 ... and 3 3 3 ..., and rarely ends."""
    model = NgramModel(vocab, order=2, seed=11, eos_bias=-4.0)
    model.table[:, 1, 2] += 6.0
    model.table[:, 2, 1] += 6.0
    model.table[:, model.bos, 1] += 6.0
    model.table[:, 3, 3] += 8.0
    return model


def repeated_ngrams(tokens: list[int], n: int) -> bool:
    grams = [tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]
    return len(grams) != len(set(grams))


@pytest.mark.parametrize("n", [1, 2, 3])
def test_no_repeat_ngram_size_never_emits_a_repeated_ngram(n: int) -> None:
    model = repetitive_model()
    state = model.start(4)
    common = {"bos": model.bos, "eos": 0, "max_len": 12, "beam_size": 6, "n_best": 6}
    free = hypotheses(beam_search(model.step, state, **common))
    assert any(repeated_ngrams(t, n) for sentence in free for t, _ in sentence)  # it would
    banned = beam_search(model.step, state, no_repeat_ngram_size=n, **common)
    outputs = [t for sentence in hypotheses(banned) for t, _ in sentence]
    assert len(outputs) == 4 * 6
    assert not any(repeated_ngrams(t, n) for t in outputs)
    greedy = greedy_search(model.step, state, bos=model.bos, eos=0, max_len=12,
                           no_repeat_ngram_size=n)  # fmt: skip
    assert not any(repeated_ngrams(t, n) for sentence in hypotheses(greedy) for t, _ in sentence)


@pytest.mark.parametrize("kind", ["none", "average", "gnmt"])
def test_lengths_respect_min_len_and_the_maximum_of_each_sentence(kind: str) -> None:
    model = NgramModel(6, seed=5, eos_bias=3.0)  # EOS comes early unless forbidden
    limits = [4, 6, 9, 3]
    state = model.start(len(limits))
    common = options(limits, bos=model.bos, eos=0, pad=-1, beam_size=5, n_best=5)
    common.update(length_penalty=kind, alpha=0.8)
    short = beam_search(model.step, state, **common)
    assert (short.lengths < 4).any()  # without min_len some outputs are short
    result = beam_search(model.step, state, min_len=3, **common)
    for b, sentence in enumerate(hypotheses(result)):
        assert len(sentence) == 5
        for tokens, _ in sentence:
            assert 0 not in tokens[:-1]  # EOS only last
            if tokens[-1] == 0:
                assert 3 + 1 <= len(tokens) <= limits[b]
            else:
                assert len(tokens) == limits[b]  # cut at its maximum length
    assert result.tokens.shape[2] == int(result.lengths.max())


STOP_CASES = [("none", 1), ("none", 3), ("gnmt", 2), ("average", 1)]


@pytest.mark.parametrize(("kind", "n_best"), STOP_CASES)
def test_a_sentence_that_cannot_be_beaten_stops_early_with_the_same_result(kind, n_best) -> None:
    model = NgramModel(6, seed=9, eos_bias=1.0)
    state = model.start(4)
    common = {"bos": model.bos, "eos": 0, "pad": -1, "beam_size": 4, "n_best": n_best}
    common.update(max_len=20, length_penalty=kind, alpha=0.6)
    early_step, full_step = CountingStep(model.step), CountingStep(model.step)
    early = beam_search(early_step, state, **common)
    full = beam_search(full_step, state, stop_early=False, **common)
    assert full_step.rows == [4] + [4 * 4] * 19  # the first step: one empty prefix each
    assert len(early_step.rows) < 20  # every sentence stopped before its maximum length
    later = early_step.rows[1:]
    assert all(r % 4 == 0 for r in later)  # whole sentences leave the batch
    assert later == sorted(later, reverse=True) and later[-1] < later[0]
    for name in ("tokens", "lengths", "scores", "log_prob"):
        assert torch.equal(getattr(early, name), getattr(full, name)), name


def test_sentences_stop_at_different_steps_and_leave_the_batch() -> None:
    model = NgramModel(6, seed=9, eos_bias=6.0)
    state = model.start(3)
    state["src"][1, 0] -= 12.0  # sentence 1 does not want to end
    step = CountingStep(model.step)
    beam_search(step, state, bos=model.bos, eos=0, beam_size=2, max_len=8)
    # sentences 0 and 2 end at once; sentence 1's two beams run to the maximum length alone
    assert step.rows == [3] + [2] * 7


def test_float32_models_get_float32_scores() -> None:
    model = NgramModel(5, seed=1)
    model.table, model.pos = model.table.float(), model.pos.float()
    state = model.start(2)
    state["src"] = state["src"].float()
    result = beam_search(model.step, state, bos=model.bos, eos=0, max_len=6, beam_size=3)
    assert result.scores.dtype == result.log_prob.dtype == torch.float32
