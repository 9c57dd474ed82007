"""Official fastText ``.bin``/``.ftz`` files in danlu, and danlu models written as ``.bin``.

The official package trains each kind of model on THUCNews titles (one character a
token, so both tools see the same tokens); danlu loads the file and must predict what the
official package predicts from it: the same labels, probabilities within 1e-6 (after
fastText's ``+ 1e-5``, see ``fasttext_bin``), the same sentence vectors.
"""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from tests.conftest import run_danlu

from danlu import fasttext as danlu_fasttext
from danlu.cli import main
from danlu.errors import UsageError
from danlu.tasks.text_classification.fasttext_bin import read_bin
from danlu.tasks.text_classification.fasttext_bin_write import write_bin
from danlu.tasks.text_classification.load import load_model
from danlu.tasks.text_classification.losses import sigmoid
from danlu.tasks.text_classification.model import FastTextModel

official = pytest.importorskip("fasttext")

# dim 32: the installed official build ends training below that with "Encountered NaN"
COMMON = "dim=32, bucket=2000, thread=1, verbose=0, seed=1"
TRAINED = {  # name -> the official training call (TRAIN: 10 topics, MANY: 300 labels)
    "sm.bin": f"train_supervised(TRAIN, epoch=5, lr=0.5, wordNgrams=2, minn=1, maxn=2, {COMMON})",
    "hs.bin": f"train_supervised(TRAIN, epoch=5, lr=0.5, loss='hs', wordNgrams=2, {COMMON})",
    "ova.bin": f"train_supervised(TRAIN, epoch=3, loss='ova', {COMMON})",
    "ns.bin": f"train_supervised(TRAIN, epoch=3, loss='ns', neg=3, wordNgrams=2, {COMMON})",
    "plain.bin": f"train_supervised(TRAIN, epoch=3, {COMMON})",  # no n-grams: bucket 0
    "many.bin": f"train_supervised(MANY, epoch=5, lr=0.5, wordNgrams=2, {COMMON})",
}
QUANTIZED = {  # name -> (the model it shrinks, the official quantize call)
    "q.ftz": ("sm.bin", "quantize()"),  # every row, product-quantized
    "qc.ftz": ("sm.bin", "quantize(input=TRAIN, cutoff=800, retrain=True, qnorm=True, epoch=1)"),
    "qout.ftz": ("many.bin", "quantize(input=MANY, cutoff=600, qnorm=True, qout=True, dsub=3)"),
}


def _spaced(title: str) -> str:
    return " ".join(c for c in title if not c.isspace())


@pytest.fixture(scope="module")
def data(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """THUCNews titles, a token per character: 10 topics; first characters as 300 labels
    (``-qout`` needs at least 256 output rows); 400 unseen dev titles."""
    folder = tmp_path_factory.mktemp("ftbin")
    root = shared_data / "thucnews"
    names = (root / "class.txt").read_text(encoding="utf-8").split()
    rows = [line.rsplit("\t", 1) for line in
            (root / "train.txt").read_text(encoding="utf-8").splitlines()[:6000]]  # fmt: skip
    topics = [f"__label__{names[int(y)]} {_spaced(t)}" for t, y in rows[:3000]]
    first = Counter(t[0] for t, _ in rows)
    top = {c for c, _ in first.most_common(300)}
    many = [f"__label__{t[0]} {_spaced(t)}" for t, _ in rows if t[0] in top and t[0].strip()]
    dev = (root / "dev.txt").read_text(encoding="utf-8").splitlines()[:400]
    paths = {"train": folder / "train.txt", "many": folder / "many.txt", "dev": folder / "dev.txt"}
    for name, lines in (("train", topics), ("many", many),
                        ("dev", [_spaced(line.rsplit("\t", 1)[0]) for line in dev])):  # fmt: skip
        paths[name].write_text("\n".join(lines) + "\n", encoding="utf-8")
    return paths


@pytest.fixture(scope="module")
def models(data: dict[str, Path]) -> Path:
    """The official files of :data:`TRAINED` and :data:`QUANTIZED`, each made in a process
    of its own (the official trainer fails with NaN in a process that trained before)."""
    folder = data["train"].parent
    head = f"import fasttext as ft\nTRAIN, MANY = {str(data['train'])!r}, {str(data['many'])!r}\n"
    scripts = [f"ft.{call}.save_model({name!r})" for name, call in TRAINED.items()]
    scripts += [f"m = ft.load_model({source!r})\nm.{call}\nm.save_model({name!r})"
                for name, (source, call) in QUANTIZED.items()]  # fmt: skip
    for script in scripts:
        subprocess.run([sys.executable, "-c", head + script], cwd=folder, check=True, timeout=120)
    return folder


def _reported(model: FastTextModel, lines: list[list[str]]) -> tuple[np.ndarray, np.ndarray]:
    """The probabilities (L, C) that fastText reports, and where they are comparable.

    fastText reports ``exp(log(p + 1e-5))``; with hs ``p`` is the product over the tree
    path of ``sigmoid(+-s_n) + 1e-5``; with ova and ns its sigmoid is a lookup table,
    ``sigmoid(floor(32 (s + 8)) / 32 - 8)`` on [-8, 8] (0 and 1 outside), so a score
    within float rounding of a step is left out of the comparison.
    """
    s = model.logits(lines).astype(np.float64)
    comparable = np.ones((len(lines), len(model.labels)), bool)
    if model.loss == "softmax":
        return model.probabilities(s) + 1e-5, comparable
    if model.loss == "hs":
        paths, codes, mask = model.tree.padded()
        z = s[:, paths] * (codes * 2 - 1)  # (L, C, depth)
        return np.exp((np.log(sigmoid(z) + 1e-5) * mask).sum(-1)), comparable
    steps = (s + 8.0) * 32.0
    comparable = np.abs(steps - np.round(steps)) > 1e-3
    table = np.where(s < -8, 0.0, np.where(s > 8, 1.0, sigmoid(np.floor(steps) / 32.0 - 8.0)))
    return table + 1e-5, comparable


def _assert_same_predictions(
    ours: FastTextModel, theirs, text: list[str], atol: float = 1e-6
) -> None:
    """Labels and probabilities of every label (to ``atol``), and sentence vectors (to
    1e-6)."""
    labels, probs = theirs.predict(text, k=-1)
    reported, comparable = _reported(ours, [line.split() for line in text])
    column = {label: i for i, label in enumerate(ours.labels)}
    ours_top = danlu_fasttext.FastText(ours).predict(text, k=1)[0]
    for i, (names, p) in enumerate(zip(labels, probs, strict=True)):
        cols = [column[n] for n in names]
        keep = comparable[i, cols]
        np.testing.assert_allclose(reported[i, cols][keep], p[keep], rtol=0, atol=atol,
                                   err_msg=text[i])  # fmt: skip
        if ours.loss != "hs":  # hs leaves out labels below 1e-5; the others report all
            assert len(names) == len(ours.labels)
        if len(p) < 2 or p[0] - p[1] > 1e-6:  # no near tie: the same best label
            assert ours_top[i] == [names[0]], text[i]
    vectors = np.stack([theirs.get_sentence_vector(line) for line in text[:100]])
    np.testing.assert_allclose(ours.hidden([line.split() for line in text[:100]]), vectors,
                               rtol=0, atol=1e-6)  # fmt: skip


@pytest.mark.parametrize("name", [*TRAINED, *QUANTIZED])
def test_official_files_predict_the_same_in_danlu(models, data, name) -> None:
    path = models / name
    ours = danlu_fasttext.load_model(path)._model  # load_model: by the magic number
    assert isinstance(ours, FastTextModel)
    theirs = official.load_model(str(path))
    assert ours.labels == list(theirs.labels) and ours.dictionary.words == list(theirs.words)
    text = data["dev"].read_text(encoding="utf-8").splitlines()
    if name in ("many.bin", "qout.ftz"):  # the 300-label model: its own titles
        text = [line.split(" ", 1)[1] for line in
                data["many"].read_text(encoding="utf-8").splitlines()[:150]]  # fmt: skip
    # a quantized output row times its norm: fastText scales each dot product after the
    # sum, danlu decodes the row first; on logits up to 27 the official float32 result
    # is 4e-6 from the float64 one (danlu's 4e-7)
    _assert_same_predictions(ours, theirs, text, 1e-5 if name == "qout.ftz" else 1e-6)


def test_pruned_quantized_files_keep_their_codes(models, tmp_path) -> None:
    pruned = read_bin(models / "qc.ftz")
    assert pruned.args["absent_buckets"] == "skip" and len(pruned.ngram_buckets) < 2000
    assert np.all(np.diff(pruned.ngram_buckets) > 0)
    assert {"input_codes", "input_norm_codes"} <= set(pruned.packed)
    small = pruned.save(tmp_path / "qc.safetensors")  # the codes, not float rows
    assert small.stat().st_size < 2 * (models / "qc.ftz").stat().st_size
    again = load_model(small)
    np.testing.assert_array_equal(again.input, pruned.input)
    np.testing.assert_array_equal(again.hidden([["体", "育"]]), pruned.hidden([["体", "育"]]))
    # -qout with -dsub 3: the output's codes use fastText's dsub 2, danlu keeps one dsub
    qout = read_bin(models / "qout.ftz")
    assert qout.args["dsub"] == 3 and "output_codes" not in qout.packed


def test_write_bin_gives_back_the_official_bytes(models, tmp_path) -> None:
    for name in ("sm.bin", "hs.bin", "plain.bin"):
        out = write_bin(read_bin(models / name), tmp_path / name)
        assert out.read_bytes() == (models / name).read_bytes(), name


@pytest.mark.parametrize("options", [
    {"loss": "softmax", "wordNgrams": 2, "minn": 1, "maxn": 2},
    {"loss": "hs", "wordNgrams": 2},
    {"loss": "ova"},
])  # fmt: skip
def test_danlu_models_written_as_bin_load_in_official_fasttext(data, tmp_path, options) -> None:
    model = danlu_fasttext.train_supervised(input=str(data["train"]), dim=8, epoch=3, lr=0.5,
                                            bucket=100_000, thread=1, **options)  # fmt: skip
    ours = model._model
    assert len(ours.ngram_buckets) < 100_000 or not ours.dictionary.uses_buckets
    model.save_model(str(tmp_path / "m.bin"))
    theirs = official.load_model(str(tmp_path / "m.bin"))
    _assert_same_predictions(ours, theirs, data["dev"].read_text(encoding="utf-8").splitlines())


def test_danlu_quantize_shrinks_an_official_model(models, data, tmp_path) -> None:
    # -retrain rebuilds the training options from what the file holds (no n-grams here)
    out = tmp_path / "small"
    assert main(["quantize", "-input", str(models / "plain.bin"), "-output", str(out),
                 "-cutoff", "500", "-retrain", "-train", str(data["train"]),
                 "-thread", "1"]) == 0  # fmt: skip
    small = load_model(f"{out}.safetensors")
    assert small.labels == read_bin(models / "plain.bin").labels and len(small.input) <= 500


def test_models_fasttext_cannot_hold_are_refused(models, data, tmp_path) -> None:
    with pytest.raises(UsageError, match=r"only quantized; save it as \.safetensors"):
        write_bin(read_bin(models / "qc.ftz"), tmp_path / "x.bin")
    chars = danlu_fasttext.train_supervised(input=str(data["train"]), dim=4, epoch=1,
                                            tokenizer="char", thread=1)  # fmt: skip
    with pytest.raises(UsageError, match="-tokenizer char"):
        chars.save_model(str(tmp_path / "c.bin"))
    assert not (tmp_path / "x.bin").exists() and not (tmp_path / "c.bin").exists()


def _one_line_error(path: Path) -> str:
    with pytest.raises(UsageError) as info:
        read_bin(path)
    message = str(info.value)
    assert "\n" not in message and message.startswith(f"{path}: byte "), message
    return message


def test_truncated_files_name_the_byte_and_what_was_expected(models, tmp_path) -> None:
    whole = (models / "qc.ftz").read_bytes()
    cuts = {2: "magic number", 6: "version", 30: "training arguments", 70: "dictionary sizes",
            84: "ntokens", 95: "dictionary entry 0 of", 300: "dictionary entry",
            len(whole) // 2: "", len(whole) - 1: "the output matrix"}  # fmt: skip
    for cut, expected in cuts.items():
        path = tmp_path / f"cut{cut}.ftz"
        path.write_bytes(whole[:cut])
        message = _one_line_error(path)
        assert expected in message and ("end of the file" in message or "no NUL" in message), (
            message
        )
    (tmp_path / "long.ftz").write_bytes(whole + b"\0")
    assert "found 1 more bytes" in _one_line_error(tmp_path / "long.ftz")


def test_foreign_and_other_versions_fail_in_one_line(models, data, tmp_path) -> None:
    whole = bytearray((models / "sm.bin").read_bytes())
    bad = tmp_path / "v7.bin"
    bad.write_bytes(whole[:4] + (7).to_bytes(4, "little") + whole[8:])
    assert _one_line_error(bad) == f"{bad}: byte 4: expected fastText version 11 or 12, found 7"
    unknown = tmp_path / "model7.bin"
    unknown.write_bytes(whole[:36] + (7).to_bytes(4, "little") + whole[40:])
    assert _one_line_error(unknown) == (f"{unknown}: byte 36: expected a model code 1-3 (cbow, "
                                        "skipgram, supervised), found 7")  # fmt: skip
    # a classifier's file called cbow: its output has a row per label, not per word
    cbow = tmp_path / "cbow.bin"
    cbow.write_bytes(whole[:36] + (1).to_bytes(4, "little") + whole[40:])
    assert "expected the output matrix of" in _one_line_error(cbow)
    assert "magic number 793712314" in _one_line_error(data["dev"])
    with pytest.raises(UsageError, match=r"nor a fastText \.bin/\.ftz"):
        load_model(data["dev"])


def test_version_11_ignores_maxn_as_fasttext_does(models, data, tmp_path) -> None:
    whole = (models / "sm.bin").read_bytes()
    old = tmp_path / "v11.bin"
    old.write_bytes(whole[:4] + (11).to_bytes(4, "little") + whole[8:])
    ours = read_bin(old)
    assert ours.dictionary.maxn == 0
    text = data["dev"].read_text(encoding="utf-8").splitlines()[:100]
    _assert_same_predictions(ours, official.load_model(str(old)), text)


def test_cli_predicts_from_a_bin_and_fails_cleanly_on_a_broken_one(models, data, tmp_path) -> None:
    proc = run_danlu("predict-prob", str(models / "sm.bin"), str(data["dev"]), "2")
    assert proc.returncode == 0, proc.stderr
    rows = proc.stdout.splitlines()
    theirs = official.load_model(str(models / "sm.bin"))
    text = data["dev"].read_text(encoding="utf-8").splitlines()
    assert len(rows) == len(text)
    assert [r.split()[0] for r in rows[:50]] == [theirs.predict(t)[0][0] for t in text[:50]]
    broken = tmp_path / "broken.bin"
    broken.write_bytes((models / "sm.bin").read_bytes()[:1000])
    proc = run_danlu("predict", str(broken), str(data["dev"]))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().count("\n") == 0
    assert f"{broken}: byte " in proc.stderr
