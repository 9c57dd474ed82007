"""Tagged sequences as arrays: vocabulary, bigrams, word features, long-sequence splitting,
padded batches.

:class:`SequenceData` is what the :class:`~danlu.train.Trainer` batches: ``get(indices)``
pads the chosen sentences to the longest of them (not to a global maximum), with a
left-aligned bool mask. Running a trained tagger over them is :mod:`.predict`.

Example:
    >>> vocab = build_vocab([list("abca")])  # ("<pad>", "<unk>", "a", "b", "c")
    >>> encode(list("abz"), {c: i for i, c in enumerate(vocab)}).tolist()
    [2, 3, 1]
"""

from __future__ import annotations

import logging
import sys
from collections import Counter
from collections.abc import Sequence
from itertools import pairwise

import numpy as np
import torch

from danlu.errors import DataError
from danlu.tasks.tagging.model import (
    BOS,
    EOS,
    PAD,
    UNK,
    WORD_POSITIONS,
    Batch,
    TaggerSpec,
)

__all__ = [
    "SequenceData",
    "bigram_ids",
    "bigram_keys",
    "build_bigram_vocab",
    "build_vocab",
    "encode",
    "repair_piece",
    "sentence_features",
    "split_long",
    "warn_or_reject",
    "word_positions",
]

_START_OK = frozenset("OBS")  # prefixes that may open a piece without breaking a span


def build_vocab(sequences: Sequence[Sequence[str]], min_count: int = 1) -> tuple[str, ...]:
    """``("<pad>", "<unk>", c1, c2, ...)``: tokens seen at least ``min_count`` times, by count."""
    counts = Counter(tok for seq in sequences for tok in seq)
    kept = sorted((t for t, c in counts.items() if c >= min_count), key=lambda t: (-counts[t], t))
    return ("<pad>", "<unk>", *kept)


def encode(tokens: Sequence[str], index: dict[str, int]) -> np.ndarray:
    """Token ids, ``UNK`` for tokens outside the vocabulary."""
    return np.array([index.get(t, UNK) for t in tokens], dtype=np.int64)


def bigram_keys(tokens: Sequence[str]) -> list[str]:
    """The L + 1 bigrams ``"a b"`` of ``<s> t_1 ... t_L </s>`` (tokens never hold spaces)."""
    padded = [BOS, *tokens, EOS]
    return [f"{a} {b}" for a, b in pairwise(padded)]


def build_bigram_vocab(sequences: Sequence[Sequence[str]], min_count: int = 2
                       ) -> tuple[str, ...]:  # fmt: skip
    """``("<pad>", "<unk>", "a b", ...)``: bigrams (boundaries included) seen ``min_count`` times.

    With ``min_count >= 2`` the rarest training bigrams are read as ``<unk>``, so the model
    learns an ``<unk>`` embedding for the unseen bigrams it meets at test time.
    """
    return build_vocab([bigram_keys(seq) for seq in sequences], min_count)


def bigram_ids(tokens: Sequence[str], index: dict[str, int]) -> np.ndarray:
    """(L, 2) ids: row t holds the ids of (t_{t-1} t_t) and (t_t t_{t+1}); ``UNK`` if unseen.

    Example: ``bigram_ids(list("ab"), idx)`` looks up ``"<s> a"``, ``"a b"``, ``"b </s>"``
    and returns ``[[id("<s> a"), id("a b")], [id("a b"), id("b </s>")]]``.
    """
    ids = np.array([index.get(k, UNK) for k in bigram_keys(tokens)], dtype=np.int64)  # (L+1,)
    return np.stack([ids[:-1], ids[1:]], axis=1)


def word_positions(tokens: Sequence[str]) -> np.ndarray:
    """jieba's B/M/E/S position of each token (1..4) in its segmentation of the joined text."""
    import jieba

    jieba.setLogLevel(logging.WARNING)
    per_char: list[int] = []
    for word in jieba.lcut("".join(tokens), HMM=True):
        if len(word) == 1:
            per_char.append(4)
        else:
            per_char.extend([1, *([2] * (len(word) - 2)), 3])
    out, pos = [], 0
    for tok in tokens:  # a multi-character token takes the position of its first char
        out.append(per_char[pos] if pos < len(per_char) else 4)
        pos += len(tok)
    assert len(WORD_POSITIONS) == 4
    return np.array(out, dtype=np.int64)


def sentence_features(
    spec: TaggerSpec, tokens: Sequence[str], bigram_index: dict[str, int]
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """The extra inputs of a whole sentence the spec asks for: jieba word positions (L,)
    and bigram ids (L, 2), or None. Computed before a long sentence is cut, so a piece
    sliced out of them keeps its true neighbours."""
    feats = None
    if spec.word_features:
        feats = word_positions(tokens) if len(tokens) else np.zeros(0, np.int64)
    bigrams = bigram_ids(tokens, bigram_index) if spec.bigrams else None
    return feats, bigrams


def _repair(tags: list[str], scheme: str) -> list[str]:
    """Make a piece cut out of a longer sequence well-formed at its two ends."""
    if not tags:
        return tags
    inside = "M" if scheme == "BMES" else "I"
    prefix, sep, kind = tags[0].partition("-")
    if prefix == inside:  # the piece opens inside a span: begin it here
        tags[0] = "B" + sep + kind
    elif prefix == "E":
        tags[0] = "S" + sep + kind
    if scheme == "BIO":  # in BIO any tag may end a span
        return tags
    prefix, sep, kind = tags[-1].partition("-")
    if prefix == "B":  # the piece closes inside a span: end it here
        tags[-1] = "S" + sep + kind
    elif prefix == inside:
        tags[-1] = "E" + sep + kind
    return tags


def split_long(
    tokens: Sequence[str],
    tags: Sequence[str],
    max_len: int,
    scheme: str,
) -> list[tuple[int, int]]:
    """Cut points ``[(start, end), ...]`` of pieces of at most ``max_len`` tokens.

    Each cut is placed at the last position that starts a new span (a tag ``O``, ``B-x``
    or ``S-x``) so no entity or word is broken; a span longer than ``max_len`` is cut
    where it must (the caller repairs the tags with :func:`repair_piece`).
    """
    n = len(tokens)
    if max_len <= 0 or n <= max_len:
        return [(0, n)]
    pieces, start = [], 0
    while n - start > max_len:
        cut = start + max_len
        for p in range(start + max_len, start, -1):
            if tags[p].partition("-")[0] in _START_OK:
                cut = p
                break
        pieces.append((start, cut))
        start = cut
    pieces.append((start, n))
    return pieces


def repair_piece(tags: Sequence[str], scheme: str) -> list[str]:
    """Tags of a piece with a broken span at either end turned into a whole span."""
    return _repair(list(tags), scheme)


def warn_or_reject(
    path: str, lines: Sequence[int], lengths: Sequence[int], max_len: int, strict: bool
) -> None:
    """Report sequences over ``max_len``: DataError with ``strict``, else one warning."""
    if not lines:
        return
    if strict:
        raise DataError(
            path, lines[0], f"sequence of {lengths[0]} tokens is longer than --max-len "
            f"{max_len}; raise --max-len or drop --strict to split it",
        )  # fmt: skip
    more = f" (and {len(lines) - 1} more)" if len(lines) > 1 else ""
    print(f"warning: {path}:{lines[0]}: sequence of {lengths[0]} tokens is longer than "
          f"--max-len {max_len}; split into pieces{more} (--strict rejects it)",
          file=sys.stderr)  # fmt: skip


class SequenceData:
    """Variable-length id sequences (and tags, word features, bigrams) batched by padding.

    Args:
        chars: one (L_i,) int64 array per sentence, L_i >= 1.
        tags: matching tag-id arrays, or None (prediction).
        feats: matching word-feature arrays, or None.
        bigrams: matching (L_i, 2) bigram-id arrays (:func:`bigram_ids`), or None.
    """

    def __init__(
        self,
        chars: list[np.ndarray],
        tags: list[np.ndarray] | None = None,
        feats: list[np.ndarray] | None = None,
        bigrams: list[np.ndarray] | None = None,
    ) -> None:
        self.chars, self.tags, self.feats, self.bigrams = chars, tags, feats, bigrams
        self.lengths = np.array([len(c) for c in chars], dtype=np.int64)
        if len(chars) and self.lengths.min() < 1:
            raise ValueError("every sequence needs at least one token")

    def __len__(self) -> int:
        return len(self.chars)

    def _pad(self, arrays: list[np.ndarray], idx: np.ndarray, width: int, fill: int
             ) -> torch.Tensor:  # fmt: skip
        trailing = arrays[idx[0]].shape[1:]  # () for ids, (2,) for bigram pairs
        out = np.full((len(idx), width, *trailing), fill, dtype=np.int64)
        for row, i in enumerate(idx):
            out[row, : self.lengths[i]] = arrays[i]
        return torch.from_numpy(out)

    def get(self, indices: np.ndarray, device: torch.device | str = "cpu") -> Batch:
        idx = np.asarray(indices)
        lengths = torch.from_numpy(self.lengths[idx])
        width = int(lengths.max())
        mask = torch.arange(width)[None, :] < lengths[:, None]  # (B, T) left-aligned
        chars = self._pad(self.chars, idx, width, PAD)
        tags = None if self.tags is None else self._pad(self.tags, idx, width, 0)
        feats = None if self.feats is None else self._pad(self.feats, idx, width, 0)
        bigrams = None if self.bigrams is None else self._pad(self.bigrams, idx, width, PAD)
        move = lambda t: None if t is None else t.to(device)  # noqa: E731
        return Batch(move(chars), move(feats), move(tags), mask.to(device), move(bigrams))
