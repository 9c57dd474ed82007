"""Attention of a recurrent decoder over the encoder states, with three score functions.

At decoder step ``t`` the query is the decoder state ``s_t``; the keys and values are the
encoder outputs ``h_1 ... h_S``. The notes' four steps:

1. score        ``e_tj = a(s_t, h_j)``                  how well source word j fits now
2. normalise    ``α_tj = softmax_j(e_tj)``              padded j get α_tj = 0
3. weight       ``α_tj · h_j``
4. sum          ``c_t = Σ_j α_tj h_j``                  the context vector of step t

=========  ===============================  ================================
score      a(s, h)                          reference
=========  ===============================  ================================
dot        ``sᵀ h``                         Luong et al., 2015
general    ``sᵀ W_a h``                     Luong et al., 2015
additive   ``vᵀ tanh(W_q s + W_k h)``       Bahdanau et al., 2015
=========  ===============================  ================================

The part of the score that depends only on ``h`` (``W_a h``, ``W_k h``) is computed once
per sentence by :meth:`SourceAttention.keys`, not at every decoding step. ``α`` is the
alignment matrix the notes draw as a heat map.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from danlu import names
from danlu.errors import UsageError
from danlu.functional.attention import dot_scores, masked_softmax, weighted_sum

__all__ = ["SCORES", "AdditiveScore", "DotScore", "GeneralScore", "SourceAttention"]


class DotScore(nn.Module):
    """``e_tj = s_tᵀ h_j`` (needs ``H_q = H_k``; no parameters)."""

    def __init__(self, query_size: int, key_size: int, hidden_size: int) -> None:
        super().__init__()
        if query_size != key_size:
            raise UsageError(
                f"the dot score needs equal decoder and encoder sizes, got {query_size} and "
                f"{key_size}; use attention='general' or 'additive'"
            )

    def keys(self, memory: Tensor) -> Tensor:
        return memory  # (N, S, H_k)

    def forward(self, query: Tensor, keys: Tensor) -> Tensor:
        return dot_scores(query, keys)  # (N, T, S)


class GeneralScore(nn.Module):
    """``e_tj = s_tᵀ W_a h_j``, with ``W_a h_j`` computed once per sentence."""

    def __init__(self, query_size: int, key_size: int, hidden_size: int) -> None:
        super().__init__()
        self.w_a = nn.Linear(key_size, query_size, bias=False)  # W_a (H_q, H_k)

    def keys(self, memory: Tensor) -> Tensor:
        return self.w_a(memory)  # (N, S, H_q)

    def forward(self, query: Tensor, keys: Tensor) -> Tensor:
        return dot_scores(query, keys)  # (N, T, S)


class AdditiveScore(nn.Module):
    """``e_tj = vᵀ tanh(W_q s_t + W_k h_j)`` (Bahdanau), ``W_k h_j`` computed once."""

    def __init__(self, query_size: int, key_size: int, hidden_size: int) -> None:
        super().__init__()
        self.w_q = nn.Linear(query_size, hidden_size, bias=False)  # W_q (A, H_q)
        self.w_k = nn.Linear(key_size, hidden_size, bias=False)  # W_k (A, H_k)
        self.v = nn.Linear(hidden_size, 1, bias=False)  # v (A,)

    def keys(self, memory: Tensor) -> Tensor:
        return self.w_k(memory)  # (N, S, A)

    def forward(self, query: Tensor, keys: Tensor) -> Tensor:
        hidden = torch.tanh(self.w_q(query).unsqueeze(2) + keys.unsqueeze(1))  # (N, T, S, A)
        return self.v(hidden).squeeze(-1)  # (N, T, S)


# name -> score module built as cls(query_size, key_size, hidden_size)
SCORES: dict[str, type[nn.Module]] = names.implement(
    names.ATTENTION_SCORES,
    {"dot": DotScore, "general": GeneralScore, "additive": AdditiveScore},
    "attention scores",
)


class SourceAttention(nn.Module):
    """The four steps with the score ``score``, one of :data:`SCORES`.

    Args:
        score: ``dot``, ``general`` or ``additive``.
        query_size: decoder state size ``H_q``.
        key_size: encoder output size ``H_k`` (``dot`` needs ``H_q = H_k``).
        hidden_size: width ``A`` of the additive score's tanh layer (default ``H_q``).

    Shapes: ``keys(memory (N, S, H_k)) -> (N, S, K)``; ``forward(query (N, T, H_q), keys,
    values (N, S, H_v), mask (N, S))`` -> ``(context (N, T, H_v), weights (N, T, S))``.

    Example:
        >>> attn = SourceAttention("additive", query_size=8, key_size=6)
        >>> memory, mask = torch.randn(2, 5, 6), torch.tensor([[1, 1, 1, 0, 0], [1] * 5]).bool()
        >>> context, weights = attn(torch.randn(2, 3, 8), attn.keys(memory), memory, mask)
        >>> context.shape, weights.shape, weights[0, :, 3:].abs().sum().item()
        (torch.Size([2, 3, 6]), torch.Size([2, 3, 5]), 0.0)
    """

    def __init__(
        self, score: str, query_size: int, key_size: int, hidden_size: int | None = None
    ) -> None:
        super().__init__()
        if score not in SCORES:
            raise UsageError(f"unknown attention score {score!r}; valid: {', '.join(SCORES)}")
        self.name = score
        self.score = SCORES[score](query_size, key_size, hidden_size or query_size)

    def keys(self, memory: Tensor) -> Tensor:
        """The query-independent part of the score (``h``, ``W_a h`` or ``W_k h``)."""
        return self.score.keys(memory)

    def forward(
        self, query: Tensor, keys: Tensor, values: Tensor, mask: Tensor
    ) -> tuple[Tensor, Tensor]:
        scores = self.score(query, keys)  # 1. e (N, T, S)
        weights = masked_softmax(scores, mask[:, None, :])  # 2. α (N, T, S), rows sum to 1
        return weighted_sum(weights, values), weights  # 3-4. c = Σ_j α_j h_j (N, T, H_v)

    def extra_repr(self) -> str:
        return f"score={self.name!r}"
