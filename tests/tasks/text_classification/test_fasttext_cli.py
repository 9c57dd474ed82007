"""``danlu supervised|test|test-label|predict|predict-prob|quantize`` and bad input."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from tests.conftest import danlu_env

from danlu.cli import main

LINES = [f"__label__{'ab'[i % 2]} {'x y' if i % 2 else 'p q'} w{i % 9}" for i in range(200)]


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("ft")
    data = folder / "train.txt"
    data.write_text("\n".join([*LINES, "no label here", ""]) + "\n", encoding="utf-8")
    code = main(["supervised", "-input", str(data), "-output", str(folder / "m"),
                 "-epoch", "5", "--wordNgrams", "2", "-bucket", "1000", "-lr", "0.5",
                 "-verbose", "0"])  # fmt: skip
    assert code == 0
    return folder / "m.safetensors", data


def test_test_prints_like_fasttext(trained, capsys) -> None:
    model, data = trained
    assert main(["test", str(model), str(data)]) == 0
    out = capsys.readouterr().out
    assert re.fullmatch(r"N\t200\nP@1\t1\nR@1\t1\n", out), out
    assert main(["test", str(model), str(data), "2"]) == 0
    assert "P@2\t0.5\nR@2\t1" in capsys.readouterr().out


def test_test_label_and_predict_prob(trained, capsys, tmp_path) -> None:
    model, data = trained
    assert main(["test-label", str(model), str(data)]) == 0
    out = capsys.readouterr().out
    assert "F1-Score : 1.000000  Precision : 1.000000  Recall : 1.000000   __label__a" in out
    text = tmp_path / "q.txt"
    text.write_text("p q\nx y w1\n", encoding="utf-8")
    assert main(["predict-prob", str(model), str(text), "2"]) == 0
    rows = capsys.readouterr().out.splitlines()
    assert rows[0].startswith("__label__a ") and rows[1].startswith("__label__b ")
    assert len(rows[0].split()) == 4


def test_predict_reads_stdin_line_by_line(trained) -> None:
    model, _ = trained
    proc = subprocess.Popen(
        [sys.executable, "-m", "danlu", "predict", str(model), "-"], stdin=subprocess.PIPE,
        stdout=subprocess.PIPE, text=True, env=danlu_env(),
    )  # fmt: skip
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write("x y\n")
    proc.stdin.flush()
    assert proc.stdout.readline() == "__label__b\n"  # answered before stdin is closed
    proc.stdin.write("p q\n")
    proc.stdin.close()
    assert proc.stdout.read() == "__label__a\n"
    assert proc.wait(timeout=60) == 0


def test_linear_model_never_imports_torch(trained, tmp_path) -> None:
    # training, testing, predicting and quantizing (with -retrain) the fastText model run
    # on numpy: the torch import alone costs about as much as training on 45,000 lines
    model, data = trained
    code = f"""
import sys
from danlu.cli import main
assert main(["supervised", "-input", {str(data)!r}, "-output", {str(tmp_path / "m")!r},
             "-verbose", "0", "-wordNgrams", "2", "-bucket", "100"]) == 0
assert main(["test", {str(model)!r}, {str(data)!r}]) == 0
assert main(["test-label", {str(model)!r}, {str(data)!r}]) == 0
assert main(["predict", {str(model)!r}, {str(data)!r}]) == 0
assert main(["predict-prob", {str(model)!r}, {str(data)!r}, "2"]) == 0
assert main(["quantize", "-input", {str(model)!r}, "-output", {str(tmp_path / "q")!r}]) == 0
assert main(["quantize", "-input", {str(model)!r}, "-output", {str(tmp_path / "r")!r},
             "-retrain", "-train", {str(data)!r}, "-cutoff", "8"]) == 0
assert main(["test", {str(tmp_path / "r.safetensors")!r}, {str(data)!r}]) == 0
assert "torch" not in sys.modules, "torch was imported"
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=danlu_env(), timeout=120)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_quantize_shrinks_and_keeps_accuracy(trained, capsys, tmp_path) -> None:
    model, data = trained
    assert main(["quantize", "-input", str(model), "-output", str(tmp_path / "m.q")]) == 0
    small = tmp_path / "m.q.safetensors"
    assert small.stat().st_size < model.stat().st_size
    assert main(["test", str(small), str(data)]) == 0
    assert "P@1\t1\n" in capsys.readouterr().out


def test_quantize_retrain_trains_the_kept_rows_again(trained, capsys, tmp_path) -> None:
    from danlu.tasks.text_classification.load import load_model

    model, data = trained
    # keep only 4 rows: pruning alone loses most of the model; retraining recovers it
    args = ["quantize", "-input", str(model), "-cutoff", "4"]
    assert main([*args, "-output", str(tmp_path / "plain")]) == 0
    assert main([*args, "-output", str(tmp_path / "re"), "-retrain", "-train", str(data),
                 "-epoch", "3", "-thread", "1"]) == 0  # fmt: skip
    plain, re = load_model(tmp_path / "plain.safetensors"), load_model(tmp_path / "re.safetensors")
    assert plain.input.shape == re.input.shape  # the same rows are kept
    assert plain.dictionary.words == re.dictionary.words
    assert not np.allclose(plain.input, re.input, atol=0.02)  # and were trained again
    assert re.args["retrained"] and re.args["quantized"] == "int8"
    capsys.readouterr()
    assert main(["test", str(tmp_path / "re.safetensors"), str(data)]) == 0
    assert "P@1\t1\n" in capsys.readouterr().out
    err = _error([*args, "-output", str(tmp_path / "x"), "-retrain", "-train", "nope.txt"],
                 capsys)  # fmt: skip
    assert "-retrain" in err or "nope.txt" in err


@pytest.fixture(scope="module")
def wide(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A model with 600 words: enough input rows for 256 centroids after pruning."""
    folder = tmp_path_factory.mktemp("wide")
    rng = np.random.default_rng(0)
    rows = []
    for i in range(1200):
        label = "ab"[i % 2]
        words = [f"{label}{w}" for w in rng.integers(0, 300, size=6)]
        rows.append(f"__label__{label} " + " ".join(words))
    data = folder / "train.txt"
    data.write_text("\n".join(rows) + "\n", encoding="utf-8")
    assert main(["supervised", "-input", str(data), "-output", str(folder / "m"), "-dim", "8",
                 "-epoch", "5", "-lr", "0.5", "-thread", "1", "-verbose", "0"]) == 0  # fmt: skip
    return folder / "m.safetensors", data


def test_quantize_product_quantization_like_fasttext(wide, capsys, tmp_path) -> None:
    from danlu.tasks.text_classification.load import load_model

    model, data = wide
    full = load_model(model)
    int8, pq = tmp_path / "int8", tmp_path / "pq"
    assert main(["quantize", "-input", str(model), "-output", str(int8), "-cutoff", "400"]) == 0
    # fastText's spelling: -qnorm alone selects product quantization (-qtype auto)
    assert main(["quantize", "-input", str(model), "-output", str(pq), "-cutoff", "400",
                 "-qnorm"]) == 0  # fmt: skip
    small = load_model(f"{pq}.safetensors")
    assert small.args["quantized"] == "pq" and small.args["dsub"] == 2 and small.args["qnorm"]
    assert "input_codes" in small.packed and small.input.shape == (400, 8)
    assert small.packed["input_codes"].shape == (400, 4)  # 4 bytes a row instead of 32
    assert load_model(f"{int8}.safetensors").packed["input_q"].shape == (400, 8)  # 8 + scale
    # the loaded model is the model that was written: saving it again changes nothing
    small.save(tmp_path / "again.safetensors")
    again = load_model(tmp_path / "again.safetensors")
    np.testing.assert_array_equal(again.input, small.input)
    lines = [line.split()[1:] for line in data.read_text(encoding="utf-8").splitlines()]
    assert again.predict_tokens(lines[:50]) == small.predict_tokens(lines[:50])
    pairs = zip(small.predict_tokens(lines), full.predict_tokens(lines), strict=True)
    agree = [a[0][0] == b[0][0] for a, b in pairs]
    assert np.mean(agree) > 0.95
    capsys.readouterr()
    assert main(["test", f"{pq}.safetensors", str(data)]) == 0
    assert float(re.search(r"P@1\t(\S+)", capsys.readouterr().out).group(1)) > 0.95


def test_quantize_qout_quantizes_an_output_layer_of_300_labels(tmp_path, capsys) -> None:
    from danlu.tasks.text_classification.load import load_model

    data = tmp_path / "many.txt"
    data.write_text("".join(f"__label__{i % 300} w{i % 300} v{i % 300} u{i % 7}\n"
                            for i in range(1500)), encoding="utf-8")  # fmt: skip
    prefix = tmp_path / "m"
    assert main(["supervised", "-input", str(data), "-output", str(prefix), "-dim", "8",
                 "-epoch", "20", "-lr", "1.0", "-thread", "1", "-verbose", "0"]) == 0  # fmt: skip
    out = tmp_path / "q"
    assert main(["quantize", "-input", f"{prefix}.safetensors", "-output", str(out), "-qout",
                 "-cutoff", "600"]) == 0  # fmt: skip
    small = load_model(f"{out}.safetensors")
    from danlu.io import load_arrays

    assert small.packed["output_codes"].shape == (300, 4)
    stored = load_arrays(f"{out}.safetensors")
    assert "output" not in stored and "input" not in stored  # codes and codebooks only
    full = load_model(f"{prefix}.safetensors")
    assert not np.array_equal(small.output, full.output)  # the stored layer is the decoded one
    np.testing.assert_allclose(small.output, full.output, atol=0.25 * np.abs(full.output).max())
    capsys.readouterr()
    assert main(["test", f"{out}.safetensors", str(data)]) == 0
    assert float(re.search(r"P@1\t(\S+)", capsys.readouterr().out).group(1)) > 0.9


def test_quantize_refuses_impossible_product_quantization(wide, trained, capsys, tmp_path) -> None:
    out = str(tmp_path / "q")
    err = _error(["quantize", "-input", str(wide[0]), "-output", out, "-qout"], capsys)
    assert "output matrix" in err and "has 2" in err and "drop -qout" in err
    err = _error(["quantize", "-input", str(trained[0]), "-output", out, "-qtype", "pq"], capsys)
    assert "at least 256 rows" in err and "-qtype int8" in err
    err = _error(["quantize", "-input", str(wide[0]), "-output", out, "-qtype", "int8",
                  "-qnorm"], capsys)  # fmt: skip
    assert "-qtype pq" in err


def _error(args: list[str], capsys) -> str:
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err
    return err


def test_bad_input_is_one_line_exit_2(tmp_path, capsys) -> None:
    out = str(tmp_path / "m")
    err = _error(["supervised", "-input", str(tmp_path / "nope.txt"), "-output", out], capsys)
    assert "does not exist" in err
    bad = tmp_path / "latin1.txt"
    bad.write_bytes(b"__label__a ok\n__label__b caf\xe9\n")
    assert f"{bad}:2: not UTF-8" in _error(["supervised", "-input", str(bad), "-output", out],
                                           capsys)  # fmt: skip
    empty = tmp_path / "empty.txt"
    empty.write_text("no labels\nat all\n", encoding="utf-8")
    assert "no line with a label" in _error(
        ["supervised", "-input", str(empty), "-output", out, "-verbose", "0"], capsys
    )
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"\x00" * 64)
    assert "not a danlu model" in _error(["test", str(junk), str(empty)], capsys)
    assert "-dim must be >= 1" in _error(["supervised", "-input", str(empty), "-output", out,
                                          "-dim", "0"], capsys)  # fmt: skip
    assert "-engine c takes one example per step" in _error(
        ["supervised", "-input", str(empty), "-output", out, "-engine", "c", "-batch", "8"],
        capsys,
    )


@pytest.mark.parametrize("engine", ["numpy", "auto"])
def test_both_engines_train_from_the_cli(engine, trained, capsys, tmp_path) -> None:
    _, data = trained
    prefix = tmp_path / engine
    assert main(["supervised", "-input", str(data), "-output", str(prefix), "-engine", engine,
                 "-epoch", "5", "-lr", "0.5", "-thread", "1"]) == 0  # fmt: skip
    err = capsys.readouterr().err
    expect = "numpy, batch" if engine == "numpy" else "training: "
    assert expect in err
    assert main(["test", f"{prefix}.safetensors", str(data)]) == 0
    assert "P@1\t1\n" in capsys.readouterr().out


def test_other_safetensors_file_is_rejected(tmp_path, capsys) -> None:
    import torch

    from danlu.train.checkpoint import save_safetensors

    path = tmp_path / "other.safetensors"
    save_safetensors(path, {"w": torch.zeros(2)}, {"format": "something-else"})
    assert "not a danlu fastText model" in _error(["predict", str(path), "-"], capsys)


def test_neural_model_trains_and_tests(tmp_path, capsys) -> None:
    data = tmp_path / "train.txt"
    data.write_text("\n".join(LINES) + "\n", encoding="utf-8")
    prefix = str(tmp_path / "cnn")
    args = ["supervised", "-input", str(data), "-output", prefix, "-model", "textcnn",
            "-epoch", "3", "-dim", "16", "-validation", str(data), "-verbose", "0"]  # fmt: skip
    assert main(args) == 0
    assert (tmp_path / "cnn.run" / "metrics.json").is_file()
    assert main(["test", prefix + ".safetensors", str(data)]) == 0
    out = capsys.readouterr().out
    assert float(re.search(r"P@1\t(\S+)", out).group(1)) > 0.9, out


def test_neural_model_starts_from_pretrained_vectors(tmp_path, capsys) -> None:
    import torch

    from danlu import fasttext

    data = tmp_path / "raw.txt"
    data.write_text("__label__pos 质量很好\n__label__neg 太 差\n" * 8, encoding="utf-8")
    vec = tmp_path / "v.vec"
    vec.write_text("3 4\n质 0.5 0 0 0\n▁ 0 0 0.25 0\n没有 1 1 1 1\n", encoding="utf-8")
    # a learning rate so small that one epoch leaves the starting rows in place
    model = fasttext.train_supervised(input=str(data), model="textcnn", tokenizer="char", dim=4,
                                      epoch=1, lr=1e-12, pretrainedVectors=str(vec))  # fmt: skip
    weight = model._model.net.embedding.weight.detach()
    row = {w: i for i, w in enumerate(model._model.vocab)}
    torch.testing.assert_close(weight[row["质"]], torch.tensor([0.5, 0, 0, 0]))
    torch.testing.assert_close(weight[row["▁"]], torch.tensor([0, 0, 0.25, 0]))
    assert not torch.equal(weight[row["量"]], torch.zeros(4))  # not in the file: initialised
    assert torch.equal(weight[0], torch.zeros(4))  # padding
    bad = tmp_path / "bad.vec"
    bad.write_text("1 3\n质 1 2 3\n", encoding="utf-8")
    args = ["supervised", "-input", str(data), "-output", str(tmp_path / "m"), "-model",
            "textcnn", "-dim", "4", "-pretrainedVectors", str(bad)]  # fmt: skip
    assert "pass -dim 3" in _error(args, capsys)


def test_autotune_keeps_the_best_trial(tmp_path, capsys) -> None:
    data = tmp_path / "train.txt"
    data.write_text("\n".join(LINES) + "\n", encoding="utf-8")
    prefix = str(tmp_path / "tuned")
    args = ["supervised", "-input", str(data), "-output", prefix, "-autotune-validation",
            str(data), "-autotune-duration", "1", "-bucket", "1000"]  # fmt: skip
    assert main(args) == 0
    err = capsys.readouterr().err
    assert "autotune trial 1: as given" in err and "best" in err
    assert main(["test", prefix + ".safetensors", str(data)]) == 0
    assert "P@1\t1\n" in capsys.readouterr().out


def test_validation_pretrained_vectors_and_tokenizers(tmp_path, capsys) -> None:
    from danlu import fasttext

    raw = ["__label__pos 质量很好非常满意", "__label__neg 太差了不推荐"] * 40
    data = tmp_path / "raw.txt"
    data.write_text("\n".join(raw) + "\n", encoding="utf-8")
    vec = tmp_path / "v.vec"
    vec.write_text("2 4\n质 0.5 0 0 0\n差 0 0.5 0 0\n", encoding="utf-8")
    for tokenizer in ("char", "jieba"):  # raw Chinese, segmented on the fly
        model = fasttext.train_supervised(
            input=str(data), tokenizer=tokenizer, validation=str(data), epoch=20, dim=4,
            pretrainedVectors=str(vec), lr=0.5,
        )  # fmt: skip
        assert model.predict("质量很好")[0] == ("__label__pos",), tokenizer
        assert model.test(str(data))[1] == 1.0
    bad = tmp_path / "bad.vec"
    bad.write_text("1 3\n质 1 2 3\n", encoding="utf-8")
    err = _error(
        [
            "supervised",
            "-input",
            str(data),
            "-output",
            str(tmp_path / "m"),
            "-dim",
            "4",
            "-pretrainedVectors",
            str(bad),
            "-verbose",
            "0",
        ],
        capsys,
    )
    assert "pass -dim 3" in err
