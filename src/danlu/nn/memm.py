"""Maximum-entropy Markov model (MEMM) and bidirectional MEMM heads for sequence labeling.

Where a CRF normalises over whole paths, an MEMM normalises *locally*, one softmax per
position over the next tag given the previous one (Su Jianlin, "CRF用过了，不妨再了解下更快的
MEMM？", 2020):

    p(y_0 | x)          = softmax_j(E[0, j] + start[j])
    p(y_t | y_{t-1}, x) = softmax_j(E[t, j] + G[y_{t-1}, j]),       t >= 1,

with emissions E (B, T, K) and a transition matrix G (K, K) [from, to], full or low rank
(``rank=r``: G = U Vᵀ, U, V of shape (K, r)). Training uses teacher forcing: the previous
tag is the gold one, so the loss -Σ_t log p(y_t | y_{t-1}, x) needs no dynamic programming
(one gather of G rows and one log-softmax, no loop over positions), which makes it faster
to train than a CRF. Decoding maximises Σ_t log p(y_t | y_{t-1}, x) with the same Viterbi as
the CRF (:mod:`danlu.decoding.viterbi`), on per-position pair scores
log p(y_t = j | y_{t-1} = i, x), a (B, T, K, K) tensor.

:class:`BiMEMM` adds the right-to-left model with the *same* G read backwards (G[i, j]
still scores tag i directly before tag j) and learned ``end`` scores,

    q(y_{L-1} | x) = softmax_i(E[L-1, i] + end[i]),
    q(y_t | y_{t+1}, x) = softmax_i(E[t, i] + G[i, y_{t+1}]),        t < L-1,

and its loss is the average of the two directions' losses. Decoding (our choice: the post
decodes with the left-to-right model only) maximises the average of both directions'
path log-probabilities, ½ Σ_t [log p(y_t | y_{t-1}) + log q(y_t | y_{t+1})], which is still
a chain score, so the same exact Viterbi applies.

``constraints`` (from :func:`~danlu.nn.transitions.allowed_transitions`) set forbidden
start, end and transition scores to -1e4 before the softmaxes (so forbidden tags get no
probability), and forbidden end tags are penalised in decoding.

Example:
    >>> memm = MEMM(5, rank=2)
    >>> emissions = torch.randn(2, 7, 5)  # (B, T, K)
    >>> mask = torch.arange(7)[None, :] < torch.tensor([[7], [4]])
    >>> loss = memm.nll(emissions, torch.randint(5, (2, 7)), mask)
    >>> tags, scores = memm.decode(emissions, mask)  # (2, 7) with -1 padding, (2,)
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from danlu.decoding.viterbi import kbest_viterbi, viterbi
from danlu.errors import UsageError
from danlu.nn._sequence_mask import check_emissions, check_mask, check_tags
from danlu.nn.sequence_loss import check_reduction, reduce_loss
from danlu.nn.transitions import FORBIDDEN, refresh_constrained, split_constraints

__all__ = ["MEMM", "BiMEMM"]


class MEMM(nn.Module):
    """Left-to-right MEMM over ``num_tags`` tags.

    Args:
        num_tags: K >= 1.
        constraints: optional allowed-move mask, (K+2, K+2) from ``allowed_transitions`` or
            (K, K); forbidden moves score -1e4 inside the softmaxes and in decoding.
        rank: None for a full (K, K) transition matrix, or r >= 1 for G = U Vᵀ.

    Attributes:
        start_transitions: (K,) scores added to the first position's logits.
        end_transitions: (K,) scores of the last tag (:class:`BiMEMM` only; None here).
        transitions: (K, K) G when ``rank`` is None; else ``transitions_u``,
            ``transitions_v``: (K, r).
    """

    _bidirectional = False

    def __init__(
        self, num_tags: int, constraints: Tensor | None = None, rank: int | None = None
    ) -> None:
        super().__init__()
        if num_tags < 1:
            raise UsageError(f"num_tags must be >= 1, got {num_tags}; count the tag labels")
        if rank is not None and rank < 1:
            raise UsageError(f"rank must be >= 1 or None (full matrix), got {rank}")
        self.num_tags, self.rank = num_tags, rank
        self.start_transitions = nn.Parameter(torch.empty(num_tags))
        # only the right-to-left model of BiMEMM has end scores
        self.end_transitions = nn.Parameter(torch.empty(num_tags)) if self._bidirectional else None
        if rank is None:
            self.transitions = nn.Parameter(torch.empty(num_tags, num_tags))
        else:
            self.transitions_u = nn.Parameter(torch.empty(num_tags, rank))
            self.transitions_v = nn.Parameter(torch.empty(num_tags, rank))
        self.reset_parameters()
        self.constrained = constraints is not None
        if constraints is None:  # everything allowed
            constraints = torch.ones(num_tags + 2, num_tags + 2, dtype=torch.bool)
        start, end, trans = split_constraints(constraints, num_tags)
        self.register_buffer("allowed_start", start)
        self.register_buffer("allowed_end", end)
        self.register_buffer("allowed_transitions", trans)
        self.register_load_state_dict_post_hook(refresh_constrained)

    def reset_parameters(self) -> None:
        """Uniform(-0.1, 0.1) start/end/G; for low rank U, V ~ U(-a, a), a = sqrt(0.1 / r)."""
        nn.init.uniform_(self.start_transitions, -0.1, 0.1)
        if self.end_transitions is not None:
            nn.init.uniform_(self.end_transitions, -0.1, 0.1)
        if self.rank is None:
            nn.init.uniform_(self.transitions, -0.1, 0.1)
        else:
            bound = (0.1 / self.rank) ** 0.5
            nn.init.uniform_(self.transitions_u, -bound, bound)
            nn.init.uniform_(self.transitions_v, -bound, bound)

    def extra_repr(self) -> str:
        return f"num_tags={self.num_tags}, rank={self.rank}, constrained={self.constrained}"

    def scores(self) -> tuple[Tensor, Tensor, Tensor]:
        """(start (K,), end (K,), G (K, K)) with forbidden moves set to -1e4."""
        g = self.transitions if self.rank is None else self.transitions_u @ self.transitions_v.t()
        start = self.start_transitions
        end = start.new_zeros(()) if self.end_transitions is None else self.end_transitions
        end = end.expand(self.num_tags)
        if not self.constrained:
            return start, end, g
        return (
            start.masked_fill(~self.allowed_start, FORBIDDEN),
            end.masked_fill(~self.allowed_end, FORBIDDEN),
            g.masked_fill(~self.allowed_transitions, FORBIDDEN),
        )

    def _check(self, emissions: Tensor, mask: Tensor | None) -> Tensor:
        check_emissions(emissions, self.num_tags)
        return check_mask(mask, emissions.shape[0], emissions.shape[1], emissions.device)

    def _left_to_right_nll(self, emissions: Tensor, tags: Tensor, mask: Tensor) -> Tensor:
        """-Σ_t log p(y_t | y_{t-1}, x) with the gold previous tag, (B,)."""
        start, _, g = self.scores()
        batch, length, k = emissions.shape
        prev = g.index_select(0, tags[:, :-1].reshape(-1)).view(batch, length - 1, k)
        context = torch.cat([start.expand(batch, 1, k), prev], 1)  # (B, T, K)
        log_p = F.log_softmax(emissions + context, dim=2)
        gold = log_p.gather(2, tags.unsqueeze(2)).squeeze(2)  # (B, T)
        return -(gold * mask).sum(1)

    def _left_to_right_pairs(self, emissions: Tensor) -> tuple[Tensor, Tensor]:
        """log p(y_0 | x) (B, K) and log p(y_t = j | y_{t-1} = i, x) (B, T, K, K)."""
        start, _, g = self.scores()
        first = F.log_softmax(emissions[:, 0] + start, dim=1)
        pairs = F.log_softmax(emissions.unsqueeze(2) + g, dim=3)  # entry 0 unused
        return first, pairs

    def _decode_scores(self, emissions: Tensor, mask: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Chain scores for Viterbi: unary (B, T, K), pairs (B, T, K, K), end (K,)."""
        first, pairs = self._left_to_right_pairs(emissions)
        unary = torch.zeros_like(emissions)
        unary[:, 0] = first
        end = torch.zeros_like(emissions[0, 0]).masked_fill(~self.allowed_end, FORBIDDEN)
        return unary, pairs, end

    def nll(
        self, emissions: Tensor, tags: Tensor, mask: Tensor | None = None, reduction: str = "mean"
    ) -> Tensor:
        """Negative log-likelihood -Σ_t log p(y_t | y_{t-1}, x) (teacher forcing): a loss.

        Args:
            emissions: (B, T, K) float.
            tags: (B, T) long gold tags; padding may hold any value.
            mask: (B, T) bool (or 0/1 integer) length mask; None = all valid.
            reduction: "mean" over sequences (default), "sum", "none" (B,), "token_mean".
        """
        check_reduction(reduction)
        mask = self._check(emissions, mask)
        check_tags(tags, mask, self.num_tags)
        losses = self._losses(emissions, tags.masked_fill(~mask, 0), mask)
        return reduce_loss(losses, mask, reduction)

    def _losses(self, emissions: Tensor, tags: Tensor, mask: Tensor) -> Tensor:
        return self._left_to_right_nll(emissions, tags, mask.to(emissions.dtype))

    def forward(
        self, emissions: Tensor, tags: Tensor, mask: Tensor | None = None, reduction: str = "mean"
    ) -> Tensor:
        """Same as :meth:`nll`: calling the module returns the loss."""
        return self.nll(emissions, tags, mask, reduction)

    @torch.no_grad()
    def decode(
        self, emissions: Tensor, mask: Tensor | None = None, top_k: int = 1
    ) -> tuple[Tensor, Tensor]:
        """Viterbi over the summed local log-probabilities; same outputs as ``CRF.decode``.

        Returns:
            top_k == 1: tags (B, T) with -1 padding and scores (B,) (path log-probability);
            top_k > 1: tags (B, k, T) and scores (B, k), best first.
        """
        if top_k < 1:
            raise UsageError(f"top_k must be >= 1, got {top_k}; ask for at least one path")
        mask = self._check(emissions, mask)
        unary, pairs, end = self._decode_scores(emissions, mask)
        if top_k == 1:
            return viterbi(unary, mask, pairs, end=end)
        return kbest_viterbi(unary, mask, pairs, top_k, end=end)


class BiMEMM(MEMM):
    """Bidirectional MEMM: left-to-right and right-to-left MEMMs sharing G, losses averaged.

    Same arguments as :class:`MEMM`; ``end_transitions`` open the right-to-left model.
    """

    _bidirectional = True

    def _right_to_left_nll(self, emissions: Tensor, tags: Tensor, mask: Tensor) -> Tensor:
        """-Σ_t log q(y_t | y_{t+1}, x) with the gold next tag, (B,)."""
        _, end, g = self.scores()
        batch, length, k = emissions.shape
        nxt = g.t().index_select(0, tags[:, 1:].reshape(-1)).view(batch, length - 1, k)
        nxt = torch.cat([nxt, nxt.new_zeros(batch, 1, k)], 1)  # (B, T, K)
        last = _last_positions(mask)  # (B, T) bool
        inner = (mask & ~last).unsqueeze(2)
        context = torch.where(inner, nxt, 0.0) + last.unsqueeze(2) * end
        log_q = F.log_softmax(emissions + context, dim=2)
        gold = log_q.gather(2, tags.unsqueeze(2)).squeeze(2)
        return -(gold * mask).sum(1)

    def _losses(self, emissions: Tensor, tags: Tensor, mask: Tensor) -> Tensor:
        maskf = mask.to(emissions.dtype)
        forward = self._left_to_right_nll(emissions, tags, maskf)
        return 0.5 * (forward + self._right_to_left_nll(emissions, tags, mask))

    def _decode_scores(self, emissions: Tensor, mask: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        _, end, g = self.scores()
        first, pairs = self._left_to_right_pairs(emissions)
        # log q(y_{t-1} = i | y_t = j, x): softmax over i of E[t-1, i] + G[i, j]
        back = F.log_softmax(emissions[:, :-1].unsqueeze(3) + g, dim=2)  # (B, T-1, K, K)
        pairs = pairs.clone()
        pairs[:, 1:] = 0.5 * (pairs[:, 1:] + back)
        opening = F.log_softmax(emissions + end, dim=2)  # q(y_{L-1} | x) at every t
        unary = torch.where(_last_positions(mask).unsqueeze(2), 0.5 * opening, 0.0)
        unary[:, 0] += 0.5 * first
        return unary, pairs, torch.zeros_like(end)


def _last_positions(mask: Tensor) -> Tensor:
    """(B, T) bool, true at each sequence's last valid position."""
    after = torch.cat([mask[:, 1:], mask.new_zeros(mask.shape[0], 1)], 1)
    return mask & ~after
