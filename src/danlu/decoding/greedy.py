"""Greedy search: the most probable next token at every position.

Greedy search picks y_t = argmax_w log p(w | y_<t, x) until EOS or the maximum length. It
costs one step per position, but it maximizes each factor of
p(Y|x) = Π_t p(y_t | y_<t, x) separately, not the product: a likely first token may lead
only to unlikely continuations, so the output is not in general the most probable one.
Exhaustive search (:func:`~danlu.decoding.exhaustive_search`) finds that one by scoring all
|V|^T sequences; beam search (:func:`~danlu.decoding.beam_search`) sits between the two,
keeping the K best prefixes. With K = 1 and no length penalty, beam search returns what
greedy search returns (a test checks it).
"""

from __future__ import annotations

from torch import Tensor

from danlu.decoding.left_to_right import decode_rows
from danlu.decoding.search import SearchResult, Step, check_common, max_lengths, pack_result
from danlu.decoding.state import State

__all__ = ["greedy_search"]


def greedy_search(
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
) -> SearchResult:
    """The greedy output of every sentence, batched.

    Args:
        step: ``log_probs, state = step(state, last_tokens)``, see :mod:`danlu.decoding.state`.
        state: the initial decoder state, one row per sentence (B rows).
        bos, eos, pad: token ids; outputs are padded with ``pad``.
        max_len, max_len_a, max_len_b, src_lengths: each sentence's maximum length, EOS
            counted: ``max_len``, or floor(a·|src| + b) (capped by ``max_len``), see
            :mod:`danlu.decoding.search`.
        min_len: EOS is forbidden in the first ``min_len`` positions.
        no_repeat_ngram_size: n > 0 forbids repeating an n-gram of the output.

    Returns:
        :class:`~danlu.decoding.search.SearchResult` with n = 1: ``tokens`` (B, 1, T), the
        output ending in EOS (or cut at the maximum length); ``scores`` = ``log_prob`` =
        log p(Y|x).

    Example:
        >>> result = greedy_search(model.step, state, bos=1, eos=2, max_len=50)  # doctest: +SKIP
        >>> result.tokens[0, 0, : result.lengths[0, 0]]  # doctest: +SKIP
    """
    check_common(bos, eos, min_len, no_repeat_ngram_size)
    limits = max_lengths(state, max_len, max_len_a, max_len_b, src_lengths, min_len)
    tokens, lengths, log_prob = decode_rows(
        step, state, lambda log_probs: log_probs.argmax(1), limits, bos=bos, eos=eos,
        pad=pad, min_len=min_len, no_repeat_ngram_size=no_repeat_ngram_size,
    )  # fmt: skip
    return pack_result(
        tokens.unsqueeze(1), lengths.unsqueeze(1), log_prob.unsqueeze(1),
        log_prob.unsqueeze(1), pad,
    )  # fmt: skip
