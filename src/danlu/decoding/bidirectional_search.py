"""Beam and greedy search for a bidirectional model: L2R and R2L decoded together, batched.

A bidirectional model (``danlu.nn.seq2seq.BidirectionalTransformerSeq2Seq``) decodes a
*pair* of outputs per row, an L2R one ``y`` and an R2L one ``z`` (the output reversed),
each direction seeing the other's prefix::

    log_probs, state = step(state, last_tokens)
    # last_tokens (N, 2): column 0 the L2R token, column 1 the R2L token; pad once that
    # direction has ended; log_probs (N, 2, V): log p(y_t | y_<t, z_<t, x), log p(z_t | ...)

A row is one consistent pair: its two prefixes were decoded together, so the step's
log-probabilities are those of the teacher-forced model on the same pair of prefixes.

**Beam search: a lead and a greedy partner.** Every sentence gets one beam search per
direction, all in one :func:`~danlu.decoding.beam_search` (rows: direction, then sentence,
then beam). In an L2R row the L2R output is the *lead*, searched with beams, scores,
length penalty and stopping rule exactly as ``beam_search`` does; the R2L output of the
same row is its *partner*, decoded greedily (the argmax under the same constraints) in the
same step, until it emits EOS (from then on it is fed pad) or the lead ends. A beam carries
its partner along (``select_rows``), so every row stays one consistent pair; R2L rows are
the mirror image. The lead's score is its own log-probability given its partner,

    log p_L(y | x) = Σ_t log p(y_t | y_<t, z_<t, x),     ranked by log p_L / lp(|y|),

and likewise for R2L. Searching one direction (``directions="l2r"`` or ``"r2l"``) is the
same search over that direction's rows: the L2R-only and R2L-only decoding of the same
model. Cost: every row runs both decoders, so one direction costs about 2× a plain beam
search of one decoder, both directions 4× (the encoder runs once).

This pairing is danlu's design; it keeps the model's probabilities well defined (each
hypothesis has one definite partner, so incremental decoding equals teacher forcing on
that pair) and reuses ``beam_search`` whole. Zhou et al. keep hypotheses of both
directions in one beam instead, each interacting with the other direction's.

**Which result wins.** The ``n_best`` hypotheses of both directions are merged, the R2L ones
reversed back to reading order, and ranked by that score, ``log p_d(Y | x) / lp(|Y|)`` of
the direction ``d`` that produced them (|Y| counts the EOS, the same in both directions);
ties go to L2R, and a sentence found by both directions appears once, with its better
score. So the best hypothesis is the better-scored of the two directions' best ones.

**Greedy search** decodes each row's pair in lockstep, both directions by argmax (the same
as beam search with K = 1 and no length penalty), and returns the better-scored of the two.

Papers: Zhou, Zhang, Zong, "Synchronous Bidirectional Neural Machine Translation", TACL
2019; Su Jianlin, "seq2seq之双向解码" (kexue.fm, 2019).
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor

from danlu.decoding.beam_search import beam_search
from danlu.decoding.bidirectional_result import (
    BidirectionalResult,
    Directions,
    check_directions,
    combine_directions,
)
from danlu.decoding.constraints import apply_constraints
from danlu.decoding.search import (
    LengthPenalty,
    Step,
    check_common,
    check_penalty,
    max_lengths,
    pack_result,
)
from danlu.decoding.search import length_penalty as penalty_of
from danlu.decoding.state import State, select_rows

__all__ = ["bidirectional_beam_search", "bidirectional_greedy_search"]


def _forbid_pad(log_probs: Tensor, pad: int) -> Tensor:
    """pad is no output token: fed to a direction it means "ended" (module docstring)."""
    log_probs = log_probs.clone()
    log_probs[..., pad] = float("-inf")
    return log_probs


class _Lead(NamedTuple):
    """The state beam search carries for the lead rows: rows first."""

    inner: State  # the model's pair state
    lead: Tensor  # (N,) int64: the direction searched in this row (0 L2R, 1 R2L)
    partner: Tensor  # (N,) int64: the partner's next input (pad once it ended)
    history: Tensor  # (N, t-1) int64: the partner's tokens so far


def _lead_step(step: Step, *, eos: int, pad: int, min_len: int, no_repeat: int) -> Step:
    """A one-token step for :func:`beam_search` over the lead of every row; the partner
    advances greedily inside it (module docstring)."""

    def lead_step(state: _Lead, last: Tensor) -> tuple[Tensor, _Lead]:
        rows = torch.arange(last.size(0), device=last.device)
        pair = torch.stack([last, state.partner], 1)  # (N, 2): lead, partner
        pair = torch.where(state.lead.unsqueeze(1) == 0, pair, pair.flip(1))  # L2R, R2L
        log_probs, inner = step(state.inner, pair)  # (N, 2, V)
        log_probs = _forbid_pad(log_probs, pad)
        theirs = apply_constraints(
            log_probs[rows, 1 - state.lead], state.history, state.history.size(1) + 1,
            eos=eos, min_len=min_len, no_repeat_ngram_size=no_repeat,
        )  # fmt: skip
        choice = theirs.argmax(1)  # (N,)
        ended = (state.partner == pad) | (choice == eos)
        history = torch.cat([state.history, choice.unsqueeze(1)], 1)
        return log_probs[rows, state.lead], _Lead(
            inner, state.lead, choice.masked_fill(ended, pad), history
        )

    return lead_step


def bidirectional_beam_search(
    step: Step,
    state: State,
    *,
    bos: int,
    eos: int,
    pad: int = 0,
    beam_size: int = 5,
    n_best: int = 1,
    max_len: int | None = None,
    max_len_a: float = 0.0,
    max_len_b: int = 200,
    src_lengths: Tensor | None = None,
    min_len: int = 0,
    length_penalty: LengthPenalty = "none",
    alpha: float = 1.0,
    no_repeat_ngram_size: int = 0,
    stop_early: bool = True,
    directions: Directions = "both",
) -> BidirectionalResult:
    """Beam search of both directions of a bidirectional model, batched (module docstring).

    Args:
        step: the pair step, ``(N, 2)`` tokens -> ``(N, 2, V)`` log-probabilities.
        state: the model's initial state, one row per sentence (B rows).
        bos, eos: token ids; both directions start with BOS and end with EOS.
        pad: the model's padding id: never output, fed to a direction that has ended.
        beam_size, n_best, max_len, max_len_a, max_len_b, src_lengths, min_len,
        length_penalty, alpha, no_repeat_ngram_size, stop_early: as
            :func:`~danlu.decoding.beam_search`, for each direction (the partner obeys
            ``min_len`` and ``no_repeat_ngram_size`` too).
        directions: ``"both"``, or ``"l2r"``/``"r2l"`` to search that direction alone (its
            partner is still decoded: the model needs it).

    Returns:
        :class:`BidirectionalResult`: ``best`` (B, n_best, T), ``direction``, and each
        direction's own result. Scores are ``log p_d(Y|x) / lp(|Y|)``.

    Example:
        >>> out = bidirectional_beam_search(model.step, model.start(src, src != 0), bos=1,
        ...                                 eos=2, beam_size=5, max_len=50)  # doctest: +SKIP
        >>> out.best.tokens[0, 0, : out.best.lengths[0, 0]]  # doctest: +SKIP
    """
    wanted = check_directions(directions)
    check_common(bos, eos, min_len, no_repeat_ngram_size)
    limits = max_lengths(state, max_len, max_len_a, max_len_b, src_lengths, min_len)
    batch, device = limits.numel(), limits.device
    index = torch.arange(batch, device=device).repeat(len(wanted))  # direction-major rows
    lead = torch.tensor(wanted, device=device).repeat_interleave(batch)
    start = _Lead(
        select_rows(state, index), lead, torch.full_like(lead, bos), lead.new_empty(len(lead), 0)
    )
    step_ = _lead_step(step, eos=eos, pad=pad, min_len=min_len, no_repeat=no_repeat_ngram_size)
    found = beam_search(
        step_, start, bos=bos, eos=eos, pad=pad, beam_size=beam_size, n_best=n_best,
        max_len=max_len, max_len_a=max_len_a, max_len_b=max_len_b,
        src_lengths=None if src_lengths is None else src_lengths[index.to(src_lengths.device)],
        min_len=min_len, length_penalty=length_penalty, alpha=alpha,
        no_repeat_ngram_size=no_repeat_ngram_size, stop_early=stop_early,
    )  # fmt: skip
    parts = {  # rows d·B .. (d+1)·B - 1 are the sentences led by direction d
        d: pack_result(*(r[i * batch : (i + 1) * batch] for r in found), pad)
        for i, d in enumerate(wanted)
    }
    return combine_directions(parts, eos, pad)


def bidirectional_greedy_search(
    step: Step,
    state: State,
    *,
    bos: int,
    eos: int,
    pad: int = 0,
    max_len: int | None = None,
    max_len_a: float = 0.0,
    max_len_b: int = 200,
    src_lengths: Tensor | None = None,
    min_len: int = 0,
    no_repeat_ngram_size: int = 0,
    length_penalty: LengthPenalty = "none",
    alpha: float = 1.0,
    directions: Directions = "both",
) -> BidirectionalResult:
    """Greedy search of both directions in lockstep, one row per sentence, batched.

    At each position both directions take their argmax (under ``min_len`` and
    ``no_repeat_ngram_size``); a direction that emits EOS or reaches the maximum length has
    ended and is fed ``pad``; a row leaves the batch when the directions asked for have
    ended. The better of the two outputs by ``log p_d(Y|x) / lp(|Y|)`` (``length_penalty``,
    ``alpha``; default: the log-probability itself) is ``best``.

    Args: as :func:`bidirectional_beam_search`.

    Returns:
        :class:`BidirectionalResult` with n = 1.

    Example:
        >>> out = bidirectional_greedy_search(model.step, model.start(src, src != 0), bos=1,
        ...                                   eos=2, max_len=50)  # doctest: +SKIP
    """
    wanted = check_directions(directions)
    check_common(bos, eos, min_len, no_repeat_ngram_size)
    check_penalty(length_penalty, alpha)
    limits = max_lengths(state, max_len, max_len_a, max_len_b, src_lengths, min_len)
    batch, device, longest = limits.numel(), limits.device, int(limits.max())
    tokens = torch.full((batch, 2, longest), pad, dtype=torch.long, device=device)
    lengths = torch.zeros(batch, 2, dtype=torch.long, device=device)
    log_prob = torch.zeros(batch, 2, device=device)
    active = torch.arange(batch, device=device)  # (A,) rows still running
    alive = torch.ones(batch, 2, dtype=torch.bool, device=device)  # (A, 2) directions running
    history = tokens[:, :, :0]  # (A, 2, t-1)
    last = torch.full((batch, 2), bos, dtype=torch.long, device=device)
    for t in range(1, longest + 1):
        log_probs, state = step(state, last)  # (A, 2, V)
        rows, _, vocab = log_probs.shape
        log_probs = apply_constraints(
            _forbid_pad(log_probs, pad).view(2 * rows, vocab), history.reshape(2 * rows, t - 1),
            t, eos=eos, min_len=min_len, no_repeat_ngram_size=no_repeat_ngram_size,
        ).view(rows, 2, vocab)  # fmt: skip
        choice = log_probs.argmax(-1)  # (A, 2)
        gain = log_probs.gather(-1, choice.unsqueeze(-1)).squeeze(-1)
        if t == 1:
            log_prob = log_prob.to(log_probs.dtype)
        log_prob.index_add_(0, active, torch.where(alive, gain, torch.zeros_like(gain)))
        tokens[active, :, t - 1] = choice.masked_fill(~alive, pad)
        ends = alive & ((choice == eos) | (limits[active] == t).unsqueeze(1))
        lengths[active] = torch.where(ends, t, lengths[active])
        alive = alive & ~ends
        history = torch.cat([history, choice.unsqueeze(2)], 2)
        last = choice.masked_fill(~alive, pad)
        running = alive[:, list(wanted)].any(1)
        if not bool(running.all()):
            keep = running.nonzero().squeeze(1)
            if keep.numel() == 0:
                break
            active, alive, history, last = active[keep], alive[keep], history[keep], last[keep]
            state = select_rows(state, keep)
    scores = log_prob / penalty_of(lengths, length_penalty, alpha).to(log_prob.dtype)
    one = [(tokens[:, d : d + 1], lengths[:, d : d + 1], scores[:, d : d + 1]) for d in (0, 1)]
    parts = {d: pack_result(*one[d], log_prob[:, d : d + 1], pad) for d in wanted}
    return combine_directions(parts, eos, pad)
