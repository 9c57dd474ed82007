"""Constraints on the next token, applied to the step's log-probabilities by every search.

Both set the log-probability of a forbidden token to -inf and leave the others as they are
(no renormalization, as in fairseq and Hugging Face): a constrained hypothesis keeps the
model's score of its tokens.

- ``min_len``: EOS is forbidden at positions t <= min_len (t = 1 is the first output
  token), so an output has at least ``min_len`` tokens before its EOS.
- ``no_repeat_ngram_size`` n >= 1: token w is forbidden at position t when the n-gram
  (y_{t-n+1}, ..., y_{t-1}, w) already occurs in y_1 .. y_{t-1}; so no n-gram of the output
  occurs twice (n = 1: no token twice). BOS is not part of the output.

Example:
    >>> import torch
    >>> history = torch.tensor([[3, 4, 3]])  # y_1..y_3; the 2-gram (3, 4) occurred
    >>> banned_ngram_tokens(history, 2, vocab=6).nonzero().tolist()
    [[0, 4]]
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["apply_constraints", "banned_ngram_tokens"]


def banned_ngram_tokens(history: Tensor, n: int, vocab: int) -> Tensor | None:
    """(N, V) bool: the tokens that would repeat an n-gram of ``history`` (N, L); None if none.

    Vectorised over rows and positions: the L-n+1 earlier n-grams are ``unfold`` windows;
    a window whose first n-1 tokens equal the last n-1 tokens of the row bans its last
    token. Costs O(N·L·n) per step.
    """
    rows, length = history.shape
    if n < 1 or length < n:
        return None
    windows = history.unfold(1, n, 1)  # (N, W, n), W = L-n+1 earlier n-grams
    suffix = history[:, length - n + 1 :]  # (N, n-1); empty when n = 1: every window matches
    match = (windows[:, :, :-1] == suffix.unsqueeze(1)).all(2)  # (N, W)
    # a non-matching window writes into the spare column V, dropped after the scatter
    target = windows[:, :, -1].masked_fill(~match, vocab)
    banned = torch.zeros(rows, vocab + 1, dtype=torch.bool, device=history.device)
    return banned.scatter_(1, target, True)[:, :vocab]


def apply_constraints(
    log_probs: Tensor,
    history: Tensor,
    position: int,
    *,
    eos: int,
    min_len: int,
    no_repeat_ngram_size: int,
) -> Tensor:
    """``log_probs`` (N, V) with forbidden tokens at -inf (a copy when anything changes).

    Args:
        log_probs: (N, V) the step's output for position ``position`` (1-based).
        history: (N, position-1) the tokens each row generated so far.
        position: the position t of the token being chosen.
        eos, min_len, no_repeat_ngram_size: see the module docstring.
    """
    if position <= min_len:
        log_probs = log_probs.clone()
        log_probs[:, eos] = float("-inf")
    banned = banned_ngram_tokens(history, no_repeat_ngram_size, log_probs.shape[1])
    if banned is not None:
        log_probs = log_probs.masked_fill(banned, float("-inf"))
    return log_probs
