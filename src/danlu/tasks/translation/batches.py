"""Pairs as id arrays, and training batches of similar lengths.

A target ``y_1 .. y_n`` is trained teacher-forced: the decoder reads ``BOS y_1 .. y_n``
(``tgt_in``) and predicts ``y_1 .. y_n EOS`` (``tgt_out``), both right-padded with ``PAD``.

Batches are built from *groups*: the training pairs sorted by target then source length
(ties in a seeded random order) and cut into runs of ``--batch-size`` sentences (or of
about ``--batch-tokens`` target tokens), so a batch holds sentences of about one length
and little padding. :class:`PairData` offers the groups to the Trainer as its items; the
Trainer shuffles their order every epoch and takes one group per process per step (under
torchrun each group is ``1/world`` of the batch, so a step still sees ``--batch-size``
sentences). The groups themselves stay fixed, as fairseq's batches do.

Example:
    >>> data = PairData([np.array([5, 6]), np.array([7])], [np.array([8]), np.array([9, 9])],
    ...                 batch_size=2)
    >>> batch = data.get(np.array([0]))
    >>> batch.tgt_in.tolist(), batch.tgt_out.tolist()
    ([[2, 8, 0], [2, 9, 9]], [[8, 3, 0], [9, 9, 3]])
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import torch
from torch import Tensor

from danlu.decoding import reverse_padded
from danlu.tasks.translation.data import BOS, EOS, PAD, Vocab

__all__ = ["Batch", "PairData", "both_directions", "length_groups", "pad_rows", "to_ids",
           "truncate"]  # fmt: skip


class Batch(NamedTuple):
    """A padded training batch."""

    src: Tensor  # (B, S) int64 source ids, right-padded with PAD
    src_mask: Tensor  # (B, S) bool, True at real tokens
    tgt_in: Tensor  # (B, T) BOS y_1 .. y_n, padded
    tgt_out: Tensor  # (B, T) y_1 .. y_n EOS, padded


def both_directions(batch: Batch) -> Batch:
    """The batch of a bidirectional model: ``tgt_in``/``tgt_out`` become ``(B, T, 2)``, the
    L2R pair as it is at ``[..., 0]`` and the reversed one at ``[..., 1]``: the decoder reads
    ``BOS y_n .. y_1`` and predicts ``y_n .. y_1 EOS`` (padding stays where it is).

    Example:
        >>> b = Batch(torch.tensor([[5]]), torch.tensor([[True]]), torch.tensor([[2, 7, 8]]),
        ...           torch.tensor([[7, 8, 3]]))
        >>> both_directions(b).tgt_in[0].T.tolist(), both_directions(b).tgt_out[0].T.tolist()
        ([[2, 7, 8], [2, 8, 7]], [[7, 8, 3], [8, 7, 3]])
    """
    n = (batch.tgt_out != PAD).sum(1) - 1  # (B,) tokens before EOS
    r2l_out = reverse_padded(batch.tgt_out, n)
    r2l_in = torch.cat([batch.tgt_in[:, :1], reverse_padded(batch.tgt_in[:, 1:], n)], 1)
    return batch._replace(tgt_in=torch.stack([batch.tgt_in, r2l_in], -1),
                          tgt_out=torch.stack([batch.tgt_out, r2l_out], -1))  # fmt: skip


def truncate(seqs: Sequence[list[str]], max_len: int, what: str, where: Sequence[str]
             ) -> list[list[str]]:  # fmt: skip
    """Token lists cut to ``max_len``; one warning on stderr names the first one cut
    (``where[i]`` says where sentence i comes from, e.g. ``train.tsv:12``) and counts the rest.
    """
    long = [i for i, s in enumerate(seqs) if len(s) > max_len]
    if long:
        first = long[0]
        more = f" (and {len(long) - 1} more)" if len(long) > 1 else ""
        print(f"warning: {where[first]}: {what} of {len(seqs[first])} tokens is longer than "
              f"--max-len {max_len}; truncated{more}", file=sys.stderr)  # fmt: skip
    return [s[:max_len] for s in seqs]


def to_ids(seqs: Sequence[Sequence[str]], vocab: Vocab) -> list[np.ndarray]:
    """Token lists as int64 id arrays (unknown tokens: ``UNK``)."""
    return [np.array(vocab.ids(s), dtype=np.int64) for s in seqs]


def pad_rows(rows: Sequence[np.ndarray], fill: int = PAD) -> Tensor:
    """(B, longest) int64 tensor of ``rows``, right-padded with ``fill``."""
    width = max(len(r) for r in rows)
    out = np.full((len(rows), width), fill, dtype=np.int64)
    for i, row in enumerate(rows):
        out[i, : len(row)] = row
    return torch.from_numpy(out)


def length_groups(src_lengths: np.ndarray, tgt_lengths: np.ndarray, batch_size: int,
                  batch_tokens: int = 0, parts: int = 1, seed: int = 0
                  ) -> list[np.ndarray]:  # fmt: skip
    """Sentence indices cut into groups of similar lengths (see the module docstring).

    Each group holds ``batch_size / parts`` sentences, or with ``batch_tokens`` as many as
    keep ``sentences x (longest target + 1)`` within ``batch_tokens / parts``; the number
    of groups is a multiple of ``parts`` (the largest are halved until it is).
    """
    n = len(src_lengths)
    ties = np.random.default_rng(seed).random(n)
    order = np.lexsort((ties, src_lengths, tgt_lengths))  # by target, then source length
    groups: list[np.ndarray] = []
    if batch_tokens:
        budget, start, widest = max(batch_tokens // parts, 1), 0, 0
        for k, i in enumerate(order):
            widest = max(widest, int(tgt_lengths[i]) + 1)
            if k > start and (k - start + 1) * widest > budget:
                groups.append(order[start:k])
                start, widest = k, int(tgt_lengths[i]) + 1
        groups.append(order[start:])
    else:
        size = max(batch_size // parts, 1)
        groups = [order[k : k + size] for k in range(0, n, size)]
    while len(groups) % parts:
        big = max(range(len(groups)), key=lambda g: len(groups[g]))
        if len(groups[big]) < 2:
            raise ValueError(f"{n} sentences cannot fill {parts} parts of a batch")
        half = len(groups[big]) // 2
        groups[big : big + 1] = [groups[big][:half], groups[big][half:]]
    return groups


class PairData:
    """Source and target id arrays offered to the Trainer as length groups.

    Args:
        src: one (S_i,) int64 array per pair, S_i >= 1.
        tgt: one (T_i,) int64 array per pair (no BOS/EOS: they are added here).
        batch_size, batch_tokens, parts, seed: the groups, see :func:`length_groups`.

    ``len(data)`` is the number of groups; ``get(indices)`` pads the sentences of those
    groups into one :class:`Batch`.
    """

    def __init__(self, src: list[np.ndarray], tgt: list[np.ndarray], batch_size: int,
                 batch_tokens: int = 0, parts: int = 1, seed: int = 0) -> None:  # fmt: skip
        self.src = src
        self.tgt_in = [np.concatenate([[BOS], t]).astype(np.int64) for t in tgt]
        self.tgt_out = [np.concatenate([t, [EOS]]).astype(np.int64) for t in tgt]
        src_len = np.array([len(s) for s in src])
        tgt_len = np.array([len(t) for t in tgt])
        self.groups = length_groups(src_len, tgt_len, batch_size, batch_tokens, parts, seed)
        self.sentences = len(src)
        self.tokens = int(tgt_len.sum()) + len(tgt)  # target tokens with EOS, per epoch

    def __len__(self) -> int:
        return len(self.groups)

    def examples(self, indices: np.ndarray) -> int:
        """Sentences in the groups ``indices`` (what the Trainer's speed counts)."""
        return sum(len(self.groups[i]) for i in np.asarray(indices).reshape(-1))

    def get(self, indices: np.ndarray, device: torch.device | str = "cpu") -> Batch:
        rows = np.concatenate([self.groups[i] for i in np.asarray(indices).reshape(-1)])
        src = pad_rows([self.src[i] for i in rows])
        tgt_in = pad_rows([self.tgt_in[i] for i in rows])
        tgt_out = pad_rows([self.tgt_out[i] for i in rows])
        return Batch(src.to(device), (src != PAD).to(device), tgt_in.to(device),
                     tgt_out.to(device))  # fmt: skip
