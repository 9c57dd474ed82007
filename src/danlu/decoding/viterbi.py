"""Viterbi and k-best Viterbi decoding of chain-structured scores, batched on tensors.

A chain model scores a tag path y_0..y_{L-1} of a sequence of length L as

    s(y) = start[y_0] + Σ_{t<L} unary[t, y_t] + Σ_{1≤t<L} pair_t[y_{t-1}, y_t] + end[y_{L-1}]

(the CRF: unary = emissions, pair_t = transitions for every t; the MEMM: sums of local log
probabilities, see :mod:`danlu.nn.memm`). Viterbi keeps, for every state j at position t,
the best score of a path ending in j (δ_t(j) = max_i δ_{t-1}(i) + pair_t[i, j] + unary[t, j])
and a back-pointer to the argmax i; the best path is read backwards from the best final
state. The k-best variant keeps the k best (score, back-pointer) pairs per state and merges
the K·k candidates of each state with ``topk``.

Everything runs on tensors, batched over sequences of different lengths, with no Python loop
over sequences and no ``.item()``: one backward pass over positions T-1..0 with a few
tensor ops per step recovers every sequence's path (:func:`viterbi` recomputes the one
back-pointer it needs from the stored scores, see there; :func:`kbest_viterbi` stores
back-pointers and follows them with :func:`backtrack`, one ``gather`` per step). In the
k-best variant a padded step keeps each state's scores and points back to itself (an
identity back-pointer), so paths pass through padding unchanged. Positions after a
sequence's length are -1 in the output.

Example:
    >>> unary = torch.randn(2, 4, 3)  # (B, T, K)
    >>> mask = torch.tensor([[1, 1, 1, 1], [1, 1, 0, 0]], dtype=torch.bool)
    >>> tags, scores = viterbi(unary, mask, torch.randn(3, 3))
    >>> tags[1, 2:].tolist()
    [-1, -1]
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["backtrack", "kbest_viterbi", "viterbi"]


def _pair(transitions: Tensor, t: int) -> Tensor:
    """Pairwise scores into position t: (K, K) shared, or (B, K, K) from a (B, T, K, K)."""
    return transitions if transitions.dim() == 2 else transitions[:, t]


def _edges(unary: Tensor, start: Tensor | None, end: Tensor | None) -> tuple[Tensor, Tensor]:
    zeros = unary.new_zeros(unary.shape[-1])
    return (zeros if start is None else start), (zeros if end is None else end)


def backtrack(backpointers: Tensor, last: Tensor) -> Tensor:
    """Follow back-pointers from the last position to the first, for a whole batch at once.

    Args:
        backpointers: (T, B, S) long; ``backpointers[t, b, s]`` is the state at position t-1
            on the best path reaching state s at position t (row 0 is unused).
        last: (B, N) long, the N states to start from at position T-1.

    Returns:
        (B, N, T) long: the state at each position of each of the N paths.
    """
    length = backpointers.shape[0]
    states = last.new_empty((length, *last.shape))  # (T, B, N)
    cur = last
    for t in range(length - 1, 0, -1):
        states[t] = cur
        cur = backpointers[t].gather(1, cur)
    states[0] = cur
    return states.permute(1, 2, 0)


def viterbi(
    unary: Tensor,
    mask: Tensor,
    transitions: Tensor,
    start: Tensor | None = None,
    end: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """Best path of a chain model for every sequence of a batch.

    Layout for speed: the forward pass works on all B rows at every position (no masking:
    a sequence's δ after its end is never read), with δ_t stored as (K, B) so that the
    candidates δ_{t-1}(i) + pair[i, j] form a contiguous (K_from, K_to, B) tensor and the max
    over i is a cheap vectorised outer reduction (``max`` with indices over an inner
    dimension costs several times more). Only the scores δ_t are kept; back-tracking
    recomputes the one back-pointer it needs, y_{t-1} = argmax_i δ_{t-1}(i) + pair[i, y_t],
    an (B, K) argmax per step. Each sequence starts at its own last position: from there to
    T-1, δ is replaced by a one-hot (0 at the best last tag, -inf elsewhere), so the argmax
    keeps that tag through the padding without any per-step masking.

    Args:
        unary: (B, T, K) per-position scores.
        mask: (B, T) bool length mask (left-aligned, every row has length >= 1; not checked).
        transitions: (K, K) [from, to] scores shared by all positions, or (B, T, K, K)
            per-position scores (entry t scores the move into position t; entry 0 unused).
        start: (K,) scores of the first tag, default 0.
        end: (K,) scores of the last tag, default 0.

    Returns:
        tags: (B, T) long, the best path, -1 after each sequence's length.
        scores: (B,) its score s(y).
    """
    batch, length, k = unary.shape
    start, end = _edges(unary, start, end)
    shared = transitions.dim() == 2
    # pair scores as (K_from, K_to, 1) shared, or (T, K_from, K_to, B) per position
    pairs = transitions.unsqueeze(2) if shared else transitions.permute(1, 2, 3, 0).contiguous()
    unaries = unary.permute(1, 2, 0).unbind(0)  # T views (K, B); unbind beats indexing
    delta = unary.new_empty(length, k, batch)  # δ_t as (K, B)
    deltas = delta.unbind(0)
    froms = delta.unsqueeze(2).unbind(0)  # the same δ_t as (K_from, 1, B), views made once
    torch.add(unaries[0], start.unsqueeze(1), out=deltas[0])
    cand = unary.new_empty(k, k, batch)
    for t in range(1, length):
        pair = pairs if shared else pairs[t]
        now = deltas[t]
        # δ_t(j) = max_i δ_{t-1}(i) + pair[i, j] + unary_t(j)
        torch.amax(torch.add(froms[t - 1], pair, out=cand), 0, out=now)
        now.add_(unaries[t])
    lengths = mask.sum(1)
    rows = torch.arange(batch, device=unary.device)
    scores, last = (delta[lengths - 1, :, rows] + end).max(1)  # (B,): each sequence's own end
    # From each sequence's last position on, δ says "stay on the best last tag".
    stay = torch.full_like(deltas[0], float("-inf")).scatter_(0, last.unsqueeze(0), 0.0)
    done = ~mask.t()  # (T, B)
    done[lengths - 1, rows] = True
    deltas = torch.where(done.unsqueeze(1), stay, delta).transpose(1, 2).unbind(0)  # (B, K)
    tags = torch.empty(length, batch, dtype=torch.long, device=unary.device)
    tags[-1] = last
    rows_of_tags = tags.unbind(0)
    to_from = transitions.t().contiguous() if shared else transitions
    for t in range(length - 1, 0, -1):
        cur = rows_of_tags[t]
        if shared:
            into = to_from.index_select(0, cur)  # (B, K_from): scores of moves into y_t
        else:
            index = cur.view(batch, 1, 1).expand(batch, k, 1)
            into = to_from[:, t].gather(2, index).squeeze(2)
        torch.argmax(into.add_(deltas[t - 1]), 1, out=rows_of_tags[t - 1])
    return tags.t().masked_fill(~mask, -1), scores


def kbest_viterbi(
    unary: Tensor,
    mask: Tensor,
    transitions: Tensor,
    k: int,
    start: Tensor | None = None,
    end: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """The ``k`` best paths of a chain model, best first, for every sequence of a batch.

    Each state keeps its k best partial paths; at each step the K·k candidates reaching a
    state (every predecessor state × every kept rank) are merged with one ``topk``. When a
    sequence has fewer than k distinct paths the missing ones get score -inf and tags -1.

    Args:
        unary, mask, transitions, start, end: as in :func:`viterbi`.
        k: number of paths, >= 1.

    Returns:
        tags: (B, k, T) long, -1 after each sequence's length and for missing paths.
        scores: (B, k) path scores, descending.
    """
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    batch, length, num = unary.shape
    start, end = _edges(unary, start, end)
    # score[b, j, r]: r-th best partial path ending in state j; ranks >= 1 start empty (-inf).
    score = unary.new_full((batch, num, k), float("-inf"))
    score[:, :, 0] = unary[:, 0] + start
    # A back-pointer is a flat index state * k + rank into the previous (K, k) table.
    pointers = torch.zeros(length, batch, num * k, dtype=torch.long, device=unary.device)
    for t in range(1, length):
        pair = _pair(transitions, t)  # (K, K) or (B, K, K)
        cand = score.unsqueeze(3) + pair.unsqueeze(-2)  # (B, K_from, k, K_to)
        best, idx = cand.reshape(batch, num * k, num).topk(k, dim=1)  # (B, k, K_to)
        new = best.transpose(1, 2) + unary[:, t].unsqueeze(2)  # (B, K_to, k)
        keep = mask[:, t].view(batch, 1, 1)
        score = torch.where(keep, new, score)
        pointers[t] = idx.transpose(1, 2).reshape(batch, num * k)
    identity = torch.arange(num * k, device=unary.device).expand(length, batch, num * k)
    pointers = torch.where(mask.t().unsqueeze(2), pointers, identity)
    final = (score + end.unsqueeze(1)).reshape(batch, num * k)
    scores, last = final.topk(k, dim=1)  # (B, k), flat state * k + rank
    paths = backtrack(pointers, last) // k  # (B, k, T) states
    missing = torch.isinf(scores) & (scores < 0)
    paths = paths.masked_fill_(~mask.unsqueeze(1) | missing.unsqueeze(2), -1)
    return paths, scores
