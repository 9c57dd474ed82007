"""The decoder state that search carries from one step to the next.

A model decoded by :mod:`danlu.decoding` exposes one step::

    log_probs, state = step(state, last_tokens)
    # last_tokens (N,) int64; log_probs (N, V) float, log-softmax over the vocabulary

``state`` is any nest (tuple, list, dict, or a NamedTuple) of tensors whose first
dimension is N, the rows being decoded, plus values that are not tensors (passed along
unchanged). Rows are independent, so a search can expand B sentences into B x K beams and
reorder beams between steps with one ``index_select`` per tensor: :func:`select_rows`.
A recurrent decoder keeps its hidden state batch-first, ``(N, layers, H)``; a Transformer
decoder its key/value cache ``(N, heads, T, d)``.

Example:
    >>> import torch
    >>> state = {"h": torch.arange(6.0).view(3, 2), "t": 4}
    >>> select_rows(state, torch.tensor([2, 2, 0]))["h"]
    tensor([[4., 5.],
            [4., 5.],
            [0., 1.]])
"""

from __future__ import annotations

from typing import Any

from torch import Tensor

__all__ = ["State", "select_rows"]

State = Any  # a nest of tensors with the rows first; see the module docstring


def select_rows(state: State, index: Tensor) -> State:
    """``state`` with rows ``index`` (M,) of every tensor: ``t.index_select(0, index)``."""
    if isinstance(state, Tensor):
        return state.index_select(0, index.to(state.device))
    if isinstance(state, tuple) and hasattr(state, "_fields"):  # a NamedTuple
        return type(state)(*(select_rows(s, index) for s in state))
    if isinstance(state, tuple | list):
        return type(state)(select_rows(s, index) for s in state)
    if isinstance(state, dict):
        return {k: select_rows(v, index) for k, v in state.items()}
    return state
