"""Ancestral sampling with temperature, top-k and top-p (nucleus) filtering.

At each position the next token is drawn from a distribution q derived from the model's
p(· | y_<t, x), in this order (Hugging Face's order):

1. temperature τ > 0: q ∝ p^(1/τ), i.e. softmax(log p / τ); τ < 1 sharpens, τ > 1 flattens.
2. top-k (k >= 1): keep the k most probable tokens (ties with the k-th are kept), renormalize.
3. top-p, 0 < p <= 1 (Holtzman et al. 2020, "The Curious Case of Neural Text
   Degeneration"): sort q descending and keep the smallest prefix whose mass is >= p, i.e.
   token i (in that order) is kept iff the mass before it is < p; renormalize. The most
   probable token is always kept.

top-k = 1 is greedy search. Without any filter (τ = 1, k = 0, p = 1) the outputs are drawn
from p(Y|x) itself: each complete output Y with probability Π_t p(y_t | y_<t, x).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from danlu.decoding.left_to_right import decode_rows
from danlu.decoding.search import (
    SearchResult,
    Step,
    check_common,
    check_int,
    max_lengths,
    pack_result,
)
from danlu.decoding.state import State, select_rows
from danlu.errors import UsageError

__all__ = ["sample", "sampling_log_probs"]


def sampling_log_probs(
    log_probs: Tensor, *, temperature: float = 1.0, top_k: int = 0, top_p: float = 1.0
) -> Tensor:
    """log q (N, V): the distribution tokens are drawn from (module docstring, steps 1-3).

    Filtered tokens get -inf; each row is a log-softmax.
    """
    logits = log_probs / temperature if temperature != 1.0 else log_probs
    if 0 < top_k < logits.shape[1]:
        kth = logits.topk(top_k, dim=1).values[:, -1:]  # (N, 1)
        logits = logits.masked_fill(logits < kth, float("-inf"))
    log_q = logits.log_softmax(1)
    if top_p < 1.0:
        ordered, order = log_q.sort(1, descending=True)
        probs = ordered.exp()
        before = probs.cumsum(1) - probs  # mass of the more probable tokens
        drop = (before >= top_p).scatter(1, order, before >= top_p)  # back to vocab order
        log_q = log_q.masked_fill(drop, float("-inf")).log_softmax(1)
    return log_q


def sample(
    step: Step,
    state: State,
    *,
    bos: int,
    eos: int,
    pad: int = 0,
    num_samples: int = 1,
    temperature: float = 1.0,
    top_k: int = 0,
    top_p: float = 1.0,
    generator: torch.Generator | None = None,
    max_len: int | None = None,
    max_len_a: float = 0.0,
    max_len_b: int = 200,
    src_lengths: Tensor | None = None,
    min_len: int = 0,
    no_repeat_ngram_size: int = 0,
) -> SearchResult:
    """Draw ``num_samples`` outputs per sentence, all rows batched.

    The B sentences are expanded to B·S rows (row b·S + s is draw s of sentence b) and
    decoded together; a row stops at EOS or at its maximum length.

    Args:
        step, state, bos, eos, pad, max_len, max_len_a, max_len_b, src_lengths, min_len,
            no_repeat_ngram_size: as in :func:`~danlu.decoding.greedy_search`.
        num_samples: S, draws per sentence.
        temperature: τ > 0.
        top_k: k >= 1 keeps the k most probable tokens; 0 keeps all.
        top_p: 0 < p <= 1, nucleus mass; 1 keeps all.
        generator: a ``torch.Generator`` on the state's device, for reproducible draws.

    Returns:
        :class:`~danlu.decoding.search.SearchResult`: ``tokens`` (B, S, T) in the order
        drawn; ``scores`` = ``log_prob`` = log p(Y|x) under the model (the constrained
        log-probabilities, before temperature and filtering).

    Example:
        >>> gen = torch.Generator().manual_seed(0)
        >>> out = sample(model.step, model.start(src), bos=1, eos=2, max_len=50,
        ...              num_samples=4, top_p=0.9, generator=gen)  # doctest: +SKIP
    """
    check_common(bos, eos, min_len, no_repeat_ngram_size)
    check_int("num_samples", num_samples, 1, "ask for at least one draw per sentence")
    check_int("top_k", top_k, 0, "use 0 to keep every token")
    if not (math.isfinite(temperature) and temperature > 0):
        raise UsageError(
            f"temperature must be a finite number > 0, got {temperature}; 1 samples from "
            "the model, use greedy_search (or top_k=1) for the argmax"
        )
    if not 0 < top_p <= 1:
        raise UsageError(f"top_p must be in (0, 1], got {top_p}; 1 keeps every token")
    limits = max_lengths(state, max_len, max_len_a, max_len_b, src_lengths, min_len)
    batch = limits.numel()
    rows = torch.arange(batch, device=limits.device).repeat_interleave(num_samples)

    def draw(log_probs: Tensor) -> Tensor:
        log_q = sampling_log_probs(log_probs, temperature=temperature, top_k=top_k, top_p=top_p)
        return torch.multinomial(log_q.exp(), 1, generator=generator).squeeze(1)

    tokens, lengths, log_prob = decode_rows(
        step, select_rows(state, rows), draw, limits[rows], bos=bos, eos=eos, pad=pad,
        min_len=min_len, no_repeat_ngram_size=no_repeat_ngram_size,
    )  # fmt: skip
    log_prob = log_prob.view(batch, num_samples)
    return pack_result(
        tokens.view(batch, num_samples, -1), lengths.view(batch, num_samples), log_prob,
        log_prob, pad,
    )  # fmt: skip
