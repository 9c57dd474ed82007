"""What every search over a decoding step shares: the step, the result, the output lengths.

A model is searched through one step (see :mod:`danlu.decoding.state`)::

    log_probs, state = step(state, last_tokens)  # (N,) int64 -> (N, V) log-softmax

The first call gets ``bos`` in every row. An output Y = y_1 .. y_n is scored by the sum of
its tokens' log-probabilities, log p(Y|x) = Σ_t log p(y_t | y_<t, x), and ends in one of two
ways: with the token ``eos`` (counted in its length |Y| and in its score), or unfinished at
its sentence's maximum length (|Y| = the maximum, no EOS). With no constraints these
outputs have probabilities that sum to 1, which :func:`~danlu.decoding.exhaustive_search`
checks. Lengths (``min_len``, the maximum, ``SearchResult.lengths``) count tokens,
EOS included, BOS not.

Maximum length per sentence b: ``max_len`` for every sentence, or, given the source
lengths, ``floor(max_len_a * src_lengths[b] + max_len_b)`` capped by ``max_len`` if that is
given too (fairseq's ``--max-len-a/--max-len-b``). EOS is forbidden in the first
``min_len`` positions, so every output has at least ``min_len`` tokens before its EOS.

Length penalties (the ranking score is log p(Y|x) / lp(|Y|)):

    none      lp = 1
    average   lp = |Y|^α           (α = 1: the mean log-probability per token; fairseq's and
                                    Hugging Face's ``length_penalty`` is this α)
    gnmt      lp = ((5 + |Y|) / 6)^α   (Wu et al. 2016, "Google's Neural Machine Translation
                                    System", section 7; they use α in [0.6, 0.7])
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Literal, NamedTuple

import torch
from torch import Tensor

from danlu.decoding.state import State
from danlu.errors import UsageError
from danlu.names import LENGTH_PENALTIES

__all__ = [
    "LENGTH_PENALTIES",
    "LengthPenalty",
    "SearchResult",
    "Step",
    "length_penalty",
    "max_lengths",
    "pack_result",
]

Step = Callable[[State, Tensor], tuple[Tensor, State]]
LengthPenalty = Literal[tuple(LENGTH_PENALTIES)]  # type: ignore[valid-type]


class SearchResult(NamedTuple):
    """Hypotheses per sentence, best first (samples: in the order drawn), padded.

    ``tokens[b, j, :lengths[b, j]]`` is hypothesis j of sentence b: it ends in EOS unless
    it reached its sentence's maximum length; after it comes ``pad``. Where fewer
    hypotheses exist than were asked for (tiny vocabularies, constraints), the missing
    ones have length 0 and score -inf.
    """

    tokens: Tensor  # (B, n, T) int64, T = the longest returned hypothesis
    lengths: Tensor  # (B, n) int64, EOS counted
    scores: Tensor  # (B, n) the ranking score: log_prob / lp(length)
    log_prob: Tensor  # (B, n) log p(Y|x), the sum of the tokens' log-probabilities


def length_penalty(lengths: Tensor, kind: str, alpha: float) -> Tensor:
    """lp(|Y|) of the module docstring, as a float64 tensor shaped like ``lengths``."""
    length = lengths.to(torch.float64)
    if kind == "average":
        return length.pow(alpha)
    if kind == "gnmt":
        return ((5.0 + length) / 6.0).pow(alpha)
    return torch.ones_like(length)


def check_penalty(kind: str, alpha: float) -> None:
    """A known length penalty and a finite α."""
    if kind not in LENGTH_PENALTIES:
        raise UsageError(f"unknown length_penalty {kind!r}; valid: {', '.join(LENGTH_PENALTIES)}")
    if not math.isfinite(alpha):
        raise UsageError(f"alpha must be a finite number, got {alpha}; GNMT uses 0.6 to 0.7")


def first_tensor(state: State) -> Tensor | None:
    """The first tensor of a state nest (its rows are the sentences), or None."""
    if isinstance(state, Tensor):
        return state
    if isinstance(state, dict):
        state = list(state.values())
    if isinstance(state, tuple | list):
        for value in state:
            found = first_tensor(value)
            if found is not None:
                return found
    return None


def check_int(name: str, value: object, low: int, fix: str) -> int:
    """``value`` as an int >= ``low``, else a UsageError naming value, rule and fix."""
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise UsageError(f"{name} must be an integer >= {low}, got {value!r}; {fix}")
    return value


def check_common(bos: int, eos: int, min_len: int, no_repeat_ngram_size: int) -> None:
    """The checks every search shares: token ids and the constraints."""
    check_int("bos", bos, 0, "pass the id of the begin-of-sentence token")
    check_int("eos", eos, 0, "pass the id of the end-of-sentence token")
    check_int("min_len", min_len, 0, "use 0 for no minimum")
    check_int("no_repeat_ngram_size", no_repeat_ngram_size, 0, "use 0 to allow repeats")


def max_lengths(
    state: State,
    max_len: int | None,
    max_len_a: float,
    max_len_b: int,
    src_lengths: Tensor | None,
    min_len: int,
) -> Tensor:
    """Each sentence's maximum output length (B,) int64, on the state's device.

    B is the number of rows of the state's first tensor. See the module docstring for the
    rule; every maximum must be >= ``min_len`` (an output shorter than ``min_len`` could not
    respect it) and >= 1.
    """
    first = first_tensor(state)
    if first is None or first.dim() == 0:
        raise UsageError(
            "the decoder state holds no tensor with a row per sentence; pass the initial "
            "state with B rows (see danlu.decoding.state)"
        )
    batch, device = first.shape[0], first.device
    if max_len is not None:
        check_int("max_len", max_len, 1, "pass the longest output to generate, EOS counted")
    if src_lengths is None:
        if max_len is None:
            raise UsageError(
                "no maximum length: pass max_len, or src_lengths with max_len_a/max_len_b"
            )
        if max_len_a != 0:
            raise UsageError(
                f"max_len_a={max_len_a} needs src_lengths (B,), the source lengths it scales"
            )
        limits = torch.full((batch,), max_len, dtype=torch.long, device=device)
    else:
        if src_lengths.shape != (batch,):
            raise UsageError(
                f"src_lengths must have shape ({batch},), one length per sentence of the "
                f"state; got {tuple(src_lengths.shape)}"
            )
        if not math.isfinite(max_len_a) or max_len_a < 0:
            raise UsageError(f"max_len_a must be a finite number >= 0, got {max_len_a}")
        limits = (max_len_a * src_lengths.to(device, torch.float64) + max_len_b).floor().long()
        if max_len is not None:
            limits = limits.clamp(max=max_len)
    low = max(min_len, 1)
    if bool((limits < low).any()):
        bad = int(torch.nonzero(limits < low)[0, 0])
        raise UsageError(
            f"sentence {bad} may have at most {int(limits[bad])} tokens, fewer than "
            f"max(min_len, 1) = {low}; raise max_len / max_len_b or lower min_len"
        )
    return limits


def pack_result(
    tokens: Tensor, lengths: Tensor, scores: Tensor, log_prob: Tensor, pad: int
) -> SearchResult:
    """A :class:`SearchResult`: missing hypotheses (score -inf) get length 0, every position
    after a hypothesis's length gets ``pad``, and T shrinks to the longest hypothesis."""
    lengths = lengths.masked_fill(scores == float("-inf"), 0)
    width = int(lengths.max()) if lengths.numel() else 0
    positions = torch.arange(width, device=tokens.device)
    tokens = tokens[..., :width].masked_fill(positions >= lengths.unsqueeze(-1), pad)
    return SearchResult(tokens, lengths, scores, log_prob)
