"""``test`` and ``test-label``'s counts (``predict.confusion``, from index arrays) against
the definitions counted line by line over (label, probability) pairs, on THUCNews titles
with multi-label lines added (repeated, unknown and only-unknown gold labels)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from danlu import fasttext as danlu_fasttext
from danlu.tasks.text_classification import predict
from danlu.tasks.text_classification.data import read_labeled_file
from danlu.tasks.text_classification.load import load_model
from danlu.tasks.text_classification.model import FastTextModel
from danlu.tasks.text_classification.predict import confusion, evaluate

EXTRA = [  # gold labels repeated, unknown, or unknown only (a line fastText skips)
    "__label__1 __label__1 __label__4 体 育 新 闻",
    "__label__nope __label__2 股 市",
    "__label__nope 天 气",
    "__label__3 __label__5 __label__7 __label__9 房 价",
]


@pytest.fixture(scope="module")
def files(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A danlu model of 3000 THUCNews titles (a token per character), and 400 dev titles
    with :data:`EXTRA` spread among them."""
    folder = tmp_path_factory.mktemp("counts")
    root = shared_data / "thucnews"
    for split, n in (("train", 3000), ("dev", 400)):
        rows = [line.rsplit("\t", 1) for line in
                (root / f"{split}.txt").read_text(encoding="utf-8").splitlines()[:n]]  # fmt: skip
        lines = [f"__label__{y} " + " ".join(c for c in t if not c.isspace()) for t, y in rows]
        if split == "dev":
            for i, extra in enumerate(EXTRA):
                lines.insert(97 * i, extra)
        (folder / f"{split}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    model = danlu_fasttext.train_supervised(input=str(folder / "train.txt"), epoch=3, lr=0.5,
                                            wordNgrams=2, dim=16, thread=1)  # fmt: skip
    model.save_model(str(folder / "m.safetensors"))
    return folder / "m.safetensors", folder / "dev.txt"


def _by_definition(model: FastTextModel, path: Path, k: int, threshold: float) -> dict:
    """N, P@k, R@k and per-label (tp, predicted, gold), one line at a time."""
    corpus = read_labeled_file(path)
    known = set(model.labels)
    kept = [(w, [x for x in labels if x in known]) for w, labels in
            zip(corpus.words, corpus.labels, strict=True)]  # fmt: skip
    kept = [(w, gold) for w, gold in kept if gold]
    preds = model.predict_tokens([w for w, _ in kept], k, threshold)
    per = {label: [0, 0, 0] for label in model.labels}
    for (_, gold), pred in zip(kept, preds, strict=True):
        for label, _ in pred:
            per[label][0] += label in gold
            per[label][1] += 1
        for label in gold:
            per[label][2] += 1
    tp, npred, ngold = (sum(c[i] for c in per.values()) for i in range(3))
    return {"n": len(kept), "p": tp / npred, "r": tp / ngold, "per": per}


@pytest.mark.parametrize(("k", "threshold"), [(1, 0.0), (2, 0.0), (-1, 0.2), (3, 0.5)])
def test_the_counts_are_those_of_the_definitions(files, k: int, threshold: float) -> None:
    path, dev = files
    model = load_model(path)
    expected = _by_definition(model, dev, k, threshold)
    assert predict.test_file(model, str(dev), k, threshold) == (expected["n"], expected["p"],
                                                        expected["r"])  # fmt: skip
    corpus = read_labeled_file(dev)
    for whitespace in (False, True):  # token lists, or the same tokens encoded in C
        counts = confusion(model, corpus, k, threshold, whitespace)
        assert counts.n == expected["n"] == 400 + len(EXTRA) - 1
        per = {label: [c, p, g] for label, c, p, g in zip(
            model.labels, counts.correct.tolist(), counts.predicted.tolist(),
            counts.gold.tolist(), strict=True)}  # fmt: skip
        assert per == expected["per"]
        assert evaluate(model, corpus, k, threshold, whitespace)[1:] == (expected["p"],
                                                                        expected["r"])  # fmt: skip
    scores = predict.test_label_file(model, str(dev), k, threshold)
    for label, (tp, npred, ngold) in expected["per"].items():
        p = tp / npred if npred else math.nan
        f1 = 2 * tp / (npred + ngold)
        got = scores[label]
        assert got["recall"] == tp / ngold and got["f1score"] == f1
        assert got["precision"] == p or (math.isnan(p) and math.isnan(got["precision"]))


def test_no_labelled_line_gives_nan(files, tmp_path: Path) -> None:
    path, _ = files
    empty = tmp_path / "none.txt"
    empty.write_text("__label__nope a b\n", encoding="utf-8")
    n, p, r = predict.test_file(load_model(path), str(empty))
    assert n == 0 and math.isnan(p) and math.isnan(r)
