"""Exhaustive search: score every possible output exactly (a test oracle, tiny vocabularies).

The notes' third option after greedy and beam search: enumerate every output Y of a
sentence, score each by log p(Y|x) = Σ_t log p(y_t | y_<t, x) with the model's own step,
and rank by log p(Y|x) / lp(|Y|). The outputs are the sequences that end in EOS at a
position t <= L (tokens before it not EOS) and the sequences of exactly L tokens without
EOS, L being the sentence's maximum length; there are Σ_{t<=L} (|V|-1)^(t-1) + (|V|-1)^L of
them, so this is only for |V|^L up to about a million. It finds the true n best under the
constraints (:mod:`danlu.decoding.constraints`), which beam search only approximates, and
it shares no code with beam search beyond the constraints and the lengths.

The prefixes of all sentences are decoded in one batch: at position t the step sees every
prefix of length t-1 that did not end (B·(|V|-1)^(t-1) rows).
"""

from __future__ import annotations

import torch
from torch import Tensor

from danlu.decoding.constraints import apply_constraints
from danlu.decoding.search import (
    LengthPenalty,
    SearchResult,
    Step,
    check_common,
    check_int,
    check_penalty,
    max_lengths,
    pack_result,
)
from danlu.decoding.search import length_penalty as penalty_of
from danlu.decoding.state import State, select_rows
from danlu.errors import UsageError

__all__ = ["exhaustive_search"]


def exhaustive_search(
    step: Step,
    state: State,
    *,
    bos: int,
    eos: int,
    pad: int = 0,
    n_best: int = 1,
    max_len: int | None = None,
    max_len_a: float = 0.0,
    max_len_b: int = 200,
    src_lengths: Tensor | None = None,
    min_len: int = 0,
    length_penalty: LengthPenalty = "none",
    alpha: float = 1.0,
    no_repeat_ngram_size: int = 0,
    max_outputs: int = 1_000_000,
) -> SearchResult:
    """The exact ``n_best`` outputs of every sentence, by scoring all of them.

    Args:
        step, state, bos, eos, pad, n_best, max_len, max_len_a, max_len_b, src_lengths,
            min_len, length_penalty, alpha, no_repeat_ngram_size: as in
            :func:`~danlu.decoding.beam_search`.
        max_outputs: refuse to enumerate more than this many outputs (all sentences).

    Returns:
        :class:`~danlu.decoding.search.SearchResult` as beam search returns it.

    Example:
        >>> best = exhaustive_search(model.step, model.start(src), bos=1, eos=2,
        ...                          max_len=4, n_best=3)  # doctest: +SKIP
    """
    check_common(bos, eos, min_len, no_repeat_ngram_size)
    check_int("n_best", n_best, 1, "ask for at least one hypothesis")
    check_penalty(length_penalty, alpha)
    limits = max_lengths(state, max_len, max_len_a, max_len_b, src_lengths, min_len)
    batch, device = limits.numel(), limits.device
    longest = int(limits.max())
    prefixes = torch.empty(batch, 1, 0, dtype=torch.long, device=device)  # (B, P, t-1)
    scores: Tensor | None = None  # (B, P) log p of each prefix
    last = torch.full((batch,), bos, dtype=torch.long, device=device)
    # (ranking, log p, tokens, length) of every output, starting with n missing ones
    nothing = torch.full((batch, n_best), float("-inf"), device=device)
    found = [(nothing, nothing, prefixes.new_full((batch, n_best, 0), pad), 0)]
    for t in range(1, longest + 1):
        log_probs, state = step(state, last)  # (B·P, V)
        count = prefixes.shape[1]
        vocab = log_probs.shape[1]
        if t == 1 and batch * vocab ** (longest - 1) * vocab > max_outputs:
            raise UsageError(
                f"exhaustive search would score about {batch} x {vocab}^{longest} outputs, "
                f"more than max_outputs={max_outputs}; use beam_search, or a smaller "
                "vocabulary or max_len"
            )
        if scores is None:
            scores = log_probs.new_zeros(batch, 1)
        log_probs = apply_constraints(
            log_probs, prefixes.view(batch * count, t - 1), t, eos=eos, min_len=min_len,
            no_repeat_ngram_size=no_repeat_ngram_size,
        )  # fmt: skip
        cand = scores.unsqueeze(2) + log_probs.view(batch, count, vocab)  # (B, P, V)
        words = torch.arange(vocab, device=device)
        ends = (words == eos).view(1, 1, vocab) | (limits == t).view(batch, 1, 1)
        ends = ends & (cand > float("-inf"))
        penalty = float(penalty_of(torch.tensor(t), length_penalty, alpha))
        ranking = torch.where(ends, cand / penalty, float("-inf"))
        every = torch.cat(
            [
                prefixes.unsqueeze(2).expand(-1, -1, vocab, -1),
                words.view(1, 1, vocab, 1).expand(batch, count, -1, 1),
            ],
            3,
        ).view(batch, count * vocab, t)
        found.append((ranking.view(batch, -1), cand.view(batch, -1), every, t))

        # every prefix that did not end goes on; nothing goes on past a sentence's maximum
        go_on = words[words != eos]  # (V-1,)
        scores = cand[:, :, go_on].masked_fill((limits <= t).view(batch, 1, 1), float("-inf"))
        scores = scores.reshape(batch, -1)
        prefixes = torch.cat(
            [
                prefixes.unsqueeze(2).expand(-1, -1, go_on.numel(), -1),
                go_on.view(1, 1, -1, 1).expand(batch, count, -1, 1),
            ],
            3,
        ).view(batch, -1, t)
        rows = torch.arange(batch * count, device=device).repeat_interleave(go_on.numel())
        state = select_rows(state, rows)
        last = go_on.repeat(batch * count)
    return _best(found, n_best, longest, pad)


def _best(
    found: list[tuple[Tensor, Tensor, Tensor, int]], n: int, longest: int, pad: int
) -> SearchResult:
    """The n best of all outputs found, as a SearchResult."""
    dtype = found[-1][1].dtype
    ranking = torch.cat([f[0].to(dtype) for f in found], 1)  # (B, M)
    log_p = torch.cat([f[1].to(dtype) for f in found], 1)
    tokens = torch.cat(
        [torch.nn.functional.pad(f[2], (0, longest - f[3]), value=pad) for f in found], 1
    )  # (B, M, L)
    lengths = torch.cat([torch.full_like(f[0], f[3], dtype=torch.long) for f in found], 1)
    best, which = ranking.topk(n, dim=1)
    tokens = tokens.gather(1, which.unsqueeze(2).expand(-1, -1, longest))
    return pack_result(tokens, lengths.gather(1, which), best, log_p.gather(1, which), pad)
