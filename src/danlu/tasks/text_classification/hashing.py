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

__all__ = [
    "NGRAM_PRIME",
    "char_ngram_buckets_many",
    "fnv1a32",
    "fnv1a32_many",
    "word_ngram_buckets",
]

FNV_OFFSET = 2166136261
FNV_PRIME = 16777619
NGRAM_PRIME = 116049371
_MASK32 = 0xFFFFFFFF
_CHUNK = 1 << 14  # words per step of char_ngram_buckets_many: bounds its (chars, maxn) arrays


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


def char_ngram_buckets_many(
    words: Sequence[str], minn: int, maxn: int, bucket: int
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`dictionary.char_ngram_buckets` of many words at once, vectorized over words.

    fastText's ``computeSubwords`` on the UTF-8 bytes of ``<word>``: a character is a byte
    that is not a continuation byte (``10xxxxxx``) and the continuation bytes after it; the
    n-grams of ``minn..maxn`` characters come by start, then length, without the
    one-character ``<`` and ``>``; each is stored as ``fnv1a32(n-gram) % bucket``. FNV-1a
    reads bytes left to right, so the hash of an (n+1)-gram continues its n-gram's: all
    starts of all words advance together, one character per step.

    Args:
        words: N strings.
        minn, maxn: the n-gram lengths in characters (``maxn <= 0``: none).
        bucket: number of hash buckets (>= 1).

    Returns:
        (buckets int64 (G,), offsets int64 (N + 1,)): word ``i``'s n-grams are
        ``buckets[offsets[i]:offsets[i+1]]``.

    Example:
        >>> b, off = char_ngram_buckets_many(["ab", "中"], 3, 3, 1000)
        >>> b.tolist(), off.tolist()
        ([508, 756, 616], [0, 2, 3])
    """
    if maxn > 0 and bucket < 1:
        raise ValueError(f"bucket must be >= 1 with char n-grams, got {bucket}")
    parts = [_char_ngram_chunk(words[i : i + _CHUNK], minn, maxn, bucket)
             for i in range(0, len(words), _CHUNK)]  # fmt: skip
    offsets = np.zeros(len(words) + 1, np.int64)
    if not parts:
        return np.zeros(0, np.int64), offsets
    np.cumsum(np.concatenate([sizes for _, sizes in parts]), out=offsets[1:])
    return np.concatenate([b for b, _ in parts]), offsets


def _char_ngram_chunk(
    words: Sequence[str], minn: int, maxn: int, bucket: int
) -> tuple[np.ndarray, np.ndarray]:
    """(buckets (G,), n-grams per word (N,)) of :func:`char_ngram_buckets_many`."""
    encoded = [w.encode("utf-8") for w in words]
    n = len(encoded)
    if maxn <= 0 or n == 0:
        return np.zeros(0, np.int64), np.zeros(n, np.int64)
    raw = np.frombuffer(b"<" + b"><".join(encoded) + b">", np.uint8)
    starts = np.flatnonzero((raw & 0xC0) != 0x80)  # (C,) first byte of each character
    char_len = np.diff(np.append(starts, len(raw)))
    word = np.repeat(np.arange(n), np.fromiter(map(len, encoded), np.int64, n) + 2)[starts]
    n_chars = np.bincount(word, minlength=n)
    pos = np.arange(len(starts)) - (np.cumsum(n_chars) - n_chars)[word]  # in its word
    left = n_chars[word] - pos  # characters from this one to the word's end
    signed = raw.view(np.int8).astype(np.int32).view(np.uint32)  # fastText's signed char
    h = np.full(len(starts), FNV_OFFSET, np.uint32)
    prime = np.uint32(FNV_PRIME)
    grams = np.zeros((len(starts), maxn), np.int64)  # [start, length - 1]: its bucket
    kept = np.zeros((len(starts), maxn), bool)
    alive = np.arange(len(starts))  # the starts whose n-gram of this length fits
    for length in range(1, maxn + 1):
        alive = alive[left[alive] >= length]
        last = alive + length - 1  # the character this step appends
        for k in range(int(char_len[last].max(initial=0))):  # its bytes (1 to 4)
            has = char_len[last] > k
            a = alive[has]
            h[a] = (h[a] ^ signed[starts[last[has]] + k]) * prime
        if length >= minn:
            grams[alive, length - 1] = h[alive] % np.uint32(bucket)
            # the one-character n-grams '<' and '>' are left out
            kept[alive, length - 1] = (length > 1) | ((pos[alive] > 0) & (left[alive] > 1))
    per_word = np.bincount(word, weights=kept.sum(axis=1), minlength=n).astype(np.int64)
    return grams[kept], per_word
