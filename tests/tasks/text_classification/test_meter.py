"""``FastText.get_meter`` against the official package's meter, on the same official files.

The official package trains on THUCNews titles (a token per character) with softmax, hs
and ova; both packages load each file and measure the same labeled dev file. The official
``_Meter`` wrapper builds its arrays with ``np.array(..., copy=False)``, which numpy 2
refuses, so its C++ meter (``model.f.getMeter``) is read directly: what the wrapper would
return, as lists of pairs.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from danlu import fasttext as danlu_fasttext
from danlu.errors import UsageError
from danlu.tasks.text_classification.meter import Meter

official = pytest.importorskip("fasttext")

COMMON = "dim=32, bucket=2000, thread=1, verbose=0, seed=1"
TRAINED = {  # name -> the official call that makes it
    "sm.bin": f"train_supervised(TRAIN, epoch=5, lr=0.5, wordNgrams=2, minn=1, maxn=2, {COMMON})",
    "hs.bin": f"train_supervised(TRAIN, epoch=5, lr=0.5, loss='hs', wordNgrams=2, {COMMON})",
    "ova.bin": f"train_supervised(TRAIN, epoch=5, lr=0.5, loss='ova', {COMMON})",
}  # fmt: skip
GRID = (0.0, 0.1, 0.3, 0.5, 0.7, 0.9, 0.95, 1.0)


@pytest.fixture(scope="module")
def folder(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """3000 training titles of 10 topics, 400 labeled dev titles, the official models."""
    out = tmp_path_factory.mktemp("meter")
    root = shared_data / "thucnews"
    names = (root / "class.txt").read_text(encoding="utf-8").split()
    for split, n in (("train", 3000), ("dev", 400)):
        rows = [line.rsplit("\t", 1) for line in
                (root / f"{split}.txt").read_text(encoding="utf-8").splitlines()[:n]]  # fmt: skip
        lines = [f"__label__{names[int(y)]} " + " ".join(c for c in t if not c.isspace())
                 for t, y in rows]  # fmt: skip
        (out / f"{split}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    for name, call in TRAINED.items():  # a process each: the official trainer ends in NaN
        script = f"import fasttext as ft\nTRAIN = 'train.txt'\nft.{call}.save_model({name!r})"
        subprocess.run([sys.executable, "-c", script], cwd=out, check=True, timeout=120)
    return out


def _labels(theirs) -> list[str | None]:
    """All labels (None), a frequent and a rare label, an unknown one (fastText's id -1: all
    labels again) and a word (an id that is no label's)."""
    return [None, theirs.labels[0], theirs.labels[-1], "__label__nope", theirs.words[5]]


def _pairs(meter, label_id: int) -> np.ndarray:
    return np.array(meter.scoreVsTrue(label_id), dtype=np.float64).reshape(-1, 2)


def _curve(meter, label_id: int) -> np.ndarray:
    pairs = meter.precisionRecallCurveLabel(label_id) if label_id != -1 else (
        meter.precisionRecallCurve())  # fmt: skip
    return np.array(pairs, dtype=np.float64).reshape(-1, 2)


@pytest.mark.parametrize("k", [-1, 1, 2])
@pytest.mark.parametrize("name", TRAINED)
def test_meter_gives_the_official_numbers(folder, name, k) -> None:
    path = str(folder / "dev.txt")
    theirs = official.load_model(str(folder / name))
    raw = theirs.f.getMeter(path, k)
    meter = danlu_fasttext.load_model(folder / name).get_meter(path, k)
    for label in _labels(theirs):
        label_id = theirs.get_label_id(label) if label else -1
        # scores: each prediction's reported probability and whether it is gold, sorted
        scores, gold = meter.score_vs_true(label or "")
        assert scores.dtype == gold.dtype == np.float64 and scores.shape == gold.shape
        expected = _pairs(raw, label_id)
        assert len(scores) == len(expected), (label, k)
        np.testing.assert_array_equal(gold, expected[:, 1])
        np.testing.assert_allclose(scores, expected[:, 0], rtol=0, atol=1e-6, err_msg=label)
        # the curve: per label the same points; for all labels a tie in float32 scores
        # that one package has and the other not (scores 1e-7 apart) merges two points
        precision, recall = meter.precision_recall_curve(label)
        assert precision.dtype == recall.dtype == np.float64
        curve = _curve(raw, label_id)
        if label_id != -1:  # a label's, or a word's (none)
            np.testing.assert_allclose(np.stack([precision, recall], 1).reshape(-1, 2), curve,
                                       rtol=0, atol=1e-12, err_msg=label)  # fmt: skip
        else:
            assert abs(len(precision) - len(curve)) <= 1 and len(curve) > 100
        for value in GRID:
            at_recall = meter.precision_at_recall(value, label)
            at_precision = meter.recall_at_precision(value, label)
            assert isinstance(at_recall, float) and isinstance(at_precision, float)
            if label_id == -1:
                official_pr = (raw.precisionAtRecall(value), raw.recallAtPrecision(value))
            else:
                official_pr = (raw.precisionAtRecallLabel(label_id, value),
                               raw.recallAtPrecisionLabel(label_id, value))  # fmt: skip
            np.testing.assert_allclose((at_recall, at_precision), official_pr, rtol=0, atol=1e-6,
                                       err_msg=f"{label} {value}")  # fmt: skip


@pytest.mark.parametrize("k", [-1, 2])
def test_the_curve_of_the_official_scores_is_the_official_curve(folder, k) -> None:
    """danlu's curve, precision_at_recall and recall_at_precision on the official pairs
    themselves: the same numbers exactly, for every label and for all together."""
    path = str(folder / "dev.txt")
    theirs = official.load_model(str(folder / "hs.bin"))
    raw = theirs.f.getMeter(path, k)
    pairs = tuple(_pairs(raw, i) for i in range(len(theirs.labels)))
    golds = np.array([int(p[:, 1].sum()) for p in pairs])  # no line repeats a label here
    meter = Meter(tuple(theirs.labels), pairs, golds)
    for label_id, label in [(-1, None), *enumerate(theirs.labels)]:
        precision, recall = meter.precision_recall_curve(label)
        np.testing.assert_array_equal(np.stack([precision, recall], 1).reshape(-1, 2),
                                      _curve(raw, label_id))  # fmt: skip
        for value in GRID:
            if label_id == -1:
                assert meter.precision_at_recall(value) == raw.precisionAtRecall(value)
                assert meter.recall_at_precision(value) == raw.recallAtPrecision(value)
            else:
                assert meter.precision_at_recall(value, label) == (
                    raw.precisionAtRecallLabel(label_id, value)
                )
                assert meter.recall_at_precision(value, label) == (
                    raw.recallAtPrecisionLabel(label_id, value)
                )


def test_meter_refuses_what_fasttext_refuses(folder, tmp_path) -> None:
    model = danlu_fasttext.load_model(folder / "sm.bin")
    for k in (0, -2):
        with pytest.raises(ValueError, match="k must be >= 1, or -1"):
            model.get_meter(str(folder / "dev.txt"), k)
    lines = ["__label__a 好 的", "__label__b 不 好"] * 20
    (tmp_path / "t.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    net = danlu_fasttext.train_supervised(input=str(tmp_path / "t.txt"), model="textcnn",
                                          epoch=1, dim=8, output=str(tmp_path / "cnn"),
                                          thread=1)  # fmt: skip
    with pytest.raises(ValueError, match="get_meter needs the fastText model"):
        net.get_meter(str(tmp_path / "t.txt"))
    vectors = danlu_fasttext.train_unsupervised(str(tmp_path / "t.txt"), dim=4, epoch=1,
                                                minCount=1, thread=1)  # fmt: skip
    with pytest.raises(UsageError, match="not a classifier"):
        vectors.get_meter(str(tmp_path / "t.txt"))
