"""``danlu.fasttext`` against the official package: the same vectors, ids and neighbours
from the same ``.bin`` files, and the same public API.

The official package trains on real text segmented into words by jieba (THUCNews titles,
10 topics, where ``../shared/data`` has them; else the shipped reviews), each model in a
process of its own (its trainer ends with NaN below dim 32 or when it trained before in
the process); both packages then load the file.
"""

from __future__ import annotations
import __future__

import inspect
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from tests.conftest import SHARED_DATA

from danlu import fasttext as ours_ft
from danlu.tasks.demo_config import sample_path
from danlu.tasks.text_classification.data import get_tokenizer

official = pytest.importorskip("fasttext")

COMMON = "dim=32, bucket=20000, thread=1, verbose=0, seed=1"
TRAINED = {  # name -> the official call that makes it
    "sub.bin": f"ft.train_supervised(TRAIN, epoch=5, lr=0.5, minn=2, maxn=4, wordNgrams=2, "
    f"{COMMON})",
    "plain.bin": f"ft.train_supervised(TRAIN, epoch=3, lr=0.5, loss='hs', wordNgrams=2, "
    f"{COMMON})",
    # pruned to 3000 rows and product-quantized: a bucket that is not kept is no row
    "sub.ftz": "ft.load_model('sub.bin'); m.quantize(cutoff=3000, qnorm=True)",
}  # fmt: skip
DENSE = ("sub.bin", "plain.bin")
OOV = ("没见过的词语", "qwerty", "", "</s>", "__label__nope")  # "": "<>" is its n-gram


@pytest.fixture(scope="module")
def lines() -> list[str]:
    """4000 ``__label__`` lines, words from jieba."""
    root = SHARED_DATA / "thucnews"
    if (root / "train.txt").is_file():
        names = (root / "class.txt").read_text(encoding="utf-8").split()
        rows = [line.rsplit("\t", 1) for line in
                (root / "train.txt").read_text(encoding="utf-8").splitlines()[:4000]]  # fmt: skip
        pairs = [(names[int(y)], title) for title, y in rows]
    else:
        lines = sample_path("sentiment_zh.txt").read_text(encoding="utf-8").splitlines()
        pairs = [(label[len("__label__") :], text) for label, text in
                 (line.split(" ", 1) for line in lines[:4000])]  # fmt: skip
    jieba = get_tokenizer("jieba")
    return [f"__label__{label} " + " ".join(jieba(text)) for label, text in pairs]


@pytest.fixture(scope="module")
def models(lines: list[str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("parity")
    (folder / "train.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    for name, call in TRAINED.items():  # in order: sub.ftz shrinks sub.bin
        make = "m = " + call.replace("; ", "\n")
        script = f"import fasttext as ft\nTRAIN = 'train.txt'\n{make}\nm.save_model({name!r})"
        subprocess.run([sys.executable, "-c", script], cwd=folder, check=True, timeout=120)
    return folder


def _pair(models: Path, name: str) -> tuple[ours_ft.FastText, object]:
    return ours_ft.load_model(models / name), official.load_model(str(models / name))


def _probe_words(theirs, pruned: bool = False) -> list[str]:
    """In-vocabulary words of every frequency, the first label, then :data:`OOV`.

    fastText gives a label an id, ``nwords +`` its index, and reads that input row as its
    vector; in a pruned model that row is one of the kept buckets in the order of
    fastText's file, which danlu does not keep (it keeps them by bucket): there a label's
    "word vector" differs, so ``pruned`` leaves the label out.
    """
    words = theirs.words  # a pruned model keeps fewer
    label = [] if pruned else [theirs.labels[0]]
    return [words[3], words[len(words) // 10], words[len(words) // 2], words[-1], *label, *OOV]


def _text(models: Path, n: int) -> list[str]:
    lines = (models / "train.txt").read_text(encoding="utf-8").splitlines()[-n:]
    return [line.split(" ", 1)[1] for line in lines]


# ---------------------------------------------------------------------------- dictionary
def test_words_labels_ids_subwords_and_lines_are_the_official_ones(models) -> None:
    ours, theirs = _pair(models, "sub.bin")
    assert ours.words == theirs.words and ours.labels == theirs.labels
    for get in ("get_words", "get_labels"):
        (names, counts), (their_names, their_counts) = (getattr(m, get)(include_freq=True)
                                                        for m in (ours, theirs))  # fmt: skip
        assert names == their_names and counts.dtype == their_counts.dtype == np.int64
        np.testing.assert_array_equal(counts, their_counts)
    for word in _probe_words(theirs):
        # a label has an id among the words (nwords + its index), as in fastText
        assert ours.get_word_id(word) == theirs.get_word_id(word), word
        assert ours.get_label_id(word) == theirs.get_label_id(word), word
        assert ours.get_subword_id(word) == theirs.get_subword_id(word), word
        strings, ids = ours.get_subwords(word)
        their_strings, their_ids = theirs.get_subwords(word)
        assert strings == their_strings and ids.dtype == their_ids.dtype, word
        np.testing.assert_array_equal(ids, their_ids)
    lines = [*_text(models, 5), "__label__nope 未知 __label__" + ours.labels[1][9:] + " 的"]
    for line in lines:
        assert ours.get_line(line) == theirs.get_line(line)
    assert ours.get_line(lines) == theirs.get_line(lines)
    with pytest.raises(ValueError, match="one line at a time"):
        ours.get_line("a\nb")


def test_tokenize_splits_as_fasttext() -> None:
    for text in ("a b", " a\tb \n", "a\n\nb\r\nc", "\nx", "e\u3000f\x00g\x0bh\x0ci", "", "中 文"):
        assert ours_ft.tokenize(text) == official.tokenize(text), repr(text)


# ---------------------------------------------------------------------------- vectors
@pytest.mark.parametrize("name", TRAINED)
def test_vectors_are_the_official_ones(models, name) -> None:
    ours, theirs = _pair(models, name)
    assert ours.get_dimension() == theirs.get_dimension() == 32
    assert ours.is_quantized() == theirs.is_quantized() == name.endswith(".ftz")
    for word in _probe_words(theirs, pruned=name.endswith(".ftz")):
        vec = ours.get_word_vector(word)
        assert vec.dtype == np.float32 and vec.shape == (32,)
        np.testing.assert_allclose(vec, theirs.get_word_vector(word), rtol=0, atol=1e-6,
                                   err_msg=word)  # fmt: skip
        np.testing.assert_array_equal(ours[word], vec)
    if name == "plain.bin":  # no char n-grams: an unknown word has no rows, a zero vector
        assert not ours.get_word_vector("没见过的词语").any()
    for line in _text(models, 30):
        np.testing.assert_allclose(ours.get_sentence_vector(line),
                                   theirs.get_sentence_vector(line), rtol=0, atol=1e-6)  # fmt: skip
    if name not in DENSE:  # fastText: "Can't get quantized Matrix"
        for model in (ours, theirs):
            with pytest.raises(ValueError, match="quantized"):
                model.get_input_matrix()
            with pytest.raises(ValueError, match="quantized"):
                model.get_output_matrix()
        return
    full = theirs.get_input_matrix()
    np.testing.assert_allclose(ours.get_input_matrix(), full, rtol=0, atol=1e-6)
    np.testing.assert_allclose(ours.get_output_matrix(), theirs.get_output_matrix(), rtol=0,
                               atol=1e-6)  # fmt: skip
    for row in (0, 7, len(theirs.words), len(full) - 1):
        np.testing.assert_array_equal(ours.get_input_vector(row), theirs.get_input_vector(row))
    with pytest.raises(IndexError, match=f"rows are 0..{len(full) - 1}"):
        ours.get_input_vector(len(full))


def _assert_same_neighbours(ours: list, theirs_all: list, k: int, what: str) -> None:
    """``ours`` is the top ``k`` of the official full ranking ``theirs_all``: the same scores
    in order (to 1e-5), each word's official score equal to ours, and the same word at each
    place unless the official score there ties (to 1e-5) with another word's (fastText
    orders ties by its heap, danlu by row)."""
    official_score = {word: score for score, word in theirs_all}
    scores = np.array([score for score, _ in theirs_all])
    assert len(ours) == min(k, len(theirs_all)), what
    for i, ((score, word), (their_score, their_word)) in enumerate(
        zip(ours, theirs_all[:k], strict=True)
    ):
        assert abs(score - their_score) <= 1e-5, (what, i, word, their_word)
        assert abs(official_score[word] - score) <= 1e-5, (what, word)
        tied = np.sum(np.abs(scores - their_score) <= 1e-5) > 1
        assert word == their_word or tied, (what, i, word, their_word)


@pytest.mark.parametrize("name", TRAINED)
def test_neighbours_and_analogies_are_the_official_ones(models, name) -> None:
    ours, theirs = _pair(models, name)
    everyone = len(theirs.words)
    probe = _probe_words(theirs, pruned=name.endswith(".ftz"))
    for word in [*probe[:4], *OOV[:2]]:
        mine = ours.get_nearest_neighbors(word, k=10)
        assert all(isinstance(s, float) and isinstance(w, str) for s, w in mine)
        _assert_same_neighbours(mine, theirs.get_nearest_neighbors(word, k=everyone), 10, word)
    for a, b, c in [probe[:3], (probe[3], OOV[0], probe[1]), (probe[-1], probe[0], probe[2])]:
        mine = ours.get_analogies(a, b, c, k=10)
        _assert_same_neighbours(mine, theirs.get_analogies(a, b, c, k=everyone), 10, a + b + c)
        assert not {a, b, c} & {w for _, w in mine}
    assert ours.get_nearest_neighbors(probe[0], k=0) == []  # fastText's k=0 reads past its heap


# ---------------------------------------------------------------------------- danlu models
def test_a_danlu_model_gives_what_fasttext_gives_from_its_bin(lines, tmp_path) -> None:
    """A model trained by danlu stores only the buckets it saw; fastText reads its ``.bin``
    with zero rows for the others, and must agree with danlu's answers on the model."""
    train = tmp_path / "small.txt"
    train.write_text("\n".join(lines[:300]) + "\n", encoding="utf-8")
    ours = ours_ft.train_supervised(input=str(train), dim=16, epoch=2, lr=0.5, minn=2, maxn=4,
                                    wordNgrams=2, bucket=20000, thread=1)  # fmt: skip
    assert len(ours._model.ngram_buckets) < 20000
    ours.save_model(str(tmp_path / "m.bin"))
    theirs = official.load_model(str(tmp_path / "m.bin"))
    np.testing.assert_array_equal(ours.get_input_matrix(), theirs.get_input_matrix())
    for word in _probe_words(theirs):
        np.testing.assert_allclose(ours.get_word_vector(word), theirs.get_word_vector(word),
                                   rtol=0, atol=1e-6, err_msg=word)  # fmt: skip
        assert ours.get_subwords(word)[0] == theirs.get_subwords(word)[0]
    word = _probe_words(theirs)[0]
    everyone = theirs.get_nearest_neighbors(word, k=len(theirs.words))
    _assert_same_neighbours(ours.get_nearest_neighbors(word), everyone, 10, word)
    # set_matrices takes the layout get_*_matrix gives
    inp, out = ours.get_input_matrix(), ours.get_output_matrix()
    ours.set_matrices(2 * inp, out)
    np.testing.assert_allclose(ours.get_word_vector(word), 2 * theirs.get_word_vector(word),
                               rtol=0, atol=2e-6)  # fmt: skip
    np.testing.assert_array_equal(ours.get_input_matrix(), 2 * inp)
    with pytest.raises(ValueError, match="set_matrices needs an input of"):
        ours.set_matrices(inp[:-1], out)


def test_network_models_say_what_they_lack(tmp_path) -> None:
    lines = ["__label__a 好 的", "__label__b 不 好"] * 20
    (tmp_path / "t.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    net = ours_ft.train_supervised(input=str(tmp_path / "t.txt"), model="textcnn", epoch=1,
                                   dim=8, output=str(tmp_path / "cnn"), thread=1)  # fmt: skip
    assert "好" in net.get_words() and net.get_line("__label__a 好") == (
        ["好", "</s>"],
        ["__label__a"],
    )
    for call in (lambda: net.get_word_vector("好"), lambda: net.get_nearest_neighbors("好"),
                 lambda: net.get_words(include_freq=True)):  # fmt: skip
        with pytest.raises(ValueError, match="needs the fastText model"):
            call()


# ---------------------------------------------------------------------------- the API
VARIADIC = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)


def _official_api() -> dict[str, object]:
    """Public module names (less ``from __future__`` leftovers) and ``FastText.<method>``."""
    api = {name: getattr(official, name) for name in dir(official) if not name.startswith("_")
           and not isinstance(getattr(official, name), __future__._Feature)}  # fmt: skip
    cls = official.FastText._FastText
    api |= {f"FastText.{name}": inspect.getattr_static(cls, name) for name in dir(cls)
            if not name.startswith("_")}  # fmt: skip
    return api


def _ours(name: str) -> object | None:
    if name.startswith("FastText."):
        return inspect.getattr_static(ours_ft.FastText, name.split(".", 1)[1], None)
    return getattr(ours_ft, name, None)


def _incompatible(theirs, ours) -> str:
    """Why a call that fastText's signature accepts could fail on danlu's ('' if none).

    The named parameters must be fastText's, in order, with its defaults; danlu may add
    more after them, with defaults. fastText's ``train_*`` take ``(*kargs, **kwargs)`` and
    read the names from a list (``input`` first): danlu names ``input`` and must take the
    rest as keywords (a second positional option, which fastText allows, is refused).
    """
    t = [p for p in inspect.signature(theirs).parameters.values() if p.name != "self"]
    o = [p for p in inspect.signature(ours).parameters.values() if p.name != "self"]
    t_named = [(p.name, p.default) for p in t if p.kind not in VARIADIC]
    o_named = [p for p in o if p.kind not in VARIADIC]
    if [(p.name, p.default) for p in o_named[: len(t_named)]] != t_named:
        return f"parameters {o} are not fastText's {t}"
    kinds = {p.kind for p in o}
    if any(p.kind == inspect.Parameter.VAR_KEYWORD for p in t) and VARIADIC[1] not in kinds:
        return "fastText takes **kwargs"
    required = [p.name for p in o_named[len(t_named) :] if p.default is p.empty]
    if required and not any(p.kind == inspect.Parameter.VAR_POSITIONAL for p in t):
        return f"danlu requires {required}"
    return ""


def test_danlu_has_the_official_public_api() -> None:
    missing, wrong = set(), {}
    for name, theirs in _official_api().items():
        ours = _ours(name)
        if ours is None:
            missing.add(name)
        elif isinstance(theirs, property) or isinstance(ours, property):
            if not (isinstance(theirs, property) and isinstance(ours, property)):
                wrong[name] = "a property in one package only"
        elif isinstance(theirs, str):  # EOS, BOW, EOW
            if ours != theirs:
                wrong[name] = f"{ours!r} != {theirs!r}"
        elif inspect.isfunction(theirs) and (why := _incompatible(theirs, ours)):
            wrong[name] = why
    assert not missing, f"the official package has, danlu not: {sorted(missing)}"
    assert not wrong, wrong
    module_names = {n for n in _official_api() if "." not in n}
    assert module_names <= set(ours_ft.__all__)


def test_removed_entry_points_raise_in_both() -> None:
    for name in ("cbow", "skipgram", "supervised"):
        for package in (official, ours_ft):
            with pytest.raises(Exception, match="not supported any more"):
                getattr(package, name)(input="x.txt")
