"""Pairs as id arrays, and training batches of similar lengths.

A target ``y_1 .. y_n`` is trained teacher-forced: the decoder reads ``BOS y_1 .. y_n``
(``tgt_in``) and predicts ``y_1 .. y_n EOS`` (``tgt_out``), both right-padded with ``PAD``.

Batches are *groups*: the training pairs sorted by target then source length (ties in a
seeded random order) and cut into runs of ``--batch-size`` sentences (or of about
``--batch-tokens`` target tokens), so a batch holds sentences of about one length and
little padding. The groups stay fixed, as fairseq's batches do; :class:`PairData` hands
them to the Trainer as its global batches (:meth:`PairData.batches`, a new order every
epoch), and under torchrun each process takes its slice of the group. The loss is a mean
over target tokens, and each process's share is weighted by its tokens
(:meth:`PairData.loss_units`), so N processes take the very step one process takes.

Example:
    >>> data = PairData([np.array([5, 6]), np.array([7])], [np.array([8]), np.array([9, 9])],
    ...                 batch_size=2)
    >>> batch = data.get(np.array([0, 1]))
    >>> batch.tgt_in.tolist(), batch.tgt_out.tolist()
    ([[2, 8, 0], [2, 9, 9]], [[8, 3, 0], [9, 9, 3]])
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from typing import NamedTuple

import numpy as np
import torch
from torch import Tensor

from danlu.decoding import reverse_padded
from danlu.tasks.translation.data import BOS, EOS, PAD, Vocab

__all__ = ["Batch", "GroupBatches", "PairData", "both_directions", "length_groups",
           "pad_rows", "to_ids", "truncate"]  # fmt: skip


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

    Each group holds ``batch_size`` sentences, or with ``batch_tokens`` as many as keep
    ``sentences x (longest target + 1)`` within ``batch_tokens``; every group has at least
    ``parts`` sentences (one per torchrun process: a smaller one joins its neighbour).
    """
    n = len(src_lengths)
    if n < parts:
        raise ValueError(f"{n} sentences cannot fill {parts} parts of a batch")
    ties = np.random.default_rng(seed).random(n)
    order = np.lexsort((ties, src_lengths, tgt_lengths))  # by target, then source length
    groups: list[np.ndarray] = []
    if batch_tokens:
        start, widest = 0, 0
        for k, i in enumerate(order):
            widest = max(widest, int(tgt_lengths[i]) + 1)
            if k - start >= parts and (k - start + 1) * widest > batch_tokens:
                groups.append(order[start:k])
                start, widest = k, int(tgt_lengths[i]) + 1
        groups.append(order[start:])
    else:
        size = max(batch_size, parts)
        groups = [order[k : k + size] for k in range(0, n, size)]
    if len(groups) > 1 and len(groups[-1]) < parts:  # the short tail joins the one before
        groups[-2:] = [np.concatenate(groups[-2:])]
    return groups


class GroupBatches:
    """Fixed groups of item indices as a Trainer's global batches, in a new seeded order
    every epoch (the interface of :class:`danlu.data.sampler.EpochBatches`)."""

    def __init__(self, groups: list[np.ndarray], seed: int = 0) -> None:
        self.groups, self.seed = groups, seed

    def __len__(self) -> int:
        return len(self.groups)

    def epoch(self, epoch: int, start: int = 0) -> Iterator[np.ndarray]:
        order = np.random.default_rng([self.seed, epoch]).permutation(len(self.groups))
        for b in range(start, len(self.groups)):
            yield self.groups[order[b]]


class PairData:
    """Source and target id arrays: the Trainer's items are the sentences, its batches the
    length groups.

    Args:
        src: one (S_i,) int64 array per pair, S_i >= 1.
        tgt: one (T_i,) int64 array per pair (no BOS/EOS: they are added here).
        batch_size, batch_tokens, parts, seed: the groups, see :func:`length_groups`.

    ``get(indices)`` pads those sentences into one :class:`Batch`.
    """

    def __init__(self, src: list[np.ndarray], tgt: list[np.ndarray], batch_size: int,
                 batch_tokens: int = 0, parts: int = 1, seed: int = 0) -> None:  # fmt: skip
        self.src = src
        self.tgt_in = [np.concatenate([[BOS], t]).astype(np.int64) for t in tgt]
        self.tgt_out = [np.concatenate([t, [EOS]]).astype(np.int64) for t in tgt]
        src_len = np.array([len(s) for s in src])
        tgt_len = np.array([len(t) for t in tgt])
        self.targets = tgt_len + 1  # (N,) tokens each sentence adds to the loss (EOS too)
        self.groups = length_groups(src_len, tgt_len, batch_size, batch_tokens, parts, seed)

    def __len__(self) -> int:
        return len(self.src)

    def batches(self, seed: int) -> GroupBatches:
        """The global batches: the length groups, reshuffled every epoch."""
        return GroupBatches(self.groups, seed)

    def loss_units(self, indices: np.ndarray) -> int:
        """Target tokens of those sentences: what the loss is a mean over."""
        return int(self.targets[np.asarray(indices, dtype=np.int64)].sum())

    def get(self, indices: np.ndarray, device: torch.device | str = "cpu") -> Batch:
        rows = np.asarray(indices, dtype=np.int64).reshape(-1)
        src = pad_rows([self.src[i] for i in rows])
        tgt_in = pad_rows([self.tgt_in[i] for i in rows])
        tgt_out = pad_rows([self.tgt_out[i] for i in rows])
        return Batch(src.to(device), (src != PAD).to(device), tgt_in.to(device),
                     tgt_out.to(device))  # fmt: skip
