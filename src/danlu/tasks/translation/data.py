"""Parallel text: TSV pairs, a seeded dev split, reversible tokenizers and vocabularies.

A training file holds one pair a line, TAB-separated; ``--src-col``/``--tgt-col`` choose the
columns (the default reads Tatoeba's layout: English, Chinese, attribution). Pairs with an
empty side are skipped and counted; a line without the needed column, or a byte that is not
UTF-8, is one :class:`~danlu.errors.DataError` naming the file and line.

Tokenizers turn a sentence into tokens and back, exactly (BLEU is computed on the
detokenized output, so ``decode(encode(s)) == s`` up to runs of spaces):

- ``char``: every character; a run of spaces is one ``▁`` token;
- ``jieba``: Chinese words (``jieba.lcut``), spaces as ``▁`` as above;
- ``spm``: a SentencePiece unigram model trained on the training side only (Kudo &
  Richardson 2018), saved as ``spm.<side>.model`` in the run folder.

Example:
    >>> pairs = read_pairs("train.tsv", src_col=2, tgt_col=1)  # doctest: +SKIP
    >>> train, dev = split_dev(pairs, 1000, seed=0)  # doctest: +SKIP
    >>> tok = CharTokenizer(); tok.decode(tok.encode("你好 world"))
    '你好 world'
"""

from __future__ import annotations

import random
import re
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from danlu.errors import DataError, UsageError
from danlu.io.text import utf8_lines
from danlu.names import implement
from danlu.tasks.translation.config import TOKENIZERS

__all__ = [
    "BOS",
    "EOS",
    "PAD",
    "TOKENIZER_CLASSES",
    "UNK",
    "CharTokenizer",
    "JiebaTokenizer",
    "Pairs",
    "SentencePieceTokenizer",
    "Tokenizer",
    "Vocab",
    "load_tokenizer",
    "make_tokenizer",
    "read_pairs",
    "split_dev",
    "spm_file",
]

SPACE = "\u2581"  # ▁: a run of spaces, as SentencePiece writes it
PAD, UNK, BOS, EOS = 0, 1, 2, 3  # ids every vocabulary starts with
SPECIALS = ("<pad>", "<unk>", "<s>", "</s>")
_SPACES = re.compile(r"\s+")


@dataclass
class Pairs:
    """Source and target sentences of a parallel file, with where each came from."""

    src: list[str]
    tgt: list[str]
    lines: list[int]  # 1-based line of each pair in its file
    skipped: int = 0  # pairs with an empty side

    def __len__(self) -> int:
        return len(self.src)

    def subset(self, index: Sequence[int]) -> Pairs:
        return Pairs([self.src[i] for i in index], [self.tgt[i] for i in index],
                     [self.lines[i] for i in index])  # fmt: skip


def read_pairs(path: str | Path, src_col: int, tgt_col: int) -> Pairs:
    """The pairs of a TAB-separated file; columns are 1-based.

    Raises:
        UsageError: the file is missing.
        DataError: a line has fewer columns than needed, or is not UTF-8.
    """
    p = Path(path)
    if not p.is_file():
        raise UsageError(f"data file not found: {p}")
    need = max(src_col, tgt_col)
    pairs = Pairs([], [], [])
    with open(p, "rb") as fh:
        for number, line in enumerate(utf8_lines(fh, str(p)), 1):
            if not line.strip():
                continue
            fields = line.split("\t")
            if len(fields) < need:
                raise DataError(str(p), number, f"{len(fields)} TAB-separated column(s), need "
                                f"{need} (--src-col {src_col}, --tgt-col {tgt_col})")  # fmt: skip
            src, tgt = fields[src_col - 1].strip(), fields[tgt_col - 1].strip()
            if not src or not tgt:
                pairs.skipped += 1
                continue
            pairs.src.append(src)
            pairs.tgt.append(tgt)
            pairs.lines.append(number)
    if pairs.skipped:
        print(f"note: {p}: skipped {pairs.skipped} pair(s) with an empty side", file=sys.stderr)
    if not pairs.src:
        raise DataError(str(p), None, "no pairs: expected lines of TAB-separated sentences")
    return pairs


def split_dev(pairs: Pairs, size: int, seed: int) -> tuple[Pairs, Pairs]:
    """(train, dev): ``size`` pairs drawn at random (seeded) for dev, the rest to train.

    The draw is a shuffle, because parallel files are often sorted by length.
    """
    if not 0 < size < len(pairs):
        raise UsageError(f"--dev-size {size} must be between 1 and the {len(pairs) - 1} pairs "
                         "it leaves to train on")  # fmt: skip
    order = list(range(len(pairs)))
    random.Random(seed).shuffle(order)
    return pairs.subset(sorted(order[size:])), pairs.subset(sorted(order[:size]))


class Tokenizer(Protocol):
    """Sentence -> tokens -> sentence, exactly."""

    def encode(self, text: str) -> list[str]: ...
    def decode(self, tokens: Sequence[str]) -> str: ...


def _spaces_as_tokens(pieces: Iterable[str]) -> list[str]:
    return [SPACE if not p.strip() else p for p in pieces if p]


def _join(tokens: Sequence[str]) -> str:
    return "".join(" " if t == SPACE else t for t in tokens).strip()


class CharTokenizer:
    """Every character a token; a run of spaces one ``▁``."""

    name = "char"

    def encode(self, text: str) -> list[str]:
        return _spaces_as_tokens(_SPACES.sub(" ", text.strip()))

    def decode(self, tokens: Sequence[str]) -> str:
        return _join(tokens)


class JiebaTokenizer:
    """jieba's words (Chinese); a run of spaces one ``▁``."""

    name = "jieba"

    def encode(self, text: str) -> list[str]:
        import logging

        import jieba

        jieba.setLogLevel(logging.WARNING)
        return _spaces_as_tokens(jieba.lcut(_SPACES.sub(" ", text.strip())))

    def decode(self, tokens: Sequence[str]) -> str:
        return _join(tokens)


class SentencePieceTokenizer:
    """A SentencePiece model (``sentencepiece`` package); pieces mark spaces with ``▁``."""

    name = "spm"

    def __init__(self, model_file: str | Path) -> None:
        import sentencepiece as spm

        self.path = Path(model_file)
        self.processor = spm.SentencePieceProcessor(model_file=str(self.path))

    @classmethod
    def train(
        cls, texts: Sequence[str], model_file: str | Path, vocab_size: int
    ) -> SentencePieceTokenizer:
        """Train a unigram model on ``texts`` and write it to ``model_file``."""
        import sentencepiece as spm

        path = Path(model_file)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as fh:
            spm.SentencePieceTrainer.train(
                sentence_iterator=iter(texts), model_writer=fh, vocab_size=vocab_size,
                model_type="unigram", character_coverage=0.9995, hard_vocab_limit=False,
                num_threads=1, minloglevel=2,
            )  # fmt: skip
        return cls(path)

    def encode(self, text: str) -> list[str]:
        return list(self.processor.encode(text, out_type=str))

    def decode(self, tokens: Sequence[str]) -> str:
        return str(self.processor.decode(list(tokens)))


class Vocab:
    """Token <-> id: the four specials (:data:`SPECIALS`), then tokens by frequency."""

    def __init__(self, tokens: Sequence[str]) -> None:
        self.tokens = list(tokens)
        self.index = {t: i for i, t in enumerate(self.tokens)}

    @classmethod
    def build(cls, sentences: Iterable[Sequence[str]], min_count: int = 1) -> Vocab:
        counts = Counter(t for s in sentences for t in s)
        kept = sorted((t for t, c in counts.items() if c >= min_count and t not in SPECIALS),
                      key=lambda t: (-counts[t], t))  # fmt: skip
        return cls([*SPECIALS, *kept])

    def __len__(self) -> int:
        return len(self.tokens)

    def ids(self, tokens: Sequence[str]) -> list[int]:
        return [self.index.get(t, UNK) for t in tokens]

    def words(self, ids: Iterable[int]) -> list[str]:
        """Tokens of ``ids`` up to the first EOS, without specials."""
        out = []
        for i in ids:
            if i == EOS:
                break
            if i > EOS:
                out.append(self.tokens[i])
        return out


def spm_file(folder: str | Path, side: str) -> Path:
    """Where a run folder keeps the SentencePiece model of ``side`` (``src`` or ``tgt``)."""
    return Path(folder) / f"spm.{side}.model"


# --src-tokenizer/--tgt-tokenizer name -> class (names and help: config.TOKENIZERS)
TOKENIZER_CLASSES: dict[str, type] = implement(
    TOKENIZERS,
    {"char": CharTokenizer, "jieba": JiebaTokenizer, "spm": SentencePieceTokenizer},
    "translation tokenizers",
)


def make_tokenizer(name: str, texts: Sequence[str], model_file: str | Path, vocab_size: int
                   ) -> Tokenizer:  # fmt: skip
    """Tokenizer ``name``; ``spm`` is trained on ``texts`` and written to ``model_file``."""
    if name == "spm":
        return SentencePieceTokenizer.train(texts, model_file, vocab_size)
    return TOKENIZER_CLASSES[name]()


def load_tokenizer(name: str, model_file: str | Path) -> Tokenizer:
    """Tokenizer ``name`` of a trained model (``spm`` reads ``model_file``)."""
    if name == "spm":
        if not Path(model_file).is_file():
            raise UsageError(f"{model_file} is missing: the model was trained with a "
                             "SentencePiece tokenizer, kept beside model.safetensors")  # fmt: skip
        return SentencePieceTokenizer(model_file)
    if name not in TOKENIZER_CLASSES:
        raise UsageError(f"unknown tokenizer {name!r}; valid: {', '.join(TOKENIZER_CLASSES)}")
    return TOKENIZER_CLASSES[name]()
