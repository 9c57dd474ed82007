"""Lines of plain text turned into a dictionary's token ids in C, without token strings.

Predicting a list of texts spent most of its Python time cutting each text into token
strings (``str.split``) and looking each string up in a dict. Where the texts' only spaces
are ASCII (`` \\t\\v\\f\\r``; no NUL, no newline inside a text: :func:`data.ascii_spaces`),
``str.split`` gives fastText's tokens, and ``line_tokens`` of ``sgd_kernel.c`` finds the
same on the UTF-8 bytes of the texts joined by newlines::

    tokens(line) = the maximal runs of bytes other than ' ', '\\t', '\\v', '\\f', '\\r'
    id(token)    = the row of the dictionary word with the same bytes, else -1
    hash(token)  = fnv1a32(its bytes)                          (hashing.py)

The words are looked up in an open-addressing table keyed by that hash
(:class:`VocabTable`, built once per dictionary), and :meth:`Dictionary.encode_ids` makes
the rows from the ids and hashes, as it does from token strings: the same rows.

Example:
    >>> lines = PlainLines(["体育 新闻", "财经"])
    >>> lines[0], len(lines[1:])
    (['体育', '新闻'], 1)
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import overload

import numpy as np

from danlu.tasks.text_classification.data import ascii_spaces
from danlu.tasks.text_classification.dictionary import Dictionary
from danlu.tasks.text_classification.sgd_kernel import Kernel, load, pointer

__all__ = ["PlainLines", "VocabTable", "plain_lines"]


class PlainLines(Sequence[list[str]]):
    """Texts whose tokens are ``text.split()`` (the caller checked it, see the module
    docstring); item ``i`` is that list, a slice is again :class:`PlainLines`. A fastText
    model encodes them in C (:class:`VocabTable`); any other reader sees token lists."""

    def __init__(self, texts: Sequence[str]) -> None:
        self.texts = texts

    @classmethod
    def joined(cls, token_lists: Sequence[Sequence[str]]) -> PlainLines:
        """Lines of tokens that hold none of `` \t\v\f\r\n`` (the whitespace
        tokenizer's), each joined by spaces: the same tokens, encoded in C."""
        return cls([" ".join(tokens) for tokens in token_lists])

    def __len__(self) -> int:
        return len(self.texts)

    @overload
    def __getitem__(self, i: int) -> list[str]: ...
    @overload
    def __getitem__(self, i: slice) -> PlainLines: ...
    def __getitem__(self, i: int | slice) -> list[str] | PlainLines:
        if isinstance(i, slice):
            return PlainLines(self.texts[i])
        return self.texts[i].split()

    def __iter__(self) -> Iterator[list[str]]:
        return (text.split() for text in self.texts)


def plain_lines(texts: Sequence[str], label_prefix: str) -> PlainLines | None:
    """``texts`` as :class:`PlainLines` where ``str.split`` gives the whitespace tokenizer's
    tokens and no label: no text holds the label prefix or a newline, and every space is
    ASCII (:func:`data.ascii_spaces`); else None (one check for the whole list)."""
    joined = "\n".join(texts)
    if label_prefix in joined or joined.count("\n") != len(texts) - 1:
        return None
    return PlainLines(texts) if ascii_spaces(joined) else None


@dataclass
class VocabTable:
    """A dictionary's words in the kernel's hash table (``vocab_table``): the words'
    UTF-8 bytes end to end, word ``i`` at ``words[first[i]:first[i + 1]]``, their hashes,
    and ``2 ** bits`` slots of word ids (-1: empty), at most half full."""

    dictionary: Dictionary
    kernel: Kernel
    words: np.ndarray  # uint8 (bytes,)
    first: np.ndarray  # int64 (nwords + 1,)
    hash: np.ndarray  # uint32 (nwords,)
    slot: np.ndarray  # int32 (2 ** bits,)
    bits: int

    @classmethod
    def build(cls, dictionary: Dictionary) -> VocabTable | None:
        """The table of ``dictionary``'s words; None where the kernel does not build, or
        where a word holds a newline or is not valid UTF-8 (a lone surrogate)."""
        kernel, n = load(), dictionary.nwords
        joined = "\n".join(dictionary.words)
        if kernel is None or n == 0 or joined.count("\n") != n - 1:
            return None
        try:
            buf = np.frombuffer(joined.encode("utf-8"), np.uint8)
        except UnicodeEncodeError:
            return None
        newline = buf == ord("\n")
        first = np.empty(n + 1, np.int64)  # word i: its bytes less the i newlines before
        first[0], first[n] = 0, len(buf) - (n - 1)
        first[1:n] = np.flatnonzero(newline) + 1 - np.arange(1, n)
        words = buf[~newline]
        bits = max(4, (2 * n).bit_length())  # 2^bits >= 2 n + 1: at most half full
        hashes = np.empty(n, np.uint32)
        slot = np.empty(1 << bits, np.int32)
        kernel.vocab_table(pointer(words, np.uint8), pointer(first, np.int64), n,
                           pointer(hashes, np.uint32), pointer(slot, np.int32), bits)  # fmt: skip
        return cls(dictionary, kernel, words, first, hashes, slot, bits)

    def encode(self, lines: PlainLines) -> tuple[np.ndarray, np.ndarray] | None:
        """:meth:`Dictionary.encode` of ``lines``: (rows int64 (R,), offsets int64 (L + 1,));
        None where the text is not valid UTF-8 (the caller then takes the Python path)."""
        try:
            text = "\n".join(lines.texts).encode("utf-8")
        except UnicodeEncodeError:
            return None
        room = len(text) // 2 + 1  # a token and its separator take two bytes at least
        ids = np.empty(room, np.int64)
        hashes = np.empty(room, np.uint32)
        raw_len = np.empty(len(lines), np.int64)
        n = self.kernel.line_tokens(
            text, len(text), len(lines), pointer(self.words, np.uint8),
            pointer(self.first, np.int64), pointer(self.hash, np.uint32),
            pointer(self.slot, np.int32), self.bits, pointer(ids, np.int64),
            pointer(hashes, np.uint32), pointer(raw_len, np.int64),
        )  # fmt: skip
        return self.dictionary.encode_ids(ids[:n], raw_len, _Hashed(hashes[:n]))


@dataclass
class _Hashed:
    """:class:`dictionary.Tokens` known by their hashes only (no char n-grams)."""

    token_hashes: np.ndarray  # uint32 (T,)

    def distinct(self) -> tuple[list[str], np.ndarray]:
        raise NotImplementedError("char n-grams need the token strings")

    def hashes(self, ids: np.ndarray) -> np.ndarray:
        return self.token_hashes.astype(np.uint64)
