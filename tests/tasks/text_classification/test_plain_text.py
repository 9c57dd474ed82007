"""Lines of plain text encoded in C (``plain_text.py``) against the Python path: the same
input rows as ``Dictionary.encode`` of ``str.split`` tokens, hence the same predictions.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

from danlu import fasttext as danlu_fasttext
from danlu.tasks.text_classification.data import parse_line, whitespace_tokens
from danlu.tasks.text_classification.dictionary import Dictionary
from danlu.tasks.text_classification.load import load_model
from danlu.tasks.text_classification.plain_text import PlainLines, VocabTable, plain_lines
from danlu.tasks.text_classification.predict import format_prediction, predict_stream
from danlu.tasks.text_classification.sgd_kernel import load

pytestmark = pytest.mark.skipif(load() is None, reason="no C compiler: the Python path only")

# pieces of random lines: words, out-of-vocabulary tokens, every space the C cuts at
PIECES = ["体育", "新闻", "é", "a", "ab", "</s>", "oov", "未知", "x", " ", "  ", "\t", "\v",
          "\f", "\r", " \t "]  # fmt: skip


def _dictionary(word_ngrams: int, words: list[str] | None = None) -> Dictionary:
    words = words or ["体育", "</s>", "新闻", "é", "a", "ab", "x"]
    return Dictionary(words, [1] * len(words), ["__label__a"], [1], word_ngrams=word_ngrams,
                      bucket=1000)  # fmt: skip


def _texts(seed: int, n: int = 300) -> list[str]:
    rng = np.random.default_rng(seed)
    return ["".join(PIECES[i] for i in rng.integers(0, len(PIECES), rng.integers(0, 12)))
            for _ in range(n)]  # fmt: skip


@pytest.mark.parametrize("word_ngrams", [1, 2, 3])
def test_the_rows_are_those_of_the_split_tokens(word_ngrams: int) -> None:
    dictionary = _dictionary(word_ngrams)
    table = VocabTable.build(dictionary)
    texts = [*_texts(word_ngrams), "", "   ", "体育"]
    rows, offsets = table.encode(PlainLines(texts))
    ref_rows, ref_offsets = dictionary.encode([t.split() for t in texts])
    np.testing.assert_array_equal(offsets, ref_offsets)
    np.testing.assert_array_equal(rows, ref_rows)


def test_a_word_given_twice_keeps_its_last_row_as_a_dict_does() -> None:
    dictionary = _dictionary(1, ["a", "</s>", "b", "a"])
    rows, _ = VocabTable.build(dictionary).encode(PlainLines(["a b"]))
    assert rows.tolist() == [3, 2, 1] == dictionary.encode([["a", "b"]])[0].tolist()


def test_words_the_table_cannot_hold_leave_the_python_path() -> None:
    assert VocabTable.build(_dictionary(1, ["a", "</s>", "b\nc"])) is None
    assert VocabTable.build(_dictionary(1, ["a", "</s>", "\ud800"])) is None
    table = VocabTable.build(_dictionary(2))
    assert table.encode(PlainLines(["a \ud800"])) is None  # not UTF-8: the caller splits


def test_plain_lines_read_as_token_lists() -> None:
    lines = PlainLines(["a  b", "", "c\td"])
    assert len(lines) == 3 and lines[0] == ["a", "b"] and lines[-1] == ["c", "d"]
    assert isinstance(lines[1:], PlainLines) and list(lines[1:]) == [[], ["c", "d"]]
    assert PlainLines.joined([["a", "b"], []]).texts == ["a b", ""]


@pytest.fixture(scope="module")
def trained(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A danlu model (word bigrams) of 3000 THUCNews titles, a token per character, and
    400 dev titles."""
    folder = tmp_path_factory.mktemp("plain")
    root = shared_data / "thucnews"
    for split, n in (("train", 3000), ("dev", 400)):
        rows = [line.rsplit("\t", 1) for line in
                (root / f"{split}.txt").read_text(encoding="utf-8").splitlines()[:n]]  # fmt: skip
        lines = [f"__label__{y} " + " ".join(c for c in t if not c.isspace()) for t, y in rows]
        (folder / f"{split}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    model = danlu_fasttext.train_supervised(input=str(folder / "train.txt"), epoch=3, lr=0.5,
                                            wordNgrams=2, dim=16, thread=1)  # fmt: skip
    model.save_model(str(folder / "m.safetensors"))
    return folder / "m.safetensors", folder / "dev.txt"


def test_predicting_a_list_gives_what_predicting_each_line_gives(trained) -> None:
    path, dev = trained
    model = danlu_fasttext.load_model(path)
    texts = [line.split(" ", 1)[1] for line in dev.read_text(encoding="utf-8").splitlines()]
    labels, probs = model.predict(texts, k=2)
    assert model._model._vocab is not None  # the list went through the C path
    for i, text in enumerate(texts):
        one_labels, one_probs = model.predict(text, k=2)
        assert tuple(labels[i]) == one_labels
        np.testing.assert_allclose(probs[i], one_probs, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize(
    ("texts", "plain"),
    [
        (["a b", "c\td\r", ""], True),
        (["a __label__x"], False),  # a label: parse_line removes it
        (["a\nb"], False),  # a newline inside a text
        (["a\u3000b"], False),  # str.split cuts at U+3000, fastText does not
        (["a\x1cb"], False),
        ([], False),
    ],
)
def test_plain_lines_only_where_str_split_cuts_as_fasttext(texts: list[str], plain: bool) -> None:
    got = plain_lines(texts, "__label__")
    assert (got is not None) == plain
    if plain:
        assert list(got) == [t.split() for t in texts]


def test_danlu_predict_answers_as_the_token_path_does(trained) -> None:
    path, dev = trained
    model = load_model(path)
    lines = dev.read_text(encoding="utf-8").splitlines()
    texts = [line.split(" ", 1)[1] for line in lines]
    for batch in (texts, lines):  # plain texts; lines with their labels (the Python path)
        out = io.StringIO()
        assert predict_stream(model, [batch], 2, 0.0, True, out) == len(batch)
        tokens = [parse_line(x, "__label__", whitespace_tokens)[0] for x in batch]
        expected = [format_prediction(p, True) for p in model.predict_tokens(tokens, 2)]
        assert out.getvalue().splitlines() == expected
