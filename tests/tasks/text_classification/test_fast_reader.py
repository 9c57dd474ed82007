"""The compiled reader gives the Python path's dictionary and examples, array for array;
and, for cbow and skipgram (``words_only``), the Python path's dictionary and WordData."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from danlu.errors import DataError, UsageError
from danlu.tasks.text_classification.config import CbowConfig, SkipgramConfig, SupervisedConfig
from danlu.tasks.text_classification.data import LabeledCorpus, read_labeled_file
from danlu.tasks.text_classification.dictionary import Dictionary
from danlu.tasks.text_classification.examples import Examples, _distinct
from danlu.tasks.text_classification.fast_reader import (
    TokenizedCorpus,
    build_dictionary,
    read_corpus,
    read_tokenized,
)
from danlu.tasks.text_classification.sgd_kernel import load, unavailable_reason
from danlu.tasks.text_classification.train import train_supervised_corpus
from danlu.tasks.text_classification.unsupervised import read_word_data, train_word_vectors
from danlu.tasks.text_classification.word_engine import WordData

KERNEL = load()
pytestmark = pytest.mark.skipif(KERNEL is None, reason=f"no kernel: {unavailable_reason()}")

ARRAYS = ("rows", "offsets", "label_flat", "label_off", "n_labels", "kept", "ntok", "buckets",
          "lengths")  # fmt: skip

# the dictionary settings: pruning, word n-grams, char n-grams, and both
SETTINGS: list[dict[str, Any]] = [
    {},
    {"min_count": 2},
    {"min_count": 3, "min_count_label": 2},
    {"word_ngrams": 2},
    {"word_ngrams": 3, "bucket": 97},  # a small table: n-grams collide
    {"minn": 2, "maxn": 4},
    {"minn": 1, "maxn": 3, "word_ngrams": 2, "min_count": 2, "bucket": 1000},
]

# (name, text): what the whitespace tokenizer must agree on
EDGE_CASES = [
    ("empty file", ""),
    ("empty lines only", "\n\n\n"),
    ("one line, no newline at the end", "__label__a x y"),
    ("lines without a label are skipped", "x y\n__label__a x\n\n  \nz\n__label__b y y\n"),
    (
        "several labels, labels in the middle or last",
        "__label__a __label__b x y\nx __label__c y\nx y __label__a\n__label__a x __label__a\n",
    ),
    ("labels only", "__label__a\n__label__b __label__a\n__label__a x\n"),
    (
        "runs of spaces, tabs, leading and trailing spaces",
        "  __label__a   x\t\ty  \n\t__label__b x \t \n__label__a  y   \n",
    ),
    (
        "\\v \\f \\r separate tokens, only \\n ends a line (fastText's rule), \\r\\n too",
        "__label__a x\vy\f__label__b z\r__label__a x\r\n__label__b y\r\r\n\n\r\v\f\n",
    ),
    ("a label after \\r, \\v or \\f is on the same line", "x\r__label__a y\vz\f__label__b\n"),
    ("NUL separates tokens", "__label__a x\0y\0\0z\n__label__b\0x y\n"),
    (
        "\\x1c-\\x1f, U+0085, U+00A0, U+2028, U+2029, U+3000 are part of tokens",
        "__label__a x\x1cy __label__b\x1dz\x1e__label__a \x85w\u2028__label__b v\u2029"
        "__label__a a\x1fb c\xa0d e\u3000f\n__label__a a\x1fb\n\x1c\n\u2028 __label__c\n",
    ),
    ("a label prefix after \\x1c is inside a word", "__label__a \x1c__label__b x\n"),
    (
        "non-ASCII words",
        "__label__体育 中国 队 赢 了 中国\n__label__财经 股市 涨 了\n__label__é café naïve café\n",
    ),
    ("a word equal to </s>", "__label__a </s> x\n__label__b x </s> </s>\n__label__a y\n"),
    (
        "ties in counts keep the first seen first",
        "__label__b d c\n__label__a c d b a\n__label__c a b\n__label__a e\n",
    ),
    ("prefix inside a word", "__label__a x__label__y __label__\n__label____label__b z\n"),
]


def _python(path: Path, prefix: str, **kw: Any) -> tuple[LabeledCorpus, Dictionary, Examples]:
    corpus = read_labeled_file(path, prefix)
    dictionary = Dictionary.build(corpus.words, corpus.labels, **kw)
    return corpus, dictionary, Examples(corpus, dictionary)


def _compiled(path: Path, prefix: str, **kw: Any) -> tuple[TokenizedCorpus, Dictionary, Examples]:
    assert KERNEL is not None
    corpus = read_tokenized(path, KERNEL, prefix)
    assert corpus is not None
    dictionary = build_dictionary(corpus, **kw)
    return corpus, dictionary, Examples(corpus, dictionary)


def _assert_same(path: Path, prefix: str = "__label__", **kw: Any) -> None:
    """Both readers agree on ``path``: the same dictionary and examples, or the same error."""
    try:
        want = _python(path, prefix, **kw)
    except UsageError as err:  # no label kept: the compiled path says the same
        with pytest.raises(UsageError, match="^" + re.escape(str(err)) + "$"):
            _compiled(path, prefix, **kw)
        return
    got = _compiled(path, prefix, **kw)
    assert (got[0].n_lines, got[0].skipped, got[0].ntokens) == (
        want[0].n_lines, want[0].skipped, want[0].ntokens)  # fmt: skip
    # the same words, counts, labels and label counts, in the same order
    assert got[1] == want[1]
    assert got[1].to_metadata() == want[1].to_metadata()
    for name in ARRAYS:
        a, b = getattr(got[2], name), getattr(want[2], name)
        assert a.dtype == b.dtype and np.array_equal(a, b), name
    assert (got[2].total, got[2].n_rows) == (want[2].total, want[2].n_rows)


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: ",".join(map(str, s.items())) or "-")
@pytest.mark.parametrize("text", [t for _, t in EDGE_CASES], ids=[n for n, _ in EDGE_CASES])
def test_edge_cases_read_the_same(tmp_path: Path, text: str, setting: dict[str, Any]) -> None:
    path = tmp_path / "train.txt"
    path.write_bytes(text.encode("utf-8"))
    _assert_same(path, **setting)


@pytest.mark.parametrize(
    ("text", "words", "counts"),
    [
        ("__label__a d c\n__label__a c d b a\n__label__a a b\n__label__a e\n",
         ["</s>", "d", "c", "b", "a", "e"], [4, 2, 2, 2, 2, 1]),
        ("__label__a x y\n__label__a x y\n", ["x", "y", "</s>"], [2, 2, 2]),
        ("__label__a x x </s>\n__label__a x\n", ["x", "</s>"], [3, 3]),
        ("__label__a </s> x x\n__label__a x\n", ["</s>", "x"], [3, 3]),
    ],
)  # fmt: skip
def test_the_dictionary_is_most_frequent_first_ties_in_order_of_first_sight(
    tmp_path: Path, text: str, words: list[str], counts: list[int]
) -> None:
    """One </s> a line counts at the place of a token </s>, else after every word."""
    path = tmp_path / "train.txt"
    path.write_text(text, encoding="utf-8")
    for read in (_python, _compiled):
        dictionary = read(path, "__label__")[1]
        assert (dictionary.words, dictionary.word_counts) == (words, counts)


@pytest.mark.parametrize("prefix", ["#", "", "__label__x"])
def test_other_label_prefixes_read_the_same(tmp_path: Path, prefix: str) -> None:
    path = tmp_path / "train.txt"
    path.write_text("#a x y\n__label__x z #b\n__label__xy w\nq\n#a #a\n", encoding="utf-8")
    _assert_same(path, prefix)


# the characters fastText and str.splitlines disagree on are all here (\r ... U+2029)
ALPHABET = ["a", "b", "é", "中", "__label__x", "__label__y", "</s>", "_", " ", " ", "  ", "\t",
            "\n", "\n", "\r", "\r\n", "\v", "\f", "\0", "\x1c", "\x1d", "\x1e", "\x1f",
            "\x85", "\u2028", "\u2029", "\xa0", "\u3000"]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(pieces=st.lists(st.sampled_from(ALPHABET), max_size=60), setting=st.sampled_from(SETTINGS))
def test_random_files_read_the_same(
    tmp_path_factory: pytest.TempPathFactory, pieces: list[str], setting: dict[str, Any]
) -> None:
    path = tmp_path_factory.getbasetemp() / "random_train.txt"
    path.write_bytes("".join(pieces).encode("utf-8"))
    _assert_same(path, **setting)


def test_thucnews_titles_read_the_same(shared_data: Path, tmp_path: Path) -> None:
    """3,000 real titles, one token per character (many distinct tokens: the table grows)."""
    lines = []
    with open(shared_data / "thucnews" / "train.txt", encoding="utf-8") as f:
        for _, line in zip(range(3000), f, strict=False):
            title, label = line.rstrip("\n").rsplit("\t", 1)
            lines.append(f"__label__{label} " + " ".join(title))
    path = tmp_path / "train.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    for setting in ({}, {"min_count": 2}, {"word_ngrams": 2}, {"minn": 1, "maxn": 2}):
        _assert_same(path, **setting)
    corpus = _compiled(path, "__label__")[0]
    assert len(corpus.strings) > 2000


@pytest.mark.parametrize(
    "raw",
    [b"__label__a x\n__label__b \xff y\n", b"__label__a x\nno \xe4\xb8 label\n"],
    ids=["in a labelled line", "in a skipped line"],
)
def test_a_file_not_utf8_is_the_same_error(tmp_path: Path, raw: bytes) -> None:
    path = tmp_path / "train.txt"
    path.write_bytes(raw)
    with pytest.raises(DataError) as want:
        read_labeled_file(path)
    with pytest.raises(DataError) as got:
        read_corpus(path)
    assert str(got.value) == str(want.value)


def test_read_corpus_uses_python_where_the_reader_does_not_apply(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "train.txt"
    path.write_text("__label__a x y\n", encoding="utf-8")
    assert isinstance(read_corpus(path), TokenizedCorpus)
    assert isinstance(read_corpus(path, tokenizer="char"), LabeledCorpus)
    assert isinstance(read_corpus(path, compiled=False), LabeledCorpus)
    monkeypatch.setattr("danlu.tasks.text_classification.fast_reader.load", lambda: None)
    assert isinstance(read_corpus(path), LabeledCorpus)  # no C compiler


@pytest.mark.parametrize(
    "extra",
    [{}, {"word_ngrams": 2, "min_count": 2}, {"minn": 2, "maxn": 3}, {"pretrained": True}],
)
def test_training_on_either_reading_gives_the_same_weights(
    tmp_path: Path, extra: dict[str, Any]
) -> None:
    """-thread 1 is reproducible: the same examples give bit-identical weights."""
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(40)]
    lines = [f"__label__{'abc'[i % 3]} " + " ".join(rng.choice(words, 1 + i % 7))
             for i in range(300)]  # fmt: skip
    path = tmp_path / "train.txt"
    lines += ["__label__a tie1", "__label__b tie2"] * 3
    path.write_text("\n".join(lines) + "\nno label here\n", encoding="utf-8")
    if extra.pop("pretrained", False):  # its words join the dictionary: tie2 passes tie1
        vec = tmp_path / "v.vec"
        rows = "".join(f"{w} {' '.join(['0.5'] * 8)}\n" for w in ("tie2", "new", "w7"))
        vec.write_text("3 8\n" + rows, encoding="utf-8")
        extra["pretrained_vectors"] = str(vec)
    cfg = SupervisedConfig(input=str(path), output="", dim=8, epoch=2, thread=1, seed=0,
                           engine="c", **extra)  # fmt: skip
    compiled = read_corpus(path)
    assert isinstance(compiled, TokenizedCorpus)
    want = train_supervised_corpus(cfg, read_labeled_file(path))
    got = train_supervised_corpus(cfg, compiled)
    assert got.dictionary == want.dictionary
    assert np.array_equal(got.input, want.input) and np.array_equal(got.output, want.output)


@pytest.mark.parametrize(("n", "size"), [(0, 10), (5, 1000), (1000, 50), (3000, 2000)])
def test_the_distinct_buckets_are_numpys_unique(n: int, size: int) -> None:
    """Examples' table of the buckets that occur (by flags or by sorting) is np.unique's."""
    values = np.random.default_rng(n).integers(0, size, n)
    for got, want in zip(_distinct(values, size), np.unique(values, return_inverse=True),
                         strict=True):  # fmt: skip
        assert got.dtype == want.dtype and np.array_equal(got, want)


# ---------------------------------------------------------------- word-vector corpora
WORD_SETTINGS: list[dict[str, Any]] = [
    {"min_count": 1, "maxn": 0},
    {"min_count": 2, "minn": 2, "maxn": 4, "bucket": 97},
    {"min_count": 1, "minn": 1, "maxn": 3, "bucket": 1000},
]
WORD_ARRAYS = ("tokens", "line_off", "sub_off", "sub_rows", "buckets", "keep")


def _word_data(path: Path, compiled: bool, **kw: Any) -> tuple[Dictionary, WordData]:
    return read_word_data(SkipgramConfig(input=str(path), output="", **kw),
                          KERNEL if compiled else None)  # fmt: skip


def _assert_same_word_data(path: Path, **kw: Any) -> None:
    """Both readers give the same dictionary and encoded corpus, or the same error."""
    try:
        want = _word_data(path, False, **kw)
    except UsageError as err:  # fewer than two words: the compiled path says the same
        with pytest.raises(UsageError, match="^" + re.escape(str(err)) + "$"):
            _word_data(path, True, **kw)
        return
    got = _word_data(path, True, **kw)
    assert got[0] == want[0] and got[1].ntokens == want[1].ntokens
    for name in WORD_ARRAYS:
        a, b = getattr(got[1], name), getattr(want[1], name)
        assert a.dtype == b.dtype and np.array_equal(a, b), name


@pytest.mark.parametrize("setting", WORD_SETTINGS, ids=lambda s: ",".join(map(str, s.items())))
@pytest.mark.parametrize("text", [t for _, t in EDGE_CASES], ids=[n for n, _ in EDGE_CASES])
def test_word_corpora_read_the_same(tmp_path: Path, text: str, setting: dict[str, Any]) -> None:
    """Every token is a word (``__label__x`` too) and every line counts, an empty one too."""
    path = tmp_path / "text.txt"
    path.write_bytes((text + "\n" + text.replace("__label__", "")).encode("utf-8"))
    _assert_same_word_data(path, **setting)


@settings(max_examples=200, deadline=None)
@given(pieces=st.lists(st.sampled_from(ALPHABET), max_size=60),
       setting=st.sampled_from(WORD_SETTINGS))  # fmt: skip
def test_random_word_corpora_read_the_same(
    tmp_path_factory: pytest.TempPathFactory, pieces: list[str], setting: dict[str, Any]
) -> None:
    path = tmp_path_factory.getbasetemp() / "random_text.txt"
    path.write_bytes("".join(pieces).encode("utf-8"))
    _assert_same_word_data(path, **setting)


def test_a_word_corpus_not_utf8_is_the_same_error(tmp_path: Path) -> None:
    path = tmp_path / "text.txt"
    path.write_bytes(b"a b c\nd \xe4\xb8 e\n")
    errors = []
    for compiled in (False, True):
        with pytest.raises(DataError) as err:
            _word_data(path, compiled, min_count=1)
        errors.append(str(err.value))
    assert errors[0] == errors[1] and ":2:" in errors[0]


@pytest.mark.parametrize("make", [SkipgramConfig, CbowConfig])
def test_word_vectors_from_either_reading_are_bit_identical(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, make: type
) -> None:
    """-thread 1 is reproducible: the same corpus gives the same vectors, bit for bit."""
    rng = np.random.default_rng(1)
    words = [f"w{i}" for i in range(30)] + ["中文", "é", "a\x1cb"]
    text = "".join(" ".join(rng.choice(words, 1 + i % 9)) + "\r\v\n"[i % 3] for i in range(400))
    path = tmp_path / "text.txt"
    path.write_bytes(text.encode("utf-8"))
    cfg = make(input=str(path), output="", dim=8, epoch=2, min_count=2, bucket=500, minn=2,
               maxn=3, thread=1, seed=3, verbose=0)  # fmt: skip
    got = train_word_vectors(cfg)
    monkeypatch.setattr("danlu.tasks.text_classification.unsupervised.read_tokenized",
                        lambda *args, **kw: None)  # fmt: skip
    want = train_word_vectors(cfg)
    assert got.dictionary == want.dictionary
    assert np.array_equal(got.ngram_buckets, want.ngram_buckets)
    assert np.array_equal(got.input, want.input) and np.array_equal(got.output, want.output)
