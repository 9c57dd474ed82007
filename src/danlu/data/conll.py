"""CoNLL-style tagged text: one token per line, blank lines between sentences.

The token is the first column and the tag the *last* column (whitespace separated; columns
in between are ignored), so ``char<TAB>tag``, ``char tag`` and ``word POS chunk tag`` all
read the same. Tags follow one scheme:

- ``BIO``: ``B-X``, ``I-X``, ``O``;
- ``BIOES``: also ``E-X`` (end) and ``S-X`` (single-token entity);
- ``BMES``: ``B-X``, ``M-X`` (middle), ``E-X``, ``S-X`` and ``O`` (ResumeNER); bare
  ``B``/``M``/``E``/``S`` tags are word segmentation.

``scheme="auto"`` picks BMES if any tag starts with ``M``, else BIOES if any starts with
``E``/``S``, else BIO. Lines starting with ``-DOCSTART-`` are skipped. Errors name the file
and line (:class:`danlu.errors.DataError`): a tag the scheme does not allow, a line with no
tag column. Two blank lines in a row make an empty sentence: skipped with a warning, or an
error with ``strict=True``.

Weibo NER writes each character followed by its position in an automatically segmented
word (``科0``, ``技1``, ``p10``); ``position_digits=True`` (or ``"auto"``, which detects it)
strips the trailing digits into :attr:`TaggedSentence.features`.

Example:
    >>> sents = read_conll("train.char.bmes")          # doctest: +SKIP
    >>> sents[0].tokens[:3], sents[0].tags[:3]         # doctest: +SKIP
    (('高', '勇', '：'), ('B-NAME', 'E-NAME', 'O'))
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from danlu.errors import DataError
from danlu.io.text import decode_utf8

__all__ = [
    "SCHEMES",
    "TaggedSentence",
    "check_tag",
    "detect_scheme",
    "read_conll",
    "write_conll",
]

Scheme = Literal["BIO", "BIOES", "BMES"]
SCHEMES: dict[str, frozenset[str]] = {  # the prefixes each scheme allows (besides O)
    "BIO": frozenset("BI"),
    "BIOES": frozenset("BIES"),
    "BMES": frozenset("BMES"),
}
_POSITION = re.compile(r"(.+?)(\d+)")  # Weibo: character, then its position in the word


@dataclass(frozen=True)
class TaggedSentence:
    """One sentence: tokens, their tags, the 1-based line of its first token."""

    tokens: tuple[str, ...]
    tags: tuple[str, ...]
    line: int = 0
    features: tuple[str, ...] | None = None  # e.g. Weibo's position digits


def detect_scheme(tags: Iterable[str]) -> Scheme:
    """BMES if any tag has prefix M, else BIOES if any has E or S, else BIO."""
    prefixes = {t.partition("-")[0] for t in tags}
    if "M" in prefixes:
        return "BMES"
    if prefixes & {"E", "S"}:
        return "BIOES"
    return "BIO"


def check_tag(tag: str, scheme: str) -> str | None:
    """None if ``tag`` is valid in ``scheme``, else a message saying what is valid."""
    if tag == "O":
        return None
    prefix, dash, kind = tag.partition("-")
    allowed = SCHEMES[scheme]
    if prefix in allowed and (not dash or kind):
        return None
    shown = ", ".join(f"{p}-TYPE" for p in sorted(allowed, key="BIMES".index))
    return f"tag {tag!r} is not allowed in the {scheme} scheme; valid: O, {shown}"


def _split_position(token: str) -> tuple[str, str] | None:
    m = _POSITION.fullmatch(token)
    return (m.group(1), m.group(2)) if m else None


def read_conll(
    path: str | Path,
    scheme: str = "auto",
    *,
    position_digits: bool | Literal["auto"] = "auto",
    strict: bool = False,
) -> list[TaggedSentence]:
    """Read a CoNLL-style file into sentences (see the module docstring).

    Args:
        path: the file (UTF-8).
        scheme: ``"auto"``, ``"BIO"``, ``"BIOES"`` or ``"BMES"`` (case-insensitive).
        position_digits: strip Weibo-style trailing position digits from every token;
            ``"auto"``: when every token is one or two characters followed by digits.
        strict: an empty sentence (two blank lines in a row) is an error, not a warning.

    Returns:
        The sentences, each with at least one token.

    Raises:
        DataError: a line without a tag column, a tag the scheme does not allow, an empty
            sentence under ``strict``, or a file without sentences.
    """
    path = Path(path)
    scheme_key = scheme.upper()
    if scheme_key != "AUTO" and scheme_key not in SCHEMES:
        raise DataError(str(path), None, f"unknown tag scheme {scheme!r}; valid: auto, bio, "
                        "bioes, bmes")  # fmt: skip
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataError(str(path), None, "file not found") from None
    text = decode_utf8(raw, str(path))  # a bad byte: its line is named

    raw: list[tuple[int, list[tuple[str, str, int]]]] = []  # (first line, [(token, tag, line)])
    current: list[tuple[str, str, int]] = []
    blank_run = 0
    empty_at: list[int] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            if current:
                raw.append((current[0][2], current))
                current = []
            elif blank_run >= 1:
                empty_at.append(number)
            blank_run += 1
            continue
        blank_run = 0
        if line.startswith("-DOCSTART-"):
            continue
        cols = line.split()
        if len(cols) < 2:
            raise DataError(
                str(path), number,
                f"no tag column in {line.strip()!r}: expected 'TOKEN TAG' (token first, "
                "tag last, separated by spaces or a tab)",
            )  # fmt: skip
        current.append((cols[0], cols[-1], number))
    if current:
        raw.append((current[0][2], current))
    # blank lines before the first or after the last sentence are harmless
    empty_at = [n for n in empty_at if raw and raw[0][0] < n < raw[-1][0]]
    if empty_at:
        msg = ("empty sentence (two blank lines in a row); sentences are separated by "
               "exactly one blank line")  # fmt: skip
        if strict:
            raise DataError(str(path), empty_at[0], msg)
        more = f" (and {len(empty_at) - 1} more)" if len(empty_at) > 1 else ""
        print(f"warning: {path}:{empty_at[0]}: {msg}; skipped{more}", file=sys.stderr)
    if not raw:
        raise DataError(str(path), None, "no sentences: expected 'TOKEN TAG' lines")

    if scheme_key == "AUTO":
        scheme_key = detect_scheme(tag for _, rows in raw for _, tag, _ in rows)
    for _, rows in raw:
        for _, tag, number in rows:
            problem = check_tag(tag, scheme_key)
            if problem:
                raise DataError(str(path), number, problem + " (or pass another --scheme)")

    tokens_all = [tok for _, rows in raw for tok, _, _ in rows]
    split = position_digits
    if split == "auto":
        split = all((p := _split_position(t)) is not None and len(p[0]) <= 2 for t in tokens_all)
    sentences = []
    for first, rows in raw:
        tokens = [tok for tok, _, _ in rows]
        features = None
        if split:
            pairs = []
            for tok, _, number in rows:
                pair = _split_position(tok)
                if pair is None:
                    raise DataError(str(path), number, f"token {tok!r} does not end with "
                                    "position digits (expected e.g. '科0')")  # fmt: skip
                pairs.append(pair)
            tokens = [c for c, _ in pairs]
            features = tuple(d for _, d in pairs)
        sentences.append(TaggedSentence(tuple(tokens), tuple(t for _, t, _ in rows), first,
                                        features))  # fmt: skip
    return sentences


def write_conll(path: str | Path, sentences: Sequence[TaggedSentence]) -> Path:
    """Write ``token<TAB>tag`` lines with a blank line after each sentence."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = []
    for s in sentences:
        lines.extend(f"{tok}\t{tag}" for tok, tag in zip(s.tokens, s.tags, strict=True))
        lines.append("")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
