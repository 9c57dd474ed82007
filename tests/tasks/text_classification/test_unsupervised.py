"""Word vectors (cbow, skipgram) on real text, against the official fastText package.

People's Daily (January 1998, segmented by PKU; tags stripped): danlu and the official
package train on the same lines with the same options (the official one in a process of
its own: its trainer ends with NaN below dim 32 or when it trained before in the process).
Their nearest neighbours must overlap far beyond chance, and each package must read the
other's ``.bin`` and give its vectors.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gzip
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from danlu import fasttext as ours_ft
from danlu.tasks.text_classification.sgd_kernel import load, unavailable_reason

official = pytest.importorskip("fasttext")
pytestmark = pytest.mark.skipif(
    load() is None, reason=f"the compiled step does not build here: {unavailable_reason()}"
)
from tests.test_fasttext_api_parity import _assert_same_neighbours  # noqa: E402

LINES = 1500
OPTIONS = {"dim": 32, "epoch": 5, "minCount": 5, "bucket": 50000, "thread": 1, "verbose": 0}
OOV = ("没见过的词语", "qwerty", "")


def people_daily(shared_data: Path, n: int) -> str:
    """The first ``n`` lines of People's Daily as words (``[中国/ns 政府/n]nt`` -> 中国 政府)."""
    path = shared_data / "people-daily-199801" / "199801.txt.gz"
    out = []
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            words = [tok.rsplit("/", 1)[0].lstrip("[") for tok in line.split()]
            if words:
                out.append(" ".join(words))
            if len(out) == n:
                break
    return "\n".join(out) + "\n"


@pytest.fixture(scope="module")
def trained(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``text.txt``; the official ``sg.bin``, ``cbow.bin``; danlu's ``ours_sg.bin``, ``.vec``."""
    folder = tmp_path_factory.mktemp("words")
    (folder / "text.txt").write_text(people_daily(shared_data, LINES), encoding="utf-8")
    for model in ("skipgram", "cbow"):
        name = "sg" if model == "skipgram" else model
        script = (f"import fasttext\nfasttext.train_unsupervised('text.txt', model={model!r}, "
                  f"**{OPTIONS!r}).save_model('{name}.bin')")  # fmt: skip
        subprocess.run([sys.executable, "-c", script], cwd=folder, check=True, timeout=120)
    return folder


def _overlap(a, b, probe: list[str]) -> float:
    """Mean share of common words in the two models' 10 nearest neighbours of ``probe``."""
    shared = [len({w for _, w in a.get_nearest_neighbors(q, 10)}
                  & {w for _, w in b.get_nearest_neighbors(q, 10)}) for q in probe]  # fmt: skip
    return float(np.mean(shared)) / 10


@pytest.mark.parametrize(("model", "floor"), [("skipgram", 0.15), ("cbow", 0.06)])
def test_neighbours_agree_with_the_official_models(trained, model, floor) -> None:
    """The neighbours of 40 frequent words (two characters or more) share far more words
    with the official model's than random lists would (10 / V each); measured: skipgram
    0.31 to 0.41 and cbow 0.14, random 0.003."""
    name = "sg" if model == "skipgram" else model
    theirs = official.load_model(str(trained / f"{name}.bin"))
    ours = ours_ft.train_unsupervised(str(trained / "text.txt"), model=model, **OPTIONS)
    assert set(ours.words) == set(theirs.words)  # the order of ties may differ
    probe = [w for w in theirs.words[:300] if len(w) >= 2][:40]
    chance = 10 / len(theirs.words)
    overlap = _overlap(ours, theirs, probe)
    assert overlap >= floor and overlap >= 20 * chance, (overlap, chance)


def test_an_official_skipgram_bin_reads_with_the_same_vectors(trained) -> None:
    theirs = official.load_model(str(trained / "sg.bin"))
    ours = ours_ft.load_model(trained / "sg.bin")
    words = [*theirs.words[:100], *theirs.words[-20:], *OOV]
    for word in words:  # out-of-vocabulary words from their char n-grams
        np.testing.assert_allclose(ours.get_word_vector(word), theirs.get_word_vector(word),
                                   rtol=0, atol=1e-6, err_msg=word)  # fmt: skip
    for line in ("中国 经济 发展", "没见过的词语 的", ""):
        np.testing.assert_allclose(ours.get_sentence_vector(line),
                                   theirs.get_sentence_vector(line), rtol=0, atol=1e-6)  # fmt: skip
    everyone = len(theirs.words)
    for word in [*theirs.words[10:13], OOV[0]]:
        _assert_same_neighbours(ours.get_nearest_neighbors(word, 10),
                                theirs.get_nearest_neighbors(word, everyone), 10, word)  # fmt: skip
    a, b, c = theirs.words[20:23]
    _assert_same_neighbours(ours.get_analogies(a, b, c, 10),
                            theirs.get_analogies(a, b, c, everyone), 10, a + b + c)  # fmt: skip
    assert ours.get_words(include_freq=True)[1].tolist() == theirs.get_words(
        include_freq=True)[1].tolist()  # fmt: skip


def test_a_danlu_bin_reads_in_the_official_package(trained, tmp_path) -> None:
    ours = ours_ft.train_unsupervised(str(trained / "text.txt"), model="skipgram", dim=16,
                                      epoch=1, bucket=20000, thread=1, loss="hs")  # fmt: skip
    ours.save_model(str(tmp_path / "m.bin"))
    theirs = official.load_model(str(tmp_path / "m.bin"))
    assert theirs.words == ours.words and theirs.get_dimension() == 16
    assert theirs.f.getArgs().model.name == "skipgram" and theirs.f.getArgs().loss.name == "hs"
    for word in [*ours.words[:100], *ours.words[-20:], *OOV]:
        np.testing.assert_allclose(theirs.get_word_vector(word), ours.get_word_vector(word),
                                   rtol=0, atol=1e-6, err_msg=word)  # fmt: skip
    np.testing.assert_allclose(theirs.get_output_matrix(), ours.get_output_matrix(), atol=0)
    np.testing.assert_allclose(theirs.get_sentence_vector("中国 经济 qwerty"),
                               ours.get_sentence_vector("中国 经济 qwerty"), atol=1e-6)  # fmt: skip


def _printf(value: float, libc=ctypes.CDLL(ctypes.util.find_library("c"))) -> str:  # noqa: B008
    """C's ``%.5g`` of ``value``: what fastText's ``setprecision(5)`` stream prints."""
    buf = ctypes.create_string_buffer(64)
    libc.snprintf(buf, 64, b"%.5g", ctypes.c_double(value))
    return buf.value.decode()


def test_the_vec_file_is_laid_out_as_fasttexts(trained, tmp_path) -> None:
    """fastText's ``saveVectors``: ``nwords dim``, then per word ``word`` and each value as
    ``%.5g`` followed by a space; the values are those the official package reads from the
    ``.bin`` written beside it."""
    from tests.conftest import run_danlu

    run_danlu("cbow", "-input", str(trained / "text.txt"), "-output", str(tmp_path / "m"),
              "-dim", "8", "-epoch", "1", "-thread", "1", "-bucket", "5000", "-verbose", "0",
              check=True)  # fmt: skip
    theirs = official.load_model(str(tmp_path / "m.bin"))
    assert theirs.f.getArgs().model.name == "cbow"
    lines = (tmp_path / "m.vec").read_text(encoding="utf-8").split("\n")
    assert lines[0] == f"{len(theirs.words)} 8" and lines[-1] == ""
    assert len(lines) == len(theirs.words) + 2
    for line, word in zip(lines[1:], theirs.words, strict=False):
        expected = word + " " + "".join(_printf(float(x)) + " " for x in theirs[word])
        assert line == expected
