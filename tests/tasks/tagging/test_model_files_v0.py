"""Tagging model files written before the task-layer restructuring (commit 91c2458) still
load, and ``tag predict`` / ``seg cut`` answer exactly as the old code did.

Their metadata is the old hand-written layout: one ``sizes`` key holding
``[embedding_dim, hidden, layers]`` and booleans written ``True``/``False``.
"""

from __future__ import annotations

import io
import json

import pytest
from tests.conftest import REPO

from danlu.cli import main
from danlu.errors import UsageError
from danlu.io import read_safetensors_metadata
from danlu.tasks.tagging.model import load_tagger, spec_from_metadata, tagger_metadata

FIXTURES = REPO / "tests" / "fixtures" / "models_v0"
PROBE = FIXTURES / "text_probe.txt"


@pytest.mark.parametrize(("name", "task", "bigram_dim"), [("tagging_ner", "ner", 0),
                                                          ("tagging_seg", "seg", 2)])  # fmt: skip
def test_old_files_load_with_their_sizes(name: str, task: str, bigram_dim: int) -> None:
    path = FIXTURES / f"{name}.safetensors"
    assert "sizes" in read_safetensors_metadata(path)  # the old layout
    spec = load_tagger(path, task=task).spec
    assert (spec.task, spec.embedding_dim, spec.hidden, spec.layers) == (task, 4, 4, 1)
    assert spec.constrained is True and spec.word_features is False
    assert spec.bigram_dim == bigram_dim and spec.head == "crf"
    # written again in today's layout, the spec reads back the same
    assert "sizes" not in tagger_metadata(spec)
    assert spec_from_metadata(tagger_metadata(spec)) == spec


@pytest.mark.parametrize(("words", "name", "expected"), [
    (["tag", "predict"], "tagging_ner", "tagging_ner_expected.jsonl"),
    (["seg", "cut"], "tagging_seg", "tagging_seg_expected.txt"),
])  # fmt: skip
def test_old_files_answer_as_the_old_code_did(words, name, expected, monkeypatch, capsys) -> None:
    text = PROBE.read_text(encoding="utf-8")
    monkeypatch.setattr("sys.stdin", io.StringIO(text))
    status = main([*words, "--model", str(FIXTURES / f"{name}.safetensors"), "--device", "cpu"])
    out = capsys.readouterr().out
    assert status == 0
    assert out == (FIXTURES / expected).read_text(encoding="utf-8")
    if words[0] == "tag":
        assert [json.loads(line)["text"] for line in out.splitlines()] == text.splitlines()


def test_bad_sizes_are_one_usage_error_naming_the_file(tmp_path) -> None:
    from danlu.train.checkpoint import load_safetensors, save_safetensors

    source = FIXTURES / "tagging_ner.safetensors"
    meta = {**read_safetensors_metadata(source), "sizes": "[4, 4]"}
    path = tmp_path / "model.safetensors"
    save_safetensors(path, load_safetensors(source), meta)
    with pytest.raises(UsageError, match=rf"{path}: metadata field 'sizes': expected"):
        load_tagger(tmp_path)
    meta = {**read_safetensors_metadata(source), "constrained": "maybe"}
    save_safetensors(path, load_safetensors(source), meta)
    with pytest.raises(UsageError, match=rf"{path}: metadata field 'constrained'"):
        load_tagger(tmp_path)
