"""What a bidirectional search returns, and how the two directions' results become one.

A bidirectional search (:mod:`danlu.decoding.bidirectional_search`) finds hypotheses in
each direction; the R2L ones come out reversed (``z = y_n .. y_1``) and are turned back
into reading order with :func:`reverse_padded` (EOS stays last). :func:`merge_directions`
then ranks the hypotheses of both directions by their scores, ``log p_d(Y|x) / lp(|Y|)``
of the direction ``d`` that found them, keeping a hypothesis found by both once.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor

from danlu import names
from danlu.decoding.search import SearchResult, pack_result
from danlu.errors import UsageError

__all__ = [
    "DIRECTIONS",
    "BidirectionalResult",
    "Directions",
    "check_directions",
    "combine_directions",
    "merge_directions",
    "reverse_padded",
]

# which outputs a search produces -> the directions it leads (0: L2R, 1: R2L)
DIRECTIONS: dict[str, tuple[int, ...]] = names.implement(
    names.DIRECTIONS, {"both": (0, 1), "l2r": (0,), "r2l": (1,)}, "search directions"
)
Directions = Literal["both", "l2r", "r2l"]


class BidirectionalResult(NamedTuple):
    """What a bidirectional search returns; every output in reading order (left to right)."""

    best: SearchResult  # (B, n, T) the n best of both directions' hypotheses, best first
    direction: Tensor  # (B, n) int64: 0 if best[b, j] came from L2R, 1 from R2L
    l2r: SearchResult | None  # the L2R search's own n best (None: not searched)
    r2l: SearchResult | None  # the R2L search's n best, reversed back to reading order


def reverse_padded(tokens: Tensor, lengths: Tensor) -> Tensor:
    """Reverse the first ``lengths[...]`` tokens of every row of ``tokens (..., T)``.

    Positions from ``lengths`` on (EOS, padding) stay where they are. Builds R2L targets:
    ``reverse_padded(tgt_out, n)`` with ``n`` the tokens before EOS turns ``y_1 .. y_n EOS
    pad`` into ``y_n .. y_1 EOS pad``; applying it twice gives ``tokens`` back.

    Example:
        >>> reverse_padded(torch.tensor([[5, 6, 7, 2, 0], [8, 2, 0, 0, 0]]), torch.tensor([3, 1]))
        tensor([[7, 6, 5, 2, 0],
                [8, 2, 0, 0, 0]])
    """
    positions = torch.arange(tokens.size(-1), device=tokens.device)
    n = lengths.unsqueeze(-1)  # (..., 1)
    index = torch.where(positions < n, n - 1 - positions, positions)  # (..., T)
    return tokens.gather(-1, index.expand_as(tokens))


def check_directions(directions: str) -> tuple[int, ...]:
    if directions not in DIRECTIONS:
        raise UsageError(
            f"unknown directions {directions!r}; valid: {', '.join(DIRECTIONS)} (both: "
            "return the better of the two, l2r/r2l: that direction's output alone)"
        )
    return DIRECTIONS[directions]


def combine_directions(parts: dict[int, SearchResult], eos: int, pad: int) -> BidirectionalResult:
    """The result of a search from each searched direction's own (``{0: L2R, 1: R2L}``):
    the R2L outputs reversed back to reading order, then both merged."""
    l2r, r2l = parts.get(0), parts.get(1)
    if r2l is not None and r2l.tokens.size(-1) > 0:
        ends = r2l.tokens.gather(-1, (r2l.lengths - 1).clamp(min=0).unsqueeze(-1)).squeeze(-1)
        before_eos = r2l.lengths - ((r2l.lengths > 0) & (ends == eos)).long()
        r2l = r2l._replace(tokens=reverse_padded(r2l.tokens, before_eos))
    if l2r is not None and r2l is not None:
        best, direction = merge_directions(l2r, r2l, l2r.scores.size(1), pad)
    else:
        best = l2r if l2r is not None else r2l
        assert best is not None
        direction = torch.full_like(best.lengths, 0 if l2r is not None else 1)
    return BidirectionalResult(best, direction, l2r, r2l)


def merge_directions(
    l2r: SearchResult, r2l: SearchResult, n: int, pad: int = 0
) -> tuple[SearchResult, Tensor]:
    """The ``n`` best of two results by score, best first, and where each came from.

    Both hold outputs in reading order. A hypothesis in both lists is kept once, with the
    better score (L2R's on a tie); ties between different hypotheses go to L2R.

    Returns:
        ``(SearchResult (B, n, T), direction (B, n) int64: 0 from l2r, 1 from r2l)``.
    """
    width = max(l2r.tokens.size(-1), r2l.tokens.size(-1))
    left = F.pad(l2r.tokens, (0, width - l2r.tokens.size(-1)), value=pad)  # (B, n_l, W)
    right = F.pad(r2l.tokens, (0, width - r2l.tokens.size(-1)), value=pad)  # (B, n_r, W)
    same = (left.unsqueeze(2) == right.unsqueeze(1)).all(-1)  # (B, n_l, n_r)
    same &= l2r.lengths.unsqueeze(2) == r2l.lengths.unsqueeze(1)
    same &= l2r.lengths.unsqueeze(2) > 0
    right_better = r2l.scores.unsqueeze(1) > l2r.scores.unsqueeze(2)  # (B, n_l, n_r)
    drop = torch.cat([(same & right_better).any(2), (same & ~right_better).any(1)], 1)
    scores = torch.cat([l2r.scores, r2l.scores], 1).masked_fill(drop, float("-inf"))
    order = scores.sort(dim=1, descending=True, stable=True).indices[:, :n]  # (B, n)
    tokens = torch.cat([left, right], 1).gather(1, order.unsqueeze(2).expand(-1, -1, width))
    lengths = torch.cat([l2r.lengths, r2l.lengths], 1).gather(1, order)
    log_prob = torch.cat([l2r.log_prob, r2l.log_prob], 1).gather(1, order)
    best = pack_result(tokens, lengths, scores.gather(1, order), log_prob, pad)
    return best, (order >= l2r.scores.size(1)).long()
