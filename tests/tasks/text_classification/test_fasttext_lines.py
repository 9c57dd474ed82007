"""Lines as fastText reads them: a line ends at ``\\n`` only; ``\\r \\v \\f`` separate tokens;
``\\x1c``-``\\x1e``, U+0085, U+2028, U+2029 (where ``str.splitlines`` cuts) are part of tokens.

Checked on every reader (training, test, predict from a file and from standard input, word
vectors) against the official package where it is installed.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tests.conftest import danlu_env

from danlu import fasttext as danlu_fasttext
from danlu.tasks.text_classification.config import SkipgramConfig
from danlu.tasks.text_classification.data import (
    read_labeled_file,
    read_text_lines,
    read_vec,
    text_lines,
)
from danlu.tasks.text_classification.fast_reader import read_corpus
from danlu.tasks.text_classification.load import load_model
from danlu.tasks.text_classification.predict import file_batches, predict_stream
from danlu.tasks.text_classification.unsupervised import read_lines, read_word_data

# every line labelled (fastText also counts the words of a line without a label, danlu
# does not: a difference of its own); each odd character in several places
ODD = ("__label__a x\ry\v__label__b z\n"
       "__label__a p\fq\x1cr s\u2028t x\n"
       "__label__b u\x85v w\x1dx\x1ey\u2029z\r\n"
       "\x1c__label__a __label__a m n\r\n"
       "__label__b\vo\tp\x00q x\n"
       "__label__c \x1c\xa0\u3000 x\f\n"
       "__label__b x y z\n")  # fmt: skip


@pytest.mark.parametrize(
    ("text", "lines"),
    [
        ("", []),
        ("\n", [""]),
        ("a\nb", ["a", "b"]),
        ("a\nb\n", ["a", "b"]),
        ("a\n\nb\n\n", ["a", "", "b", ""]),
        ("a\r\nb\rc\vd\fe\x1cf\x1dg\x1eh\x85i\u2028j\u2029k\n",
         ["a\r", "b\rc\vd\fe\x1cf\x1dg\x1eh\x85i\u2028j\u2029k"]),
    ],
)  # fmt: skip
def test_text_lines_end_at_newline_only(tmp_path: Path, text: str, lines: list[str]) -> None:
    path = tmp_path / "t.txt"
    path.write_bytes(text.encode("utf-8"))
    assert text_lines(text) == read_text_lines(path) == lines


def test_the_example_of_the_rule_is_one_line(tmp_path: Path) -> None:
    """``__label__a x\\ry\\v__label__b z``: one line, words x y z, labels a and b."""
    path = tmp_path / "t.txt"
    path.write_bytes(b"__label__a x\ry\v__label__b z")
    corpus = read_labeled_file(path)
    assert (corpus.words, corpus.labels) == ([["x", "y", "z"]], [["__label__a", "__label__b"]])
    compiled = read_corpus(path)
    assert (compiled.n_lines, compiled.ntokens) == (1, corpus.ntokens) == (1, 6)
    assert read_lines(str(path)) == [["__label__a", "x", "y", "__label__b", "z"]]


def test_a_vec_word_may_hold_a_line_separator_of_python(tmp_path: Path) -> None:
    path = tmp_path / "v.vec"
    path.write_bytes("2 2\na\x1cb 1 2\nc\u2028d 3 4\r\n".encode())
    words, table = read_vec(path, 2)
    assert words == ["a\x1cb", "c\u2028d"] and table.tolist() == [[1, 2], [3, 4]]


# ------------------------------------------------------------- against the official tool
# the official package runs in its own process: its trainer is sensitive to the state other
# tests leave (it raised "Encountered NaN" in-process), and its answers come back as JSON;
# dim 32, as in test_fasttext_bin: the installed build fails at random below that
OFFICIAL = """
import json, fasttext as ft
sup = ft.train_supervised('odd.txt', minCount=1, epoch=50, lr=1.0, dim=32, seed=1, thread=1,
                          bucket=1000, minn=1, maxn=2, wordNgrams=2, verbose=0)
sup.save_model('odd.bin')
words = ft.train_unsupervised('words.txt', minCount=1, epoch=1, dim=32, thread=1, bucket=1000,
                              verbose=0)
def counts(pair):
    return dict(zip(pair[0], pair[1].tolist()))
lines = open('odd.txt', encoding='utf-8', newline='').read().split('\\n')[:-1]
json.dump({
    'words': counts(sup.get_words(include_freq=True)),
    'labels': counts(sup.get_labels(include_freq=True)),
    'test': {k: sup.test('odd.txt', k) for k in (1, 2, 3)},
    'predict': ''.join(' '.join(sup.predict(line, 2)[0]) + '\\n' for line in lines),
    'corpus': counts(words.get_words(include_freq=True)),
}, open('official.json', 'w'))
"""


@pytest.fixture(scope="module")
def official(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """A folder with ``odd.txt`` (:data:`ODD`) and ``odd.bin``, the official model trained
    on it; and the official package's answers (:data:`OFFICIAL`)."""
    pytest.importorskip("fasttext")
    folder = tmp_path_factory.mktemp("official_lines")
    (folder / "odd.txt").write_bytes(ODD.encode("utf-8"))
    words = ODD.replace("__label__", "")  # fastText files a label apart from word vectors
    (folder / "words.txt").write_bytes(words.encode("utf-8"))
    subprocess.run([sys.executable, "-c", OFFICIAL], cwd=folder, check=True, timeout=120)
    return folder, json.loads((folder / "official.json").read_text(encoding="utf-8"))


def _counts(pair: tuple) -> dict[str, int]:
    names, counts = pair
    return dict(zip(names, counts.tolist(), strict=True))


def test_words_and_labels_are_the_official_ones(official: tuple[Path, dict[str, Any]]) -> None:
    folder, want = official
    ours = danlu_fasttext.train_supervised(str(folder / "odd.txt"), minCount=1, epoch=1, dim=5,
                                           thread=1, verbose=0)  # fmt: skip
    # as dicts: fastText's ties are in no fixed order
    assert _counts(ours.get_words(include_freq=True)) == want["words"]
    assert _counts(ours.get_labels(include_freq=True)) == want["labels"]
    assert "s\u2028t" in ours.words and "\x1c__label__a" in ours.words


@pytest.mark.parametrize("k", [1, 2, 3])
def test_test_is_the_official_one(official: tuple[Path, dict[str, Any]], k: int) -> None:
    """N, P@k and R@k of the official model read by danlu, on the odd file."""
    folder, want = official
    got = danlu_fasttext.load_model(folder / "odd.bin").test(str(folder / "odd.txt"), k)
    assert got[0] == want["test"][str(k)][0] == 7
    np.testing.assert_allclose(got[1:], want["test"][str(k)][1:])


def test_predict_answers_each_newline_line_as_the_official_tool(
    official: tuple[Path, dict[str, Any]],
) -> None:
    """A file read whole, and standard input (read as bytes: ``\\r`` is not translated)."""
    folder, want = official
    model = load_model(folder / "odd.bin")
    lines = read_text_lines(folder / "odd.txt")
    with open(folder / "from_file.txt", "w", encoding="utf-8") as out:
        assert predict_stream(model, file_batches(lines), 2, 0.0, False, out) == 7
    assert (folder / "from_file.txt").read_text(encoding="utf-8") == want["predict"]
    proc = subprocess.run([sys.executable, "-m", "danlu", "predict", "odd.bin", "-", "2"],
                          input=ODD.encode("utf-8"), capture_output=True, cwd=folder,
                          env=danlu_env(), timeout=120)  # fmt: skip
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stdout.decode("utf-8") == want["predict"]


def test_danlu_predict_file_answers_each_newline_line(
    official: tuple[Path, dict[str, Any]],
) -> None:
    folder, want = official
    proc = subprocess.run([sys.executable, "-m", "danlu", "predict", "odd.bin", "odd.txt", "2"],
                          capture_output=True, cwd=folder, env=danlu_env(),
                          timeout=120)  # fmt: skip
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stdout.decode("utf-8") == want["predict"]


@pytest.mark.parametrize("compiled", [True, False], ids=["compiled reader", "python reader"])
def test_a_word_vector_corpus_is_read_as_the_official_tool(
    official: tuple[Path, dict[str, Any]], compiled: bool
) -> None:
    from danlu.tasks.text_classification.sgd_kernel import load

    folder, want = official
    kernel = load() if compiled else None
    if compiled and kernel is None:
        pytest.skip("the kernel does not build here")
    cfg = SkipgramConfig(input=str(folder / "words.txt"), output="", min_count=1)
    d, data = read_word_data(cfg, kernel)
    assert dict(zip(d.words, d.word_counts, strict=True)) == want["corpus"]
    assert data.ntokens == sum(d.word_counts)
