"""Word-segmented Chinese text: the SIGHAN format, People's Daily ``word/TAG``, BMES tags.

Segmentation as tagging: each character gets ``B`` (begins a word), ``M`` (inside),
``E`` (ends a word) or ``S`` (a one-character word), so ``我们 爱 北京`` is
``B E S B E``; :func:`words_to_tags` and :func:`tags_to_words` convert both ways
(the latter accepts any tag sequence: a word ends after ``E``/``S`` or before ``B``/``S``).

Formats (UTF-8, :class:`danlu.errors.DataError` with file and line for bad input):

- SIGHAN: one sentence per line, words separated by spaces (SIGHAN 2008 SXU uses two).
  An empty line is an empty sentence: skipped with a warning, an error with ``strict``.
- People's Daily 1998 (PKU): tokens ``word/TAG`` separated by spaces, one paragraph per
  line; a bracketed compound ``[中国/ns 政府/n]nt`` is several words with one outer tag.
  :func:`read_people_daily` keeps the words, their POS tags and the named entities of the
  nr/ns/nt tags (nr→PER, ns→LOC, nt→ORG; adjacent nr tokens are one person, ``江/nr 泽民/nr``;
  a bracket tagged ns or nt is one entity). Paragraphs are split after 。！？ by default.

Example:
    >>> words_to_tags(["我们", "爱", "北京"])
    ['B', 'E', 'S', 'B', 'E']
    >>> tags_to_words("我们爱北京", ["B", "E", "S", "B", "E"])
    ['我们', '爱', '北京']
"""

from __future__ import annotations

import gzip
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from danlu.errors import DataError
from danlu.io.text import decode_utf8

__all__ = [
    "PDSentence",
    "entity_tags",
    "read_people_daily",
    "read_sighan",
    "tags_to_words",
    "words_to_tags",
    "write_sighan",
]

ENTITY_TYPES = {"nr": "PER", "ns": "LOC", "nt": "ORG"}
_SENTENCE_END = frozenset("。！？")
_TOKEN = re.compile(r"(\[?)(.+)/([A-Za-z]+)")  # optional '[', word, '/', tag
_BRACKET_END = re.compile(r"(.+)/([A-Za-z]+)\]([A-Za-z]+)")  # last word of a bracket


def words_to_tags(words: Sequence[str]) -> list[str]:
    """BMES tags of the characters of ``words`` (``S`` for a one-character word)."""
    tags: list[str] = []
    for w in words:
        if len(w) == 1:
            tags.append("S")
        elif w:
            tags.extend(["B", *(["M"] * (len(w) - 2)), "E"])
    return tags


def tags_to_words(chars: Sequence[str], tags: Sequence[str]) -> list[str]:
    """Words from characters and BMES tags; a word ends after E/S and before B/S.

    Ill-formed sequences still give words (``M`` after ``E`` continues a new word), so
    a model's raw predictions can always be turned into a segmentation.
    """
    if len(chars) != len(tags):
        raise ValueError(f"{len(chars)} characters but {len(tags)} tags")
    words: list[str] = []
    current = ""
    for ch, tag in zip(chars, tags, strict=True):
        prefix = tag.partition("-")[0]
        if prefix in ("B", "S") and current:
            words.append(current)
            current = ""
        current += ch
        if prefix in ("E", "S"):
            words.append(current)
            current = ""
    if current:
        words.append(current)
    return words


def _read_lines(path: Path) -> list[str]:
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as fh:
                raw = fh.read()
        else:
            raw = path.read_bytes()
    except FileNotFoundError:
        raise DataError(str(path), None, "file not found") from None
    except OSError as exc:  # e.g. a corrupt gzip file
        raise DataError(str(path), None, f"cannot read: {exc}") from None
    return decode_utf8(raw, str(path)).splitlines()  # a bad byte: its line is named


def _empty_lines(path: Path, numbers: list[int], strict: bool) -> None:
    if not numbers:
        return
    msg = "empty sentence (a blank line); write one sentence per line"
    if strict:
        raise DataError(str(path), numbers[0], msg)
    more = f" (and {len(numbers) - 1} more)" if len(numbers) > 1 else ""
    print(f"warning: {path}:{numbers[0]}: {msg}; skipped{more}", file=sys.stderr)


def read_sighan(path: str | Path, *, strict: bool = False) -> list[tuple[int, list[str]]]:
    """Read a SIGHAN file: ``[(line number, words), ...]`` for each non-empty line.

    Raises:
        DataError: no sentences, or an empty line under ``strict`` (trailing blank lines at
            the end of the file are always fine).
    """
    path = Path(path)
    lines = _read_lines(path)
    while lines and not lines[-1].strip():
        lines.pop()
    out, empty = [], []
    for number, line in enumerate(lines, 1):
        words = line.split()
        if words:
            out.append((number, words))
        else:
            empty.append(number)
    _empty_lines(path, empty, strict)
    if not out:
        raise DataError(str(path), None, "no sentences: expected words separated by spaces")
    return out


def write_sighan(path: str | Path, sentences: Sequence[Sequence[str]]) -> Path:
    """Write one sentence per line, words separated by two spaces (as SIGHAN does)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join("  ".join(ws) + "\n" for ws in sentences), encoding="utf-8")
    return path


@dataclass(frozen=True)
class PDSentence:
    """A People's Daily sentence: words, POS tags and entities ``(type, start, end)``.

    Entity offsets are character offsets into ``"".join(words)``, ``end`` exclusive.
    """

    words: tuple[str, ...]
    pos: tuple[str, ...]
    entities: tuple[tuple[str, int, int], ...]
    line: int

    @property
    def text(self) -> str:
        return "".join(self.words)


def _parse_line(path: Path, number: int, line: str) -> list[tuple[str, str, str | None, int]]:
    """Tokens of one line as ``(word, pos, bracket tag or None, bracket id)``."""
    tokens: list[tuple[str, str, str | None, int]] = []
    open_bracket: list[int] = []  # indices into tokens of the bracket being read
    bracket_id = 0
    for raw in line.split():
        end = _BRACKET_END.fullmatch(raw)
        m = _TOKEN.fullmatch(raw) if end is None else None
        if end is None and m is None:
            raise DataError(str(path), number, f"token {raw!r} is not 'word/TAG' (e.g. 人民/n, "
                            "or [中国/ns 政府/n]nt for a compound)")  # fmt: skip
        if m is not None and m.group(1):  # '[' opens a compound
            if open_bracket:
                raise DataError(str(path), number, f"nested '[' at {raw!r}")
            bracket_id += 1
            open_bracket.append(len(tokens))
        if end is not None:
            word, pos, outer = end.group(1), end.group(2), end.group(3)
            if word.startswith("["):  # a one-word bracket: [word/TAG]outer
                word = word[1:]
                bracket_id += 1
                open_bracket.append(len(tokens))
            if not open_bracket:
                raise DataError(str(path), number, f"']' without '[' at {raw!r}")
            tokens.append((word, pos, None, bracket_id))
            for k in range(open_bracket[0], len(tokens)):
                tokens[k] = (tokens[k][0], tokens[k][1], outer, bracket_id)
            open_bracket.clear()
            continue
        assert m is not None
        tokens.append((m.group(2), m.group(3), None, bracket_id if open_bracket else 0))
    if open_bracket:
        raise DataError(str(path), number, "'[' without a closing ']TAG'")
    return tokens


def _entities(tokens: list[tuple[str, str, str | None, int]]) -> list[tuple[str, int, int]]:
    """nr/ns/nt spans; a bracket tagged ns/nt is one entity; adjacent nr are merged."""
    spans: list[tuple[str, int, int]] = []
    pos = 0
    i = 0
    while i < len(tokens):
        word, tag, outer, bid = tokens[i]
        if outer in ("ns", "nt"):
            j = i
            start = pos
            while j < len(tokens) and tokens[j][3] == bid:
                pos += len(tokens[j][0])
                j += 1
            spans.append((ENTITY_TYPES[outer], start, pos))
            i = j
            continue
        kind = ENTITY_TYPES.get(tag)
        if kind is not None:
            if kind == "PER" and spans and spans[-1][0] == "PER" and spans[-1][2] == pos \
                    and i > 0 and tokens[i - 1][1] == "nr":  # fmt: skip
                spans[-1] = ("PER", spans[-1][1], pos + len(word))
            else:
                spans.append((kind, pos, pos + len(word)))
        pos += len(word)
        i += 1
    return spans


def read_people_daily(path: str | Path, *, split_sentences: bool = True) -> list[PDSentence]:
    """Read the People's Daily 1998 ``word/TAG`` corpus (``.gz`` is read transparently).

    Args:
        path: the corpus file.
        split_sentences: cut each paragraph after 。！？ (tagged w), keeping entities whole.

    Raises:
        DataError: a token that is not ``word/TAG`` or an unbalanced bracket, with its line.
    """
    path = Path(path)
    sentences: list[PDSentence] = []
    for number, line in enumerate(_read_lines(path), 1):
        if not line.strip():
            continue
        tokens = _parse_line(path, number, line)
        pieces = [tokens]
        if split_sentences:
            pieces, cur = [], []
            for tok in tokens:
                cur.append(tok)
                if tok[1] == "w" and tok[0] in _SENTENCE_END and tok[3] == 0:
                    pieces.append(cur)
                    cur = []
            if cur:
                pieces.append(cur)
        for piece in pieces:
            sentences.append(PDSentence(
                tuple(t[0] for t in piece), tuple(t[1] for t in piece),
                tuple(_entities(piece)), number,
            ))  # fmt: skip
    if not sentences:
        raise DataError(str(path), None, "no sentences: expected 'word/TAG' tokens")
    return sentences


def entity_tags(length: int, entities: Sequence[tuple[str, int, int]], scheme: str = "BIO"
                ) -> list[str]:  # fmt: skip
    """Character tags of ``length`` characters with ``(type, start, end)`` entities.

    ``scheme`` is ``"BIO"``, ``"BIOES"`` or ``"BMES"``.
    """
    scheme = scheme.upper()
    tags = ["O"] * length
    for kind, start, end in entities:
        if scheme == "BIO" or end - start > 1:
            tags[start] = f"B-{kind}"
            inside = "M" if scheme == "BMES" else "I"
            for k in range(start + 1, end):
                tags[k] = f"{inside}-{kind}"
            if scheme != "BIO":
                tags[end - 1] = f"E-{kind}"
        else:
            tags[start] = f"S-{kind}"
    return tags
