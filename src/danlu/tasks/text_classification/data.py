"""Reading fastText ``__label__`` files, with whitespace, char or jieba tokenization.

A line ``__label__sports __label__news Real Madrid wins`` holds every token that starts
with the label prefix as a label (several for multi-label) and the rest as the text.
Lines without a label are skipped and counted (as fastText does); a byte sequence that is
not UTF-8 is reported with the file and line. Training reads whitespace-tokenized files
with the compiled reader of :mod:`fast_reader` instead, which reads them the same (tested).

Lines are fastText's (``Dictionary::readWord``): a line ends at ``\\n`` only
(:data:`LINE_END`, :func:`text_lines`), not where ``str.splitlines`` would also cut it
(``\\r``, ``\\v``, ``\\f``, ``\\x1c``-``\\x1e``, U+0085, U+2028, U+2029); a final newline
starts no line. ``__label__a x\\ry\\v__label__b z`` is one line: words ``x y z``, labels
``a`` and ``b``; a CRLF file reads as an LF file (``\\r`` separates tokens).

Tokenizers:
    whitespace: fastText's rule: tokens are separated by space, tab, ``\\v``, ``\\f``, ``\\r``
        and NUL (:data:`TOKEN_SEPARATORS`); every other character, ``\\x1c`` or U+2028 or
        U+3000 too, is part of a token.
    char: every character is a token (raw Chinese needs no segmentation); a run of
        whitespace inside the text is one ``▁`` token: spaces in Chinese titles mark
        phrase boundaries (a TextCNN on THUCNews titles gains about 0.7 points with them).
    jieba: the non-label text is segmented with jieba (``jieba.lcut``).

Example:
    >>> parse_line("__label__a __label__b 你好 世界", "__label__", whitespace_tokens)
    (['你好', '世界'], ['__label__a', '__label__b'])
"""

from __future__ import annotations

import contextlib
import gc
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from danlu.errors import DataError, UsageError
from danlu.tasks.text_classification.config import TOKENIZERS

__all__ = [
    "LINE_END",
    "TOKEN_SEPARATORS",
    "LabeledCorpus",
    "ascii_spaces",
    "get_tokenizer",
    "parse_line",
    "parse_lines",
    "paused_gc",
    "read_labeled_file",
    "read_text",
    "read_text_lines",
    "require_file",
    "text_lines",
    "unsegmented_chinese",
    "whitespace_tokens",
]

LINE_END = "\n"  # fastText ends a line here only (sgd_kernel.c: BYTE_CLASS, LINE_END)
TOKEN_SEPARATORS = " \t\v\f\r\0"  # and separates tokens at these (BYTE_CLASS, SEPARATOR)
_FASTTEXT_SPACE = re.compile(f"[{re.escape(TOKEN_SEPARATORS)}]+")
# the characters str.split() cuts at that fastText does not (U+0085, U+3000, \x1c, ...)
_NON_ASCII_SPACE = re.compile(f"[^\\S{re.escape(TOKEN_SEPARATORS + LINE_END)}]")


def text_lines(text: str) -> list[str]:
    """The lines of ``text`` as fastText reads them: cut at :data:`LINE_END` only; a final
    newline starts no line.

    Example:
        >>> text_lines("__label__a x\\ry\\v__label__b z\\u2028w\\nsecond\\n")
        ['__label__a x\\ry\\x0b__label__b z\\u2028w', 'second']
    """
    lines = text.split(LINE_END)
    if lines[-1] == "":
        lines.pop()
    return lines


def read_text_lines(path: str | Path) -> list[str]:
    """:func:`text_lines` of the file ``path`` (:func:`read_text`): what ``danlu predict
    FILE`` answers, one line each."""
    return text_lines(read_text(path))


def whitespace_tokens(text: str) -> list[str]:
    """fastText's tokenization: split at space, tab, ``\\v``, ``\\f``, ``\\r``, NUL."""
    if ascii_spaces(text):
        return text.split()  # fast path: same result when only ASCII spaces occur
    return [t for t in _FASTTEXT_SPACE.split(text) if t]


SPACE_TOKEN = "\u2581"  # ▁, SentencePiece's mark for a space
_SPACES = re.compile(r"\s+")


def _char_tokens(text: str) -> list[str]:
    return [SPACE_TOKEN if c == " " else c for c in _SPACES.sub(" ", text.strip())]


def _jieba_tokens(text: str) -> list[str]:
    import jieba

    return [w for w in jieba.lcut(text) if w.strip()]


def get_tokenizer(name: str) -> Callable[[str], list[str]]:
    """The tokenizer called ``name`` (one of :data:`config.TOKENIZERS`)."""
    if name == "whitespace":
        return whitespace_tokens
    if name == "char":
        return _char_tokens
    if name == "jieba":
        import logging

        import jieba

        jieba.setLogLevel(logging.WARNING)
        return _jieba_tokens
    raise UsageError(f"unknown tokenizer {name!r}; valid: {', '.join(TOKENIZERS)}")


def parse_line(
    line: str,
    label_prefix: str,
    tokenize: Callable[[str], list[str]],
    split: Callable[[str], list[str]] = whitespace_tokens,
) -> tuple[list[str], list[str]]:
    """Split one line into (text tokens, labels); labels keep their prefix.

    ``split`` may be ``str.split`` when the text is known to hold ASCII spaces only.
    """
    parts = split(line)
    total = line.count(label_prefix)
    lead = 0  # labels usually come first: take them without testing every token
    while lead < total and lead < len(parts) and parts[lead].startswith(label_prefix):
        lead += 1
    if lead == total:
        labels, words = parts[:lead], parts[lead:]
    else:
        labels = [t for t in parts if t.startswith(label_prefix)]
        words = [t for t in parts if not t.startswith(label_prefix)]
    if tokenize is not whitespace_tokens:
        words = tokenize(" ".join(t for t in parts if not t.startswith(label_prefix)))
    return words, labels


@dataclass
class LabeledCorpus:
    """Lines of a labeled file: ``words[i]`` (no ``</s>``) and ``labels[i]`` (with prefix).

    ``skipped`` counts non-empty lines that had no label; ``ntokens`` counts every token
    read, labels and one ``</s>`` per line included (fastText's ``ntokens``).
    """

    words: list[list[str]]
    labels: list[list[str]]
    skipped: int
    ntokens: int

    @property
    def n_lines(self) -> int:
        """The lines with a label."""
        return len(self.words)


def require_file(
    path: str | Path, what: str = "input file", fix: str = "give a fastText-format file"
) -> Path:
    """``path``, checked to be a file before any work is done.

    Raises:
        UsageError: ``input file 'x.txt' does not exist (give a fastText-format file)``.
    """
    p = Path(path)
    if not p.is_file():
        state = "is a folder" if p.is_dir() else "does not exist"
        raise UsageError(f"{what} {str(path)!r} {state} ({fix})")
    return p


def read_text(path: str | Path) -> str:
    """A whole file as text; a missing file or a non-UTF-8 byte is a :class:`UsageError`."""
    raw = require_file(path).read_bytes()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise DataError(
            str(path), line, f"not UTF-8 (byte 0x{raw[exc.start]:02x}); convert the file to UTF-8"
        ) from None


# Han characters (CJK unified ideographs, extension A, compatibility ideographs)
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
UNSEGMENTED_HAN = 8  # Han characters in one token: a phrase or a sentence, not a word


def unsegmented_chinese(
    path: str | Path, label_prefix: str = "__label__", sample: int = 1000
) -> str | None:
    """A token of ``path`` that shows its Chinese text was not cut into words, or None.

    Of the first ``sample`` lines with text (at most 1 MB read), more than half hold a
    whitespace token of at least :data:`UNSEGMENTED_HAN` Han characters. Words cut by jieba
    are 1 to 4 characters (0 % of THUCNews titles cut so have such a token, 95 % of the
    raw titles do): whitespace tokenization would make each such line one rare token.

    Example:
        >>> unsegmented_chinese("raw_titles.txt")  # doctest: +SKIP
        '中华女子学院：本科层次仅1专业招男生'
    """
    with open(path, "rb") as f:
        head = f.read(1 << 20).decode("utf-8", errors="replace")
    lines = [[t for t in line.split() if not t.startswith(label_prefix)]
             for line in text_lines(head)[:sample]]  # fmt: skip
    lines = [tokens for tokens in lines if tokens]
    # per line: its first token of UNSEGMENTED_HAN Han characters or more, or None
    long = [next((t for t in ts if len(_HAN.findall(t)) >= UNSEGMENTED_HAN), None) for ts in lines]
    found = [t for t in long if t is not None]
    return found[0] if len(found) > len(lines) / 2 else None


def read_vec(path: str | Path, dim: int) -> tuple[list[str], np.ndarray]:
    """The words and vectors (N, dim) float32 of a fastText ``.vec`` file.

    The file's first line is ``COUNT DIM``, then ``word x_1 ... x_DIM`` per line (what
    ``danlu skipgram`` and fastText write); lines after the ``COUNT``-th are ignored.

    Raises:
        UsageError: a bad header, or a ``DIM`` other than ``dim`` (it names ``-dim``).
        DataError: a line that is not a word and ``DIM`` numbers (file, line).
    """
    lines = read_text_lines(path)  # a word may hold \x1c or U+2028: cut at \n only
    try:
        n, file_dim = (int(x) for x in lines[0].split())
    except (ValueError, IndexError):
        raise UsageError(f"{path}: first line must be 'COUNT DIM' of a .vec file") from None
    if file_dim != dim:
        raise UsageError(f"{path} has vectors of dimension {file_dim}; pass -dim {file_dim}")
    words: list[str] = []
    table = np.empty((min(n, len(lines) - 1), dim), np.float32)
    for number, line in enumerate(lines[1 : n + 1], start=2):
        parts = line.rstrip().split(" ")
        try:
            if len(parts) != dim + 1:
                raise ValueError
            table[len(words)] = np.array(parts[1:], dtype=np.float64)
        except ValueError:
            raise DataError(str(path), number, f"expected a word and {dim} numbers, found "
                            f"{len(parts) - 1} fields after {parts[0]!r}") from None  # fmt: skip
        words.append(parts[0])
    return words, table[: len(words)]


def load_vectors(path: str | Path, row_of: Callable[[str], int], table: np.ndarray) -> int:
    """Copy the vectors of a fastText ``.vec`` file (:func:`read_vec`) into the rows of
    ``table`` (in place): the vector of ``word`` goes to row ``row_of(word)``; words it
    maps to a negative row are skipped.

    Returns:
        The number of rows written.
    """
    words, vectors = read_vec(path, table.shape[1])
    return copy_vectors(words, vectors, row_of, table)


def copy_vectors(
    words: Sequence[str], vectors: np.ndarray, row_of: Callable[[str], int], table: np.ndarray
) -> int:
    """``table[row_of(w)] = vectors[i]`` for each ``words[i]`` with a row >= 0; the count."""
    rows = np.fromiter(map(row_of, words), np.int64, len(words))
    keep = rows >= 0
    table[rows[keep]] = vectors[keep]
    return int(keep.sum())


def read_labeled_file(
    path: str | Path, label_prefix: str = "__label__", tokenizer: str = "whitespace"
) -> LabeledCorpus:
    """Read a fastText training/test file (see the module docstring)."""
    text = read_text(path)
    return parse_lines(text_lines(text), label_prefix, tokenizer, ascii_spaces(text))


def ascii_spaces(text: str) -> bool:
    """True when ``str.split`` splits ``text`` exactly as fastText would."""
    return _NON_ASCII_SPACE.search(text) is None and "\0" not in text


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """Pause Python's cyclic garbage collector (restoring its state after).

    Reading a corpus creates a list per line and a string per token and no reference
    cycles; each automatic collection traverses all of them again, which here doubled
    the time to read, count and encode 45,000 lines.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def parse_lines(
    lines: Iterable[str],
    label_prefix: str = "__label__",
    tokenizer: str = "whitespace",
    plain: bool = False,
) -> LabeledCorpus:
    """:func:`read_labeled_file` on lines already in memory (``plain``: see
    :func:`ascii_spaces`)."""
    with paused_gc():
        return _parse_lines(lines, label_prefix, tokenizer, plain)


def _parse_lines(
    lines: Iterable[str], label_prefix: str, tokenizer: str, plain: bool
) -> LabeledCorpus:
    tokenize = get_tokenizer(tokenizer)
    split = str.split if plain else whitespace_tokens
    words: list[list[str]] = []
    labels: list[list[str]] = []
    skipped = 0
    ntokens = 0
    simple = plain and tokenize is whitespace_tokens
    for line in lines:
        if simple:  # the common line: one label, first (parse_line gives the same)
            parts = line.split()
            if parts and parts[0].startswith(label_prefix) and line.count(label_prefix) == 1:
                labels.append(parts[:1])
                words.append(parts[1:])
                ntokens += len(parts) + 1
                continue
        w, lab = parse_line(line, label_prefix, tokenize, split)
        ntokens += len(w) + len(lab) + 1
        if not lab:
            skipped += bool(w)
            continue
        words.append(w)
        labels.append(lab)
    return LabeledCorpus(words, labels, skipped, ntokens)
