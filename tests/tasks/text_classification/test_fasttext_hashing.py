"""fastText's FNV-1a (signed-char quirk), word n-gram buckets and the dictionary."""

from __future__ import annotations

import itertools
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from danlu.tasks.text_classification.dictionary import EOS, Dictionary, char_ngram_buckets
from danlu.tasks.text_classification.hashing import (
    char_ngram_buckets_many,
    fnv1a32,
    fnv1a32_many,
    word_ngram_buckets,
)

# Published FNV-1a 32-bit test vectors (ASCII: the quirk does not apply):
# "" -> 0x811c9dc5, "a" -> 0xe40c292c, "foobar" -> 0xbf9cf968.
ASCII_VECTORS = {"": 0x811C9DC5, "a": 0xE40C292C, "foobar": 0xBF9CF968}


@pytest.mark.parametrize(("text", "expected"), ASCII_VECTORS.items())
def test_ascii_matches_published_fnv1a(text: str, expected: int) -> None:
    assert fnv1a32(text) == expected


def test_non_ascii_bytes_are_sign_extended() -> None:
    # "é" is C3 A9. By hand: fastText XORs int8(byte) widened to uint32, i.e. 0xFFFFFFC3
    # and 0xFFFFFFA9, where plain FNV-1a XORs 0xC3 and 0xA9.
    h = 0x811C9DC5
    h = ((h ^ 0xFFFFFFC3) * 16777619) % 2**32
    h = ((h ^ 0xFFFFFFA9) * 16777619) % 2**32
    assert h == 1023043777
    assert fnv1a32("é") == 1023043777
    plain = 0x811C9DC5
    for byte in (0xC3, 0xA9):
        plain = ((plain ^ byte) * 16777619) % 2**32
    assert plain == 513665217 != fnv1a32("é")  # the quirk changes the value


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(max_size=12), max_size=20))
def test_vectorized_hash_equals_reference(tokens: list[str]) -> None:
    assert fnv1a32_many(tokens).tolist() == [fnv1a32(t) for t in tokens]


# characters of 1 to 4 UTF-8 bytes, the boundaries themselves, separators fastText keeps
CHARS = st.sampled_from(["a", "b", "é", "中", "\U0001f600", "<", ">", "\x1c", "\u2028", "\x85"])


@settings(max_examples=200, deadline=None)
@given(words=st.lists(st.lists(CHARS, min_size=1, max_size=9).map("".join), max_size=25),
       minn=st.integers(0, 4), maxn=st.integers(0, 7),
       bucket=st.sampled_from([1, 7, 1000, 2_000_000]))  # fmt: skip
def test_vectorized_char_ngram_buckets_equal_reference(
    words: list[str], minn: int, maxn: int, bucket: int
) -> None:
    """fastText's order (by start, then length) and buckets, word by word."""
    got, offsets = char_ngram_buckets_many(words, minn, maxn, bucket)
    assert got.dtype == offsets.dtype == np.int64 and len(offsets) == len(words) + 1
    assert [got[a:b].tolist() for a, b in itertools.pairwise(offsets.tolist())] == [
        char_ngram_buckets(w, minn, maxn, bucket) for w in words
    ]


def test_vectorized_char_ngram_buckets_of_many_words(monkeypatch: pytest.MonkeyPatch) -> None:
    """Words in several chunks give the buckets of one."""
    words = [f"w{i}中{i % 7}" for i in range(50)]
    want = char_ngram_buckets_many(words, 2, 5, 10_007)
    monkeypatch.setattr("danlu.tasks.text_classification.hashing._CHUNK", 7)
    got = char_ngram_buckets_many(words, 2, 5, 10_007)
    assert all(np.array_equal(a, b) for a, b in zip(got, want, strict=True))
    with pytest.raises(ValueError, match="bucket must be >= 1"):
        char_ngram_buckets_many(words, 2, 5, 0)


def test_word_bigram_bucket_by_hand() -> None:
    # h = int64(int32(hash(w1))) * 116049371 + int64(int32(hash(w2))) (mod 2**64) % bucket
    def sext(x: int) -> int:
        return x - 2**32 if x >= 2**31 else x

    words = ["中文", "a", EOS]
    hashes = np.array([fnv1a32(w) for w in words], dtype=np.uint64)
    ids, lines = word_ngram_buckets(hashes, np.zeros(3, np.int64), 2, 2_000_000)
    expected = [
        ((sext(fnv1a32(x)) * 116049371 + sext(fnv1a32(y))) % 2**64) % 2_000_000
        for x, y in itertools.pairwise(words)
    ]
    assert ids.tolist() == expected
    assert lines.tolist() == [0, 0]
    # n-grams never cross a line boundary
    ids2, _ = word_ngram_buckets(hashes, np.array([0, 1, 1]), 3, 1000)
    assert len(ids2) == 1


def test_dictionary_rows_of_a_line() -> None:
    d = Dictionary.build([["a", "b", "a"], ["c"]], [["__label__x"], ["__label__y"]],
                         word_ngrams=2, bucket=100)  # fmt: skip
    assert d.words[0] == "a" and EOS in d.words
    rows, offsets = d.encode([["a", "zzz", "b"]])  # zzz is out of vocabulary
    words_part = sorted(r for r in rows if r < d.nwords)
    assert words_part == sorted([d.word_id("a"), d.word_id("b"), d.word_id(EOS)])
    grams = [r - d.nwords for r in rows if r >= d.nwords]
    # 3 bigrams: a-zzz, zzz-b, b-</s>: the OOV word still forms n-grams
    assert len(grams) == 3 and offsets.tolist() == [0, 6]


def test_char_ngrams_skip_lone_boundaries() -> None:
    # "<ab>" with minn=1, maxn=2: a, b, <a, ab, b> (not "<" or ">")
    got = char_ngram_buckets("ab", 1, 2, 10**9)
    want = [fnv1a32(g) % 10**9 for g in ["<a", "a", "ab", "b", "b>"]]
    assert sorted(got) == sorted(want)


def test_matches_official_fasttext_rows(tmp_path) -> None:
    fasttext = pytest.importorskip("fasttext")

    from danlu.tasks.text_classification.model import FastTextModel

    text = "\n".join(f"__label__{i % 2} 中文 词语 é{i % 5} x{i % 7} 好" for i in range(600))
    path = tmp_path / "t.txt"
    path.write_text(text + "\n", encoding="utf-8")
    # trained in its own process: the official trainer is sensitive to process state left
    # by earlier tests (it raised "Encountered NaN" in-process after them), loading is not
    code = (f"import fasttext; fasttext.train_supervised({str(path)!r}, wordNgrams=3, "
            f"bucket=5000, epoch=5, minn=2, maxn=3, verbose=0, thread=1, lr=0.05)"
            f".save_model({str(tmp_path / 'o.bin')!r})")  # fmt: skip
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
    official = fasttext.load_model(str(tmp_path / "o.bin"))
    words, counts = official.get_words(include_freq=True)
    labels, lcounts = official.get_labels(include_freq=True)
    d = Dictionary(list(words), list(counts), list(labels), list(lcounts), 3, 5000, 2, 3)
    matrix = official.get_input_matrix()
    model = FastTextModel(d, matrix, np.arange(5000), np.zeros((2, 100), np.float32), "softmax")
    for line in ["中文 é3 未知词 x1", "好 好 词语"]:
        ours = model.hidden([line.split()])[0]
        np.testing.assert_allclose(ours, official.get_sentence_vector(line), rtol=1e-5,
                                   atol=1e-6)  # fmt: skip


def test_reading_skips_and_counts_unlabeled_lines() -> None:
    from danlu.tasks.text_classification.data import parse_lines

    corpus = parse_lines(["__label__a x y", "no label", "", "w __label__b __label__c z"])
    assert corpus.skipped == 1  # the empty line is not counted
    assert corpus.words == [["x", "y"], ["w", "z"]]
    assert corpus.labels == [["__label__a"], ["__label__b", "__label__c"]]
    assert corpus.ntokens == (3 + 1) + (2 + 1) + 1 + (4 + 1)  # fastText counts </s> too
