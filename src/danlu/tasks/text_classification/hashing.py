"""fastText's hashing: 32-bit FNV-1a with its signed-char quirk, and word n-gram ids.

fastText hashes a token's UTF-8 bytes with FNV-1a, but XORs each byte *after converting it
to a signed char*, so a byte ``b >= 0x80`` enters as ``0xFFFFFF00 | b`` (sign extension)::

    h = 2166136261
    for byte in token.encode("utf-8"):
        h ^= (byte - 256 if byte >= 128 else byte) mod 2**32
        h = (h * 16777619) mod 2**32

A word n-gram ``w_i .. w_{i+n-1}`` is combined in 64-bit unsigned arithmetic,
``h = h * 116049371 + hash(w_j)``, and stored in row ``nwords + h % bucket`` of the input
matrix. fastText keeps the word hashes in an ``int32`` vector, so each 32-bit hash is
*sign-extended* to 64 bits before it enters this sum (a second quirk kept here).
Out-of-vocabulary words still take part (their hash is known without a vocabulary).

Example:
    >>> fnv1a32("</s>")
    3617362777
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["NGRAM_PRIME", "fnv1a32", "fnv1a32_many", "word_ngram_buckets"]

FNV_OFFSET = 2166136261
FNV_PRIME = 16777619
NGRAM_PRIME = 116049371
_MASK32 = 0xFFFFFFFF


def fnv1a32(token: str) -> int:
    """fastText's ``Dictionary::hash`` of one token (reference implementation)."""
    h = FNV_OFFSET
    for byte in token.encode("utf-8"):
        signed = byte - 256 if byte >= 128 else byte
        h = ((h ^ (signed & _MASK32)) * FNV_PRIME) & _MASK32
    return h


def fnv1a32_many(tokens: Sequence[str]) -> np.ndarray:
    """:func:`fnv1a32` of many tokens at once, vectorized over tokens.

    Args:
        tokens: N strings.

    Returns:
        uint64 array (N,) of 32-bit hashes.
    """
    encoded = [t.encode("utf-8") for t in tokens]
    n = len(encoded)
    h = np.full(n, FNV_OFFSET, dtype=np.uint64)
    if n == 0:
        return h
    lengths = np.fromiter((len(b) for b in encoded), dtype=np.int64, count=n)
    width = int(lengths.max()) if n else 0
    if width == 0:
        return h
    # (N, width) byte matrix, padded with zeros past each token's end
    buf = np.zeros((n, width), dtype=np.uint8)
    flat = np.frombuffer(b"".join(encoded), dtype=np.uint8)
    rows = np.repeat(np.arange(n), lengths)
    starts = np.cumsum(lengths) - lengths
    cols = np.arange(flat.size) - np.repeat(starts, lengths)
    buf[rows, cols] = flat
    mask = np.uint64(_MASK32)
    prime = np.uint64(FNV_PRIME)
    order = np.argsort(-lengths, kind="stable")  # longest first: live tokens are a prefix
    sorted_len = lengths[order]
    hs = h[order]
    for col in range(width):
        live = int(np.searchsorted(-sorted_len, -col, side="left"))  # count of len > col
        # sign extension of the byte: int8 -> int64 -> the low 32 bits as uint64
        byte = buf[order[:live], col].view(np.int8).astype(np.int64).view(np.uint64) & mask
        hs[:live] = ((hs[:live] ^ byte) * prime) & mask
    h[order] = hs
    return h


def word_ngram_buckets(
    hashes: np.ndarray, line_of: np.ndarray, n: int, bucket: int
) -> tuple[np.ndarray, np.ndarray]:
    """Bucket ids (``h % bucket``, before adding ``nwords``) of all word n-grams, 2..n.

    fastText's ``addWordNgrams``: for every start ``i`` and every end ``j < i + n`` within
    the same line, ``h_ij = h_i,j-1 * 116049371 + hash(w_j)`` (uint64, wrapping).

    Args:
        hashes: uint64 or uint32 (T,) 32-bit token hashes of all lines concatenated
            (``</s>`` included).
        line_of: int64 (T,) line index of every token (non-decreasing).
        n: the ``-wordNgrams`` value (1 gives nothing).
        bucket: number of hash buckets (> 0).

    Returns:
        (bucket ids int64 (M,), line index int64 (M,)).
    """
    ids: list[np.ndarray] = []
    lines: list[np.ndarray] = []
    total = hashes.size
    # int32 -> uint64 sign extension, as fastText's std::vector<int32_t> of hashes
    hashes = hashes.astype(np.uint32).view(np.int32).astype(np.int64).view(np.uint64)
    h = hashes.copy()
    prime = np.uint64(NGRAM_PRIME)
    with np.errstate(over="ignore"):
        for span in range(1, n):
            if span >= total:
                break
            # h[i] now covers tokens i..i+span; valid only when all lie in one line
            h = h[:-1] * prime + hashes[span:]
            valid = line_of[: total - span] == line_of[span:]
            ids.append((h[valid] % np.uint64(bucket)).astype(np.int64))
            lines.append(line_of[: total - span][valid])
    if not ids:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(ids), np.concatenate(lines)
