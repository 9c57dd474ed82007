"""Model files written before the task-layer restructuring still load and predict the same.

``tests/fixtures/models_v0`` (see its README) holds models the old code wrote and the top-2
predictions it made on ``probe.txt``; every one must load through the CLI's loader and
``danlu.fasttext`` and give the same labels with probabilities within 1e-6.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from danlu import fasttext
from danlu.cli import main
from danlu.tasks.text_classification.data import get_tokenizer, parse_line
from danlu.tasks.text_classification.load import load_model

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "models_v0"
EXPECTED = json.loads((FIXTURES / "expected_predictions.json").read_text(encoding="utf-8"))
PROBE = (FIXTURES / "probe.txt").read_text(encoding="utf-8").splitlines()
NAMES = sorted(EXPECTED)


def _assert_same(got: list[list[tuple[str, float]]], expected: list[list[list]]) -> None:
    assert len(got) == len(expected) == len(PROBE)
    for line, (pairs, want) in enumerate(zip(got, expected, strict=True)):
        assert [label for label, _ in pairs] == [label for label, _ in want], line
        np.testing.assert_allclose([p for _, p in pairs], [p for _, p in want], rtol=0,
                                   atol=1e-6, err_msg=f"line {line}")  # fmt: skip


def test_every_fixture_has_expected_predictions() -> None:
    models = {p.stem for p in FIXTURES.glob("*.safetensors")}
    assert set(NAMES) == {m for m in models if m.startswith(("fasttext", "textcnn"))}


@pytest.mark.parametrize("name", NAMES)
def test_loader_predicts_as_the_old_code(name: str) -> None:
    model = load_model(FIXTURES / f"{name}.safetensors")
    tokenize = get_tokenizer(model.tokenizer)
    lines = [parse_line(line, model.args.get("label", "__label__"), tokenize)[0]
             for line in PROBE]  # fmt: skip
    _assert_same(model.predict_tokens(lines, k=2), EXPECTED[name])


@pytest.mark.parametrize("name", NAMES)
def test_python_api_predicts_as_the_old_code(name: str) -> None:
    model = fasttext.load_model(FIXTURES / f"{name}.safetensors")
    labels, probs = model.predict(PROBE, k=2)
    got = [list(zip(lab, p.tolist(), strict=True)) for lab, p in zip(labels, probs, strict=True)]
    _assert_same(got, EXPECTED[name])


@pytest.mark.parametrize("name", NAMES)
def test_cli_predicts_as_the_old_code(name: str, capsys) -> None:
    # predict-prob prints 6 significant digits: within 1e-6 of a probability below 1
    assert main(["predict-prob", str(FIXTURES / f"{name}.safetensors"),
                 str(FIXTURES / "probe.txt"), "2"]) == 0  # fmt: skip
    rows = capsys.readouterr().out.splitlines()
    got = [[(r.split()[i], float(r.split()[i + 1])) for i in (0, 2)] for r in rows]
    _assert_same(got, EXPECTED[name])


def test_an_old_model_retrains_with_its_own_options(tmp_path: Path, capsys) -> None:
    """``quantize -retrain`` rebuilds the model's training options from its saved args."""
    out = tmp_path / "q"
    assert main(["quantize", "-input", str(FIXTURES / "fasttext.safetensors"), "-output",
                 str(out), "-cutoff", "100", "-retrain", "-train",
                 str(FIXTURES / "probe_labeled.txt"), "-thread", "1"]) == 0  # fmt: skip
    small = load_model(f"{out}.safetensors")
    old = load_model(FIXTURES / "fasttext.safetensors")
    assert small.args["retrained"] and small.args["lr"] == old.args["lr"] == 0.5
    assert small.input.shape == (100, old.dim)
