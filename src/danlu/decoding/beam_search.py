"""Beam search, batched over sentences × beams, with finished hypotheses kept.

Each sentence keeps K live prefixes (the beams). At position t every beam is extended by
every token, giving K·|V| candidates scored s(y_≤t) = s(y_<t) + log p(y_t | y_<t, x); the
2K best are taken with one ``topk`` per sentence, in rank order. Then, as in fairseq and
Hugging Face:

- a candidate that ends (token EOS, or position t is the sentence's maximum length) and is
  among the K best is *finished*: it joins the sentence's n best finished hypotheses,
  ranked by score / lp(|Y|) (length penalties: :mod:`danlu.decoding.search`); ending
  candidates ranked below K are dropped;
- the K best candidates that do not end become the new beams (there are at least K among
  the 2K: a beam has only one EOS).

Greedy search is K = 1 without a length penalty; exhaustive search is K >= |V|^T, where
every candidate is kept. Everything is one tensor op over all (sentence, beam, token)
triples; the state follows its beams with one ``select_rows`` per step.

**Stopping rule.** Sentence b stops after position t when t is its maximum length L_b, or
when no live beam can still enter its n best finished list:

    worst(b) >= max over live beams k of  max(s_k / lp(ℓ_lo), s_k / lp(L_b)),
    ℓ_lo = min(max(t + 1, min_len + 1), L_b)

where worst(b) is the n-th best finished ranking score (-inf while fewer than n are
finished). Every future token adds log p <= 0, so a completion of beam k that ends at
length ℓ in [ℓ_lo, L_b] scores at most s_k / lp(ℓ); s_k / lp(ℓ) is monotonic in ℓ (lp is
monotonic and s_k <= 0), so its maximum over ℓ is at one of the two ends. The bound is
exact for what the rule knows: a model that gives the rest of a prefix probability 1
reaches it. It is conservative in practice: with α > 0 the bound is s_k / lp(L_b), which
a live beam usually beats, so sentences run to (near) their maximum length. Without a length
penalty it is s_k itself: the sentence stops as soon as its n-th finished hypothesis
scores at least as well as every live beam, which makes K = 1 exactly greedy search. So a
stopped sentence's result is the result of running it to its maximum length (a test checks
this with ``stop_early=False``); this is Hugging Face's ``early_stopping="never"`` rule,
not fairseq's (stop once K hypotheses are finished, which may miss better ones). Stopped
sentences leave the batch.

The rule needs ``log_probs <= 0`` (a log-softmax); with other scores it may stop too early.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
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

__all__ = ["beam_search"]

NEG_INF = float("-inf")


class _Finished:
    """The n best finished hypotheses of every sentence: ranking score, log p, tokens."""

    def __init__(self, batch: int, n: int, longest: int, pad: int, like: Tensor) -> None:
        self.n, self.longest, self.pad = n, longest, pad
        self.scores = like.new_full((batch, n), NEG_INF)
        self.log_prob = like.new_full((batch, n), NEG_INF)
        self.tokens = torch.full((batch, n, longest), pad, dtype=torch.long, device=like.device)
        self.lengths = torch.zeros(batch, n, dtype=torch.long, device=like.device)

    def add(self, ids: Tensor, scores: Tensor, log_prob: Tensor, tokens: Tensor) -> None:
        """Merge candidates of sentences ``ids`` (S,): scores/log_prob (S, C) (-inf: not a
        candidate), tokens (S, C, t), all of length t."""
        t = tokens.shape[2]
        tokens = F.pad(tokens, (0, self.longest - t), value=self.pad)
        merged = torch.cat([self.scores[ids], scores], 1)  # (S, n + C)
        best, which = merged.topk(self.n, dim=1)  # (S, n)
        self.scores[ids] = best
        self.log_prob[ids] = torch.cat([self.log_prob[ids], log_prob], 1).gather(1, which)
        lengths = torch.cat([self.lengths[ids], torch.full_like(scores, t, dtype=torch.long)], 1)
        self.lengths[ids] = lengths.gather(1, which)
        every = torch.cat([self.tokens[ids], tokens], 1)  # (S, n + C, T)
        self.tokens[ids] = every.gather(1, which.unsqueeze(2).expand(-1, -1, self.longest))


def beam_search(
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
) -> SearchResult:
    """The ``n_best`` best hypotheses of every sentence found by beam search.

    Args:
        step: ``log_probs, state = step(state, last_tokens)``, see :mod:`danlu.decoding.state`.
        state: the initial decoder state, one row per sentence (B rows). The first step
            decodes these B rows (one empty prefix per sentence); its ``select_rows`` makes
            B·K rows, row b·K + k being beam k of sentence b, fewer as sentences stop.
        bos, eos, pad: token ids; outputs are padded with ``pad``.
        beam_size: K >= 1.
        n_best: hypotheses returned per sentence, 1 <= n_best <= K.
        max_len, max_len_a, max_len_b, src_lengths: each sentence's maximum length, EOS
            counted: ``max_len``, or floor(a·|src| + b) (capped by ``max_len``).
        min_len: EOS is forbidden in the first ``min_len`` positions.
        length_penalty: ``"none"``, ``"average"`` (|Y|^α) or ``"gnmt"`` (((5+|Y|)/6)^α).
        alpha: α of the length penalty.
        no_repeat_ngram_size: n > 0 forbids repeating an n-gram of the output.
        stop_early: apply the stopping rule (module docstring); False runs every sentence
            to its maximum length, with the same result, more slowly.

    Returns:
        :class:`~danlu.decoding.search.SearchResult`: ``tokens`` (B, n_best, T), best
        first; |Y| (``lengths``) counts the EOS, which is returned as the last token of
        every hypothesis that did not reach its maximum length; ``scores`` = log p / lp(|Y|).

    Example:
        >>> out = beam_search(model.step, model.start(src), bos=1, eos=2, beam_size=5,
        ...                   src_lengths=src_len, max_len_a=1.2, max_len_b=10,
        ...                   length_penalty="gnmt", alpha=0.6)  # doctest: +SKIP
        >>> out.tokens[0, 0, : out.lengths[0, 0]]  # doctest: +SKIP
    """
    check_common(bos, eos, min_len, no_repeat_ngram_size)
    k = check_int("beam_size", beam_size, 1, "use 1 for greedy search, 4 to 10 is usual")
    check_int("n_best", n_best, 1, "ask for at least one hypothesis")
    if n_best > k:
        raise UsageError(
            f"n_best={n_best} is larger than beam_size={k}: beam search keeps at most K "
            "hypotheses; raise beam_size or lower n_best"
        )
    check_penalty(length_penalty, alpha)
    limits = max_lengths(state, max_len, max_len_a, max_len_b, src_lengths, min_len)
    batch, device = limits.numel(), limits.device
    longest = int(limits.max())
    active = torch.arange(batch, device=device)  # (A,) sentences still searched
    # (A, W) live beams' s(y): W = 1 empty prefix at first (the state has B rows), then K;
    # the first step's select_rows expands the state to B·K rows
    scores = torch.zeros(batch, 1, device=device)
    history = torch.empty(batch, 1, 0, dtype=torch.long, device=device)  # (A, W, t-1)
    last = torch.full((batch,), bos, dtype=torch.long, device=device)
    finished: _Finished | None = None
    for t in range(1, longest + 1):
        log_probs, state = step(state, last)  # (A·W, V)
        (alive, width), vocab = scores.shape, log_probs.shape[1]
        log_probs = apply_constraints(
            log_probs, history.view(alive * width, t - 1), t, eos=eos, min_len=min_len,
            no_repeat_ngram_size=no_repeat_ngram_size,
        )  # fmt: skip
        if finished is None:
            finished = _Finished(batch, n_best, longest, pad, log_probs)
            scores = scores.to(log_probs.dtype)
        cand = scores.unsqueeze(2) + log_probs.view(alive, width, vocab)
        top, flat = cand.view(alive, width * vocab).topk(min(2 * k, width * vocab), dim=1)
        if top.shape[1] < 2 * k:  # fewer candidates than 2K (tiny vocabularies): dead ones
            top = F.pad(top, (0, 2 * k - top.shape[1]), value=NEG_INF)
            flat = F.pad(flat, (0, 2 * k - flat.shape[1]), value=0)
        beam, token = flat // vocab, flat % vocab  # (A, 2K), best first
        limit = limits[active]  # (A,)
        last_position = limit == t
        ends = (token == eos) | last_position.unsqueeze(1)  # (A, 2K)

        # 1. ending candidates among the K best are finished hypotheses of length t
        done_now = ends[:, :k] & (top[:, :k] > NEG_INF)
        if bool(done_now.any()):
            some = done_now.any(1).nonzero().squeeze(1)  # sentences with a new one
            prefix = history[some].gather(1, beam[some, :k, None].expand(-1, -1, t - 1))
            tokens = torch.cat([prefix, token[some, :k, None]], 2)  # (S, K, t)
            log_p = top[some, :k].masked_fill(~done_now[some], NEG_INF)
            penalty = float(penalty_of(torch.tensor(t), length_penalty, alpha))
            finished.add(active[some], log_p / penalty, log_p, tokens)

        # 2. the K best candidates that do not end are the new beams (rank order kept)
        rank = torch.arange(2 * k, device=device)
        pick = (ends.long() * 2 * k + rank).argsort(1)[:, :k]  # (A, K)
        # (at a sentence's last position every candidate ends: its beams die)
        scores = top.gather(1, pick).masked_fill(ends.gather(1, pick), NEG_INF)
        source, token = beam.gather(1, pick), token.gather(1, pick)
        history = torch.cat(
            [history.gather(1, source.unsqueeze(2).expand(-1, -1, t - 1)), token.unsqueeze(2)],
            2,
        )

        # 3. sentences that are done leave the batch; the state follows the beams
        done = last_position
        if stop_early:
            bound = _best_completion(scores, t, limit, min_len, length_penalty, alpha)
            done = done | (finished.scores[active, -1] >= bound)
        rows = (torch.arange(alive, device=device) * width).unsqueeze(1) + source  # (A, K)
        if bool(done.any()):
            keep = (~done).nonzero().squeeze(1)
            if keep.numel() == 0:
                break
            active, scores, history = active[keep], scores[keep], history[keep]
            rows, token = rows[keep], token[keep]
        state = select_rows(state, rows.flatten())
        last = token.flatten()
    assert finished is not None
    return pack_result(finished.tokens, finished.lengths, finished.scores, finished.log_prob, pad)


def _best_completion(
    scores: Tensor, t: int, limit: Tensor, min_len: int, kind: str, alpha: float
) -> Tensor:
    """(A,) the best ranking score any completion of a live beam can reach (module docstring)."""
    best = scores.max(1).values  # s/lp(ℓ) grows with s, so the best beam bounds them all
    if kind == "none":
        return best
    low = limit.clamp(max=max(t + 1, min_len + 1))
    at_low = best / penalty_of(low, kind, alpha).to(best.dtype)
    at_high = best / penalty_of(limit, kind, alpha).to(best.dtype)
    return torch.maximum(at_low, at_high)
