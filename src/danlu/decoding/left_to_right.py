"""One output per row, one token per step: the loop that greedy search and sampling share.

Row r starts from BOS; at each position t the step gives log p(· | y_<t, x) for every row
still running, the constraints forbid tokens (:mod:`danlu.decoding.constraints`), and
``choose`` picks one token per row (the argmax, or a draw). A row stops at EOS or at its
maximum length; rows that stopped leave the batch (one ``select_rows`` of the state), so
the step only ever sees rows that are still running. The loop over positions is the only
Python loop.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from danlu.decoding.constraints import apply_constraints
from danlu.decoding.search import Step
from danlu.decoding.state import State, select_rows

__all__ = ["decode_rows"]


def decode_rows(
    step: Step,
    state: State,
    choose: Callable[[Tensor], Tensor],
    limits: Tensor,
    *,
    bos: int,
    eos: int,
    pad: int,
    min_len: int,
    no_repeat_ngram_size: int,
) -> tuple[Tensor, Tensor, Tensor]:
    """Decode every row of ``state`` left to right with ``choose``.

    Args:
        step: the model's decoding step.
        state: the initial state, N rows.
        choose: (A, V) constrained log-probabilities -> (A,) int64 chosen tokens.
        limits: (N,) int64 maximum length of each row's output (EOS counted).
        bos, eos, pad, min_len, no_repeat_ngram_size: see :mod:`danlu.decoding.search`.

    Returns:
        tokens: (N, max(limits)) int64, ``pad`` after each output.
        lengths: (N,) int64, EOS counted.
        log_prob: (N,) the sum of the chosen tokens' (constrained) log-probabilities.
    """
    rows, device = limits.numel(), limits.device
    longest = int(limits.max())
    tokens = torch.full((rows, longest), pad, dtype=torch.long, device=device)
    lengths = torch.zeros(rows, dtype=torch.long, device=device)
    log_prob = torch.zeros(rows, device=device)
    active = torch.arange(rows, device=device)  # (A,) rows still running
    history = tokens[:, :0]  # (A, t-1) their tokens so far
    last = torch.full((rows,), bos, dtype=torch.long, device=device)
    for t in range(1, longest + 1):
        log_probs, state = step(state, last)  # (A, V)
        log_probs = apply_constraints(
            log_probs, history, t, eos=eos, min_len=min_len,
            no_repeat_ngram_size=no_repeat_ngram_size,
        )  # fmt: skip
        token = choose(log_probs)  # (A,)
        if t == 1:
            log_prob = log_prob.to(log_probs.dtype)
        log_prob.index_add_(0, active, log_probs.gather(1, token.unsqueeze(1)).squeeze(1))
        tokens[active, t - 1] = token
        history = torch.cat([history, token.unsqueeze(1)], 1)
        ended = (token == eos) | (limits[active] == t)
        if bool(ended.any()):
            lengths[active[ended]] = t
            keep = (~ended).nonzero().squeeze(1)
            if keep.numel() == 0:
                break
            active, history, token = active[keep], history[keep], token[keep]
            state = select_rows(state, keep)
        last = token
    return tokens, lengths, log_prob
