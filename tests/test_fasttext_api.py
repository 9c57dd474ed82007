"""``danlu.fasttext``: fastText's Python API, and a side-by-side with the official one."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from danlu import fasttext
from danlu.errors import UsageError
from danlu.tasks.demo_config import sample_path


def _split(tmp_path: Path) -> tuple[Path, Path]:
    """The shipped reviews, one char per token (so the official tool reads them too)."""
    lines = sample_path("sentiment_zh.txt").read_text(encoding="utf-8").splitlines()

    def spaced(line: str) -> str:
        label, text = line.split(" ", 1)
        return label + " " + " ".join(c for c in text if not c.isspace())

    train, test = tmp_path / "train.txt", tmp_path / "test.txt"
    train.write_text("\n".join(map(spaced, lines[:4000])) + "\n", encoding="utf-8")
    test.write_text("\n".join(map(spaced, lines[4000:])) + "\n", encoding="utf-8")
    return train, test


OPTIONS = {"epoch": 10, "lr": 0.5, "wordNgrams": 2, "bucket": 200_000, "thread": 1}


@pytest.fixture(scope="module")
def split(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return _split(tmp_path_factory.mktemp("api"))


def test_api_round_trip(split, tmp_path) -> None:
    train, test = split
    model = fasttext.train_supervised(input=str(train), **OPTIONS)
    assert set(model.labels) == {"__label__pos", "__label__neg"}
    labels, probs = model.predict("质 量 很 好 ， 推 荐", k=2)
    assert isinstance(labels, tuple) and labels[0] == "__label__pos"
    assert probs.shape == (2,) and probs.sum() == pytest.approx(1.0, abs=1e-4)
    many_labels, many_probs = model.predict(["太 差 了", "很 好"], k=1)
    assert [x[0] for x in many_labels] == ["__label__neg", "__label__pos"]
    assert all(p.shape == (1,) for p in many_probs)
    with pytest.raises(ValueError, match="one line at a time"):
        model.predict("a\nb")
    n, p, r = model.test(str(test))
    assert n == 1000 and p == r and p > 0.75
    per_label = model.test_label(str(test))
    assert set(per_label["__label__pos"]) == {"precision", "recall", "f1score"}
    assert model.get_sentence_vector("很 好").shape == (100,)
    path = tmp_path / "m.safetensors"
    model.save_model(str(path))
    again = fasttext.load_model(str(path))
    assert again.test(str(test)) == (n, p, r)
    np.testing.assert_array_equal(again.get_sentence_vector("很 好"),
                                  model.get_sentence_vector("很 好"))  # fmt: skip


def test_api_quantize_in_place_like_fasttext(split, tmp_path) -> None:
    train, test = split
    model = fasttext.train_supervised(input=str(train), **OPTIONS)
    _, p_full, _ = model.test(str(test))
    model.quantize(input=str(train), retrain=True, cutoff=2000, qnorm=True)
    inner = model._model
    assert inner.args["quantized"] == "pq" and inner.args["retrained"]
    assert inner.input.shape[0] == 2000 and inner.packed["input_codes"].shape == (2000, 50)
    _, p_small, _ = model.test(str(test))
    assert p_small > p_full - 0.03
    path = tmp_path / "m.q.safetensors"
    model.save_model(str(path))
    assert fasttext.load_model(str(path)).test(str(test))[1] == p_small
    with pytest.raises(UsageError, match="needs input="):
        model.quantize(retrain=True)


def test_unknown_option_lists_valid_ones(split) -> None:
    with pytest.raises(UsageError, match=r"unknown option 'wordNgram'.*word_ngrams"):
        fasttext.train_supervised(input=str(split[0]), wordNgram=2)


def test_close_to_official_fasttext(split) -> None:
    official_ft = pytest.importorskip("fasttext")
    train, test = split
    ours = fasttext.train_supervised(input=str(train), **OPTIONS)
    official = official_ft.train_supervised(str(train), verbose=0, **OPTIONS)
    _, p_ours, _ = ours.test(str(test))
    _, p_official, _ = official.test(str(test))
    assert p_ours >= p_official - 0.02, (p_ours, p_official)
    texts = [line.split(" ", 1)[1] for line in test.read_text(encoding="utf-8").splitlines()]
    agree = np.mean([a == b for a, b in zip(ours.predict(texts)[0], official.predict(texts)[0],
                                            strict=True)])  # fmt: skip
    assert agree > 0.85, agree


def test_api_trains_a_neural_model(split, tmp_path) -> None:
    train, test = split
    model = fasttext.train_supervised(input=str(train), model="textcnn", epoch=1, dim=32,
                                      output=str(tmp_path / "cnn"), thread=1)  # fmt: skip
    assert (tmp_path / "cnn.run" / "metrics.json").is_file()
    labels, probs = model.predict("质 量 很 好", k=2)
    assert set(labels) == {"__label__pos", "__label__neg"}
    assert probs.sum() == pytest.approx(1.0, abs=1e-4)
    n, p, _ = model.test(str(test))
    assert n == 1000 and p > 0.6
    assert "好" in model.words and model.get_dimension() == 32
    with pytest.raises(ValueError, match="fastText model"):
        model.get_sentence_vector("很 好")
    model.save_model(str(tmp_path / "cnn.safetensors"))
    again = fasttext.load_model(str(tmp_path / "cnn.safetensors"))
    assert again.test(str(test)) == (n, p, p)
