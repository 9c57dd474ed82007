"""fastText files written by danlu: ``danlu quantize -saveFormat ftz`` (and
``FastText.save_model("x.ftz")``), ``-saveFormat bin`` of the training commands.

The official package trains on THUCNews titles (a token per character) and must load
each file danlu writes and predict from it what danlu predicts from it: the same labels,
the probabilities it reports (``meter.reported_log_scores``: ``p + 1e-5``, hs's path
product) within 1e-6.
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
from danlu.tasks.text_classification.config import QuantizeOptions
from danlu.tasks.text_classification.fasttext_bin import read_bin
from danlu.tasks.text_classification.fasttext_bin_write import write_ftz
from danlu.tasks.text_classification.load import load_model
from danlu.tasks.text_classification.meter import reported_log_scores
from danlu.tasks.text_classification.model import FastTextModel
from danlu.tasks.text_classification.quantize import quantize_model

official = pytest.importorskip("fasttext")

COMMON = "dim=32, bucket=2000, thread=1, verbose=0, seed=1"
OFFICIAL = {  # name -> the official call, ft.CALL (TRAIN: 10 topics, MANY: 300 labels)
    "sm.bin": f"train_supervised(TRAIN, epoch=5, lr=0.5, wordNgrams=2, minn=1, maxn=2, {COMMON})",
    "hs.bin": f"train_supervised(TRAIN, epoch=5, lr=0.5, loss='hs', wordNgrams=2, {COMMON})",
    "many.bin": f"train_supervised(MANY, epoch=5, lr=0.5, wordNgrams=2, {COMMON})",
    "q.ftz": "load_model('sm.bin'); m.quantize(cutoff=800, qnorm=True)",
}  # fmt: skip
CASES = {  # name -> (the model it shrinks, danlu quantize's flags)
    "pq": ("sm.bin", []),  # -qtype auto: pq, for an .ftz
    "qnorm_dsub3": ("sm.bin", ["-cutoff", "800", "-qnorm", "-dsub", "3"]),  # last sub-vector 2
    "hs": ("hs.bin", ["-cutoff", "500", "-qtype", "pq"]),
    "qout": ("many.bin", ["-cutoff", "600", "-qout"]),
    "qout_qnorm": ("many.bin", ["-cutoff", "600", "-qout", "-qnorm"]),
}


def _spaced(title: str) -> str:
    return " ".join(c for c in title if not c.isspace())


@pytest.fixture(scope="module")
def folder(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """THUCNews titles (train: 10 topics; many: first characters as 300 labels; dev: 300
    unseen titles) and the official files of :data:`OFFICIAL`, each made in a process of its
    own (the official trainer fails with NaN in a process that trained before)."""
    out = tmp_path_factory.mktemp("ftz")
    root = shared_data / "thucnews"
    names = (root / "class.txt").read_text(encoding="utf-8").split()
    rows = [line.rsplit("\t", 1) for line in
            (root / "train.txt").read_text(encoding="utf-8").splitlines()[:6000]]  # fmt: skip
    top = {c for c, _ in Counter(t[0] for t, _ in rows).most_common(300)}
    dev = (root / "dev.txt").read_text(encoding="utf-8").splitlines()[:300]
    files = {
        "train.txt": [f"__label__{names[int(y)]} {_spaced(t)}" for t, y in rows[:3000]],
        "many.txt": [f"__label__{t[0]} {_spaced(t)}" for t, _ in rows
                     if t[0] in top and t[0].strip()],
        "dev.txt": [_spaced(line.rsplit("\t", 1)[0]) for line in dev],
    }  # fmt: skip
    for name, lines in files.items():
        (out / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    head = "import fasttext as ft\nTRAIN, MANY = 'train.txt', 'many.txt'\n"
    for name, call in OFFICIAL.items():  # in order: q.ftz shrinks sm.bin
        script = head + "m = ft." + call.replace("; ", "\n") + f"\nm.save_model({name!r})"
        subprocess.run([sys.executable, "-c", script], cwd=out, check=True, timeout=120)
    return out


def _text(folder: Path, source: str) -> list[str]:
    if source == "many.bin":  # the 300-label model: its own titles
        lines = (folder / "many.txt").read_text(encoding="utf-8").splitlines()[:150]
        return [line.split(" ", 1)[1] for line in lines]
    return (folder / "dev.txt").read_text(encoding="utf-8").splitlines()


def _assert_official_predicts_as(ours: FastTextModel, path: Path, text: list[str],
                                 atol: float = 1e-6) -> None:  # fmt: skip
    """The official package, from ``path``, reports for every label of every line what
    fastText would report from ``ours``; the same words, labels and best labels."""
    theirs = official.load_model(str(path))
    assert theirs.words == ours.dictionary.words and theirs.labels == ours.labels
    lines = [line.split() for line in text]
    logs = reported_log_scores(ours, lines)
    column = {label: i for i, label in enumerate(ours.labels)}
    labels, probs = theirs.predict(text, k=-1)
    best = danlu_fasttext.FastText(ours).predict(text)[0]
    for i, (names, p) in enumerate(zip(labels, probs, strict=True)):
        cols = [column[n] for n in names]
        assert np.isfinite(logs[i]).sum() == len(cols), text[i]  # the labels it reports
        expected = np.exp(logs[i, cols].astype(np.float64))  # predict does not cap it at 1
        np.testing.assert_allclose(expected, p, rtol=0, atol=atol, err_msg=text[i])
        if len(p) < 2 or p[0] - p[1] > 1e-5:  # no near tie: the same best label
            assert best[i] == [names[0]], text[i]


@pytest.mark.parametrize("case", CASES)
def test_quantize_save_format_ftz_loads_in_official_fasttext(folder, tmp_path, case) -> None:
    source, flags = CASES[case]
    prefix = tmp_path / case
    assert main(["quantize", "-input", str(folder / source), "-output", str(prefix),
                 "-saveFormat", "ftz", *flags]) == 0  # fmt: skip
    path = tmp_path / f"{case}.ftz"  # fastText's name: PREFIX.ftz
    assert path.is_file() and not (tmp_path / f"{case}.safetensors").exists()
    assert path.stat().st_size < (folder / source).stat().st_size / 5
    ours = read_bin(path)
    assert ours.args["quantized"] == "pq" and official.load_model(str(path)).is_quantized()
    assert len(ours.ngram_buckets) < 2000  # pruned: through fastText's pruned index
    assert ("output_codes" in ours.packed) == ("-qout" in flags)
    assert ("input_norm_codes" in ours.packed) == ("-qnorm" in flags)
    # danlu's quantized model predicts as the file it wrote (it skips pruned buckets)
    again = quantize_model(load_model(folder / source),
                           QuantizeOptions(**_options(flags), save_format="ftz"))  # fmt: skip
    assert again.args["absent_buckets"] == "skip"
    np.testing.assert_array_equal(again.input, ours.input)
    np.testing.assert_array_equal(again.ngram_buckets, ours.ngram_buckets)
    text = _text(folder, source)
    lines = [line.split() for line in text]
    np.testing.assert_allclose(again.line_probabilities(lines), ours.line_probabilities(lines),
                               rtol=0, atol=1e-7)  # fmt: skip
    _assert_official_predicts_as(ours, path, text)
    # what danlu reads back, it writes again byte for byte
    assert write_ftz(ours, tmp_path / "again.ftz").read_bytes() == path.read_bytes()


def _options(flags: list[str]) -> dict[str, object]:
    """QuantizeOptions of quantize's flags (-cutoff N -dsub N -qtype T, -qnorm, -qout)."""
    out: dict[str, object] = {}
    for i, flag in enumerate(flags):
        if flag in ("-qnorm", "-qout"):
            out[flag[1:]] = True
        elif flag.startswith("-") and flag != "-qtype":
            out[flag[1:]] = int(flags[i + 1])
        elif flag == "-qtype":
            out["qtype"] = flags[i + 1]
    return out


def test_an_official_ftz_read_and_written_by_danlu_predicts_the_same(folder, tmp_path) -> None:
    """The official pruned file: danlu keeps its codes and writes them back; fastText's rows
    come back in bucket order, and predict what the original file predicts."""
    original = official.load_model(str(folder / "q.ftz"))
    copy = write_ftz(read_bin(folder / "q.ftz"), tmp_path / "copy.ftz")
    rewritten = official.load_model(str(copy))
    text = _text(folder, "sm.bin")
    assert rewritten.words == original.words and rewritten.labels == original.labels
    (labels, probs), (their_labels, their_probs) = (m.predict(text, k=3)
                                                    for m in (rewritten, original))  # fmt: skip
    assert labels == their_labels
    np.testing.assert_allclose(np.array(probs), np.array(their_probs), rtol=0, atol=1e-6)
    for line in text[:50]:
        np.testing.assert_allclose(rewritten.get_sentence_vector(line),
                                   original.get_sentence_vector(line), rtol=0,
                                   atol=1e-6)  # fmt: skip


def test_api_quantize_then_save_model_ftz_as_fasttext(folder, tmp_path) -> None:
    model = danlu_fasttext.train_supervised(input=str(folder / "train.txt"), dim=16, epoch=3,
                                            lr=0.5, wordNgrams=2, bucket=20000,
                                            thread=1)  # fmt: skip
    model.quantize(cutoff=1000, qnorm=True)  # fastText's call; its rule for pruned buckets
    assert model._model.args["absent_buckets"] == "skip" and model.is_quantized()
    model.save_model(str(tmp_path / "m.ftz"))
    _assert_official_predicts_as(model._model, tmp_path / "m.ftz", _text(folder, "sm.bin"))
    model.save_model(str(tmp_path / "m.bin"))  # as fastText: the layout follows the model
    assert official.load_model(str(tmp_path / "m.bin")).is_quantized()
    int8 = danlu_fasttext.train_supervised(input=str(folder / "train.txt"), dim=8, epoch=1,
                                           thread=1)  # fmt: skip
    int8.quantize(qtype="int8", cutoff=500)
    with pytest.raises(UsageError, match=r"int8 rows, a \.ftz product-quantized codes"):
        int8.save_model(str(tmp_path / "i.ftz"))
    assert not (tmp_path / "i.ftz").exists()


def _one_line_usage_error(*args: str) -> str:
    proc = run_danlu(*args)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert proc.stderr.strip().count("\n") == 0, proc.stderr
    return proc.stderr


def test_impossible_save_formats_fail_in_one_line(folder, tmp_path) -> None:
    model, train, out = str(folder / "sm.bin"), str(folder / "train.txt"), str(tmp_path / "x")
    error = _one_line_usage_error("quantize", "-input", model, "-output", out, "-saveFormat",
                                  "ftz", "-qtype", "int8")  # fmt: skip
    assert "-qtype int8 is danlu's own" in error and "use -qtype pq" in error
    assert "invalid choice 'bin'" in _one_line_usage_error(
        "quantize", "-input", model, "-output", out, "--saveFormat", "bin"
    )
    for flags, what in ((["-model", "textcnn"], "-model textcnn"),
                        (["-tokenizer", "char"], "-tokenizer char"),
                        (["-loss", "zlpr"], "-loss zlpr")):  # fmt: skip
        error = _one_line_usage_error("supervised", "-input", train, "-output", out,
                                      "--save-format", "bin", *flags)  # fmt: skip
        assert f"cannot hold {what}: use -saveFormat safetensors" in error
    assert not list(tmp_path.iterdir())


def test_supervised_save_format_bin_loads_in_official_fasttext(folder, tmp_path) -> None:
    common = ["-input", str(folder / "train.txt"), "-dim", "16", "-epoch", "2", "-lr", "0.5",
              "-wordNgrams", "2", "-bucket", "20000", "-thread", "1", "-verbose", "0"]  # fmt: skip
    assert main(["supervised", *common, "-output", str(tmp_path / "b"), "-saveFormat", "bin"]) == 0
    assert main(["supervised", *common, "-output", str(tmp_path / "s")]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.bin", "s.safetensors"]
    # -thread 1 with the same seed trains the same model: the .bin holds it for fastText
    _assert_official_predicts_as(load_model(tmp_path / "s.safetensors"), tmp_path / "b.bin",
                                 _text(folder, "sm.bin"))  # fmt: skip


def test_skipgram_save_format(folder, tmp_path) -> None:
    common = ["-input", str(folder / "dev.txt"), "-dim", "8", "-epoch", "1", "-minCount", "2",
              "-bucket", "5000", "-thread", "1", "-verbose", "0"]  # fmt: skip
    assert main(["skipgram", *common, "-output", str(tmp_path / "b")]) == 0  # fastText's
    assert main(["skipgram", *common, "-output", str(tmp_path / "s"),
                 "-saveFormat", "safetensors"]) == 0  # fmt: skip
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.bin", "b.vec", "s.safetensors",
                                                          "s.vec"]  # fmt: skip
    theirs = official.load_model(str(tmp_path / "b.bin"))
    ours = danlu_fasttext.load_model(tmp_path / "s.safetensors")
    assert ours.words == theirs.words and ours._model.args["model"] == "skipgram"
    for word in [*theirs.words[:20], "没见过"]:  # -thread 1 and one seed: the same vectors
        np.testing.assert_allclose(ours.get_word_vector(word), theirs.get_word_vector(word),
                                   rtol=0, atol=1e-6, err_msg=word)  # fmt: skip
