"""``danlu skipgram|cbow|print-word-vectors|print-sentence-vectors|nn|analogies|dump``."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from tests.conftest import danlu_env, run_danlu

from danlu import fasttext as ours_ft
from danlu.cli import main
from danlu.errors import UsageError
from danlu.tasks.text_classification import vectors
from danlu.tasks.text_classification.load import load_model

ANIMALS, FOODS = ["cat", "dog", "cow", "fox"], ["fish", "meat", "corn", "rice"]


def _text(n: int = 400) -> str:
    rng = np.random.default_rng(0)
    return "".join(f"the {rng.choice(ANIMALS)} eats {rng.choice(FOODS)} today\n" for _ in range(n))


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("words")
    (folder / "text.txt").write_text(_text(), encoding="utf-8")
    code = main(["skipgram", "-input", str(folder / "text.txt"), "-output", str(folder / "m"),
                 "-dim", "8", "-epoch", "2", "-minCount", "1", "-bucket", "1000",
                 "-thread", "1", "-verbose", "0"])  # fmt: skip
    assert code == 0 and (folder / "m.vec").is_file()
    return folder / "m.bin"


def _ask(monkeypatch, capsys, args: list[str], stdin: str) -> str:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    assert main(args) == 0
    return capsys.readouterr().out


def test_print_word_and_sentence_vectors(model, monkeypatch, capsys) -> None:
    m = load_model(model)
    out = _ask(monkeypatch, capsys, ["print-word-vectors", str(model)], "cat dog\nunseen\n")
    rows = out.split("\n")
    assert [r.split(" ")[0] for r in rows] == ["cat", "dog", "unseen", ""]
    for row in rows[:3]:
        word, *values = row.split(" ")
        assert values[-1] == "" and len(values) == 9  # each value followed by a space
        np.testing.assert_allclose([float(v) for v in values[:-1]],
                                   vectors.word_vector(m, word), rtol=1e-4, atol=1e-9)  # fmt: skip
    out = _ask(monkeypatch, capsys, ["print-sentence-vectors", str(model)], "cat eats\n\n")
    rows = out.split("\n")
    assert len(rows) == 3 and rows[2] == ""
    np.testing.assert_allclose([float(v) for v in rows[0].split()],
                               vectors.sentence_vector(m, ["cat", "eats"]), rtol=1e-4)  # fmt: skip
    assert [float(v) for v in rows[1].split()] == [0.0] * 8  # no word: zeros


def test_nn_and_analogies_prompt_and_answer(model, monkeypatch, capsys) -> None:
    out = _ask(monkeypatch, capsys, ["nn", str(model), "3"], "cat\ndog fish\n")
    answers = out.split("Query word? ")
    assert answers[0] == "" and answers[-1] == "" and len(answers) == 5
    for query, answer in zip(["cat", "dog", "fish"], answers[1:4], strict=True):
        lines = answer.splitlines()
        assert len(lines) == 3 and query not in [line.split()[0] for line in lines]
        assert all(-1 <= float(line.split()[1]) <= 1 for line in lines)
    out = _ask(monkeypatch, capsys, ["analogies", str(model), "2"], "cat fish\ndog\n")
    answers = out.split("Query triplet (A - B + C)? ")
    assert len(answers) == 3 and len(answers[1].splitlines()) == 2
    assert not {"cat", "fish", "dog"} & {line.split()[0] for line in answers[1].splitlines()}


def test_nn_answers_each_word_as_it_arrives(model) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "danlu", "nn", str(model), "1"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                            env=danlu_env())  # fmt: skip
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write("cat\n")
    proc.stdin.flush()
    assert proc.stdout.readline().startswith("Query word? ")  # before stdin is closed
    proc.stdin.close()
    assert proc.wait(timeout=60) == 0


def test_dump_prints_what_fasttext_prints(model, monkeypatch, capsys) -> None:
    out = _ask(monkeypatch, capsys, ["dump", str(model), "args"], "")
    assert out == ("dim 8\nws 5\nepoch 2\nminCount 1\nneg 5\nwordNgrams 1\nloss ns\nmodel sg\n"
                   "bucket 1000\nminn 3\nmaxn 6\nlrUpdateRate 100\nt 0.0001\n")  # fmt: skip
    m = load_model(model)
    out = _ask(monkeypatch, capsys, ["dump", str(model), "dict"], "")
    lines = out.splitlines()
    assert lines[0] == str(m.dictionary.nwords) and lines[1] == "the 400 word"
    out = _ask(monkeypatch, capsys, ["dump", str(model), "output"], "").splitlines()
    assert out[0] == f"{m.dictionary.nwords} 8" and len(out) == m.dictionary.nwords + 1
    np.testing.assert_allclose([float(v) for v in out[1].split()], m.output[0], rtol=1e-5)
    out = _ask(monkeypatch, capsys, ["dump", str(model), "input"], "").splitlines()
    assert out[0] == f"{m.dictionary.nwords + 1000} 8"


def test_cbow_with_hs_and_the_python_api(tmp_path) -> None:
    (tmp_path / "text.txt").write_text(_text(), encoding="utf-8")
    m = ours_ft.train_unsupervised(str(tmp_path / "text.txt"), model="cbow", dim=8, epoch=1,
                                   minCount=1, loss="hs", maxn=0, thread=1)  # fmt: skip
    assert m._model.args["model"] == "cbow" and m.get_dimension() == 8
    assert len(m.get_output_matrix()) == len(m.words)  # fastText's: a row per word
    assert len(m.get_nearest_neighbors("cat", k=3)) == 3
    m.save_model(str(tmp_path / "c.bin"))
    back = ours_ft.load_model(tmp_path / "c.bin")
    np.testing.assert_array_equal(back.get_word_vector("cat"), m.get_word_vector("cat"))
    with pytest.raises(UsageError, match="unknown option 'wordNgram'"):
        ours_ft.train_unsupervised(str(tmp_path / "text.txt"), wordNgram=2)
    with pytest.raises(UsageError, match="skipgram, cbow"):
        ours_ft.train_unsupervised(str(tmp_path / "text.txt"), model="supervised")


@pytest.mark.parametrize(("args", "message"), [
    (["skipgram", "-input", "missing.txt", "-output", "m"], "does not exist"),
    (["cbow", "-input", "empty.txt", "-output", "m"], "word vectors need two or more"),
    (["skipgram", "-input", "text.txt", "-output", "m", "-dim", "0"], "-dim must be >= 1"),
    (["skipgram", "-input", "text.txt", "-output", "m", "-loss", "ova"], "valid: ns, hs"),
    (["nn", "missing.bin"], "does not exist"),
])  # fmt: skip
def test_bad_input_is_one_line_and_status_2(args, message, tmp_path) -> None:
    (tmp_path / "empty.txt").write_text("", encoding="utf-8")
    (tmp_path / "text.txt").write_text(_text(20), encoding="utf-8")
    proc = run_danlu(*args, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and message in proc.stderr, proc.stderr
    assert not (tmp_path / "m.bin").exists()


def test_word_vectors_refuse_to_predict(model, tmp_path, capsys) -> None:
    lines = tmp_path / "lines.txt"
    lines.write_text("__label__x cat eats\n", encoding="utf-8")
    for command in ("predict", "test"):
        assert main([command, str(model), str(lines)]) == 2
        assert "not a classifier" in capsys.readouterr().err
    with pytest.raises(UsageError, match="Model needs to be supervised"):
        ours_ft.load_model(model).predict("cat eats")


def test_supervised_starts_from_skipgram_vec_as_fasttext_does(tmp_path) -> None:
    """``-pretrainedVectors`` takes the ``.vec`` that ``danlu skipgram`` writes: its words
    join the dictionary (count + 1; new words count 1, as fastText's ``Dictionary::add``),
    and their rows start from the file's vectors."""
    pytest.importorskip("fasttext")
    # dim 32: the installed official build raises "Encountered NaN" at random below that
    (tmp_path / "text.txt").write_text(_text(200), encoding="utf-8")
    assert main(["skipgram", "-input", str(tmp_path / "text.txt"), "-output", str(tmp_path / "v"),
                 "-dim", "32", "-epoch", "1", "-minCount", "1", "-bucket", "1000",
                 "-thread", "1", "-verbose", "0"]) == 0  # fmt: skip
    vec = tmp_path / "v.vec"
    train = tmp_path / "train.txt"
    train.write_text("__label__a the cat eats\n__label__b a zebra sleeps\n" * 3, encoding="utf-8")
    opts = {"input": str(train), "dim": 32, "epoch": 1, "lr": 1e-9, "thread": 1,
            "pretrainedVectors": str(vec), "verbose": 0}  # fmt: skip
    ours = ours_ft.train_supervised(**opts)
    words, counts = ours.get_words(include_freq=True)
    theirs = _official_words_and_rows(tmp_path, opts, ["fish", "cat", "</s>"])
    assert dict(zip(words, counts, strict=True)) == theirs["counts"]
    assert "fish" in words and "zebra" in words  # only in the vectors / only in training
    given = dict(line.split(" ", 1) for line in vec.read_text(encoding="utf-8").splitlines()[1:])
    for word in ("fish", "cat", "</s>"):  # a lr of 1e-9 leaves the starting rows in place
        want = np.array(given[word].split(), dtype=np.float32)
        np.testing.assert_allclose(ours.get_input_vector(ours.get_word_id(word)), want,
                                   atol=1e-6)  # fmt: skip
        np.testing.assert_allclose(theirs["rows"][word], want, atol=1e-6)


# the official trainer runs in its own process: in-process, after other tests, it raised
# "Encountered NaN" at random (as in test_fasttext_lines); its answers come back as JSON
_OFFICIAL_PRETRAINED = """
import json, sys, fasttext
opts, words = json.loads(sys.argv[1]), json.loads(sys.argv[2])
model = fasttext.train_supervised(**opts)
found, counts = model.get_words(include_freq=True)
rows = {w: model.get_input_vector(model.get_word_id(w)).tolist() for w in words}
print(json.dumps({"counts": dict(zip(found, counts.tolist())), "rows": rows}))
"""


def _official_words_and_rows(folder: Path, opts: dict, words: list[str]) -> dict:
    """The official package's dictionary counts and the input rows of ``words``."""
    proc = subprocess.run([sys.executable, "-c", _OFFICIAL_PRETRAINED, json.dumps(opts),
                           json.dumps(words)], cwd=folder, check=True, capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    return json.loads(proc.stdout)
