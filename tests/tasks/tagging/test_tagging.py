"""``danlu tag`` and ``danlu seg``: train/eval/predict/cut round trips, save/load, long input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from tests.conftest import run_danlu

from danlu.data.conll import read_conll
from danlu.errors import DataError, UsageError
from danlu.metrics.entities import entity_scores
from danlu.nn.heads import SoftmaxHead
from danlu.tasks.demo import sample_path
from danlu.tasks.tagging.config import SegTrainConfig, TaggerOptions, TagTrainConfig
from danlu.tasks.tagging.model import Batch, load_tagger
from danlu.tasks.tagging.ner import full_tag_set
from danlu.tasks.tagging.predict import predict_tags
from danlu.tasks.tagging.seg import segment
from danlu.tasks.tagging.sequences import SequenceData, repair_piece, split_long
from danlu.tasks.tagging.train import train_segmenter, train_tagger
from danlu.train.config import TrainConfig

NER = sample_path("gsd_ner.txt")
SEG = sample_path("gsd_seg.txt")
SMALL = TaggerOptions(embedding_dim=32, hidden=32)


def quick(**kw) -> TrainConfig:
    return TrainConfig(**{"epochs": 3, "batch_size": 16, "lr": 5e-3, "quiet": True,
                          "device": "cpu", "early_stop_metric": "val_f1", **kw})  # fmt: skip


@pytest.fixture(scope="module")
def ner_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("ner")
    metrics = train_tagger(TagTrainConfig(train=str(NER), out=str(out), dev_fraction=0.2,
                                          model=SMALL, optim=quick()))  # fmt: skip
    assert metrics["scheme"] == "BIO" and metrics["dev_sentences"] == 23
    assert 0.0 <= metrics["val_f1"] <= 1.0 and metrics["epochs"] == 3
    return out


@pytest.fixture(scope="module")
def seg_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("seg")
    metrics = train_segmenter(SegTrainConfig(train=str(SEG), out=str(out), dev_fraction=0.2,
                                             model=SMALL, optim=quick(epochs=4)))  # fmt: skip
    assert metrics["val_f1"] > 0.5  # characters alone already segment much of the text
    return out


def test_ner_run_folder_round_trip(ner_run: Path, tmp_path: Path) -> None:
    for name in ("config.json", "metrics.json", "metrics.jsonl", "model.safetensors"):
        assert (ner_run / name).is_file(), name
    model = load_tagger(ner_run)
    spec = model.spec
    assert spec.task == "ner" and spec.head == "crf" and spec.tags[0] == "O"
    assert set(spec.tags) == set(full_tag_set(["B-PER", "I-LOC", "B-ORG", "I-OTH"], "BIO"))
    # eval through the CLI: the same scores as computing them here with the loaded model
    sents = read_conll(NER)
    pred = predict_tags(model, [list(s.tokens) for s in sents])
    expected = entity_scores([list(s.tags) for s in sents], pred)
    out_json = tmp_path / "scores.json"
    proc = run_danlu("tag", "eval", "--model", str(ner_run), "--data", str(NER),
                     "--out", str(out_json), "--device", "cpu")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "micro avg" in proc.stdout and "macro avg" in proc.stdout
    scores = json.loads(out_json.read_text(encoding="utf-8"))
    assert scores["micro"]["f1"] == pytest.approx(expected["micro"]["f1"])
    assert set(scores["per_type"]) <= {"PER", "LOC", "ORG", "OTH"}


def test_tag_predict_writes_one_json_object_per_line(ner_run: Path) -> None:
    import subprocess
    import sys

    from tests.conftest import danlu_env

    text = "他花费了许多时间来比较加拿大地质调查局博物馆中的恐龙化石。\n\n北京外城共有七门。\n"
    proc = subprocess.run([sys.executable, "-m", "danlu", "tag", "predict", "--model",
                           str(ner_run), "--device", "cpu"], input=text, capture_output=True,
                          text=True, env=danlu_env(), timeout=120)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [r["text"] for r in rows] == text.splitlines()
    for row in rows:
        for ent in row["entities"]:
            assert row["text"][ent["start"] : ent["end"]] == ent["text"]
            assert ent["type"] in {"PER", "LOC", "ORG", "OTH"}


def test_saved_model_predicts_like_the_trained_one(ner_run: Path) -> None:
    a, b = load_tagger(ner_run), load_tagger(ner_run / "model.safetensors")
    seqs = [list("北京外城共有七门"), list("南京大学")]
    assert predict_tags(a, seqs) == predict_tags(b, seqs)
    with pytest.raises(UsageError, match="this is a ner model; use danlu tag"):
        load_tagger(ner_run, task="seg")
    with pytest.raises(UsageError, match="no model found"):
        load_tagger(ner_run / "nope")


def test_seg_eval_and_cut(seg_run: Path, tmp_path: Path) -> None:
    import subprocess
    import sys

    from tests.conftest import danlu_env

    out_json = tmp_path / "seg.json"
    proc = run_danlu("seg", "eval", "--model", str(seg_run), "--gold", str(SEG),
                     "--out", str(out_json), "--device", "cpu")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    scores = json.loads(out_json.read_text(encoding="utf-8"))
    assert scores["sentences"] == 115 and scores["f1"] > 0.5
    assert 0 <= scores["oov_recall"] <= 1 and "OOV recall" in proc.stdout
    text = "北京外城共有七门。\n\n南京 大学\n"
    proc = subprocess.run([sys.executable, "-m", "danlu", "seg", "cut", "--model",
                           str(seg_run), "--device", "cpu"], input=text, capture_output=True,
                          text=True, env=danlu_env(), timeout=120)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.split("\n")[:3]
    assert [ln.replace(" ", "") for ln in lines] == ["北京外城共有七门。", "", "南京大学"]
    assert "南京 " in lines[2] or lines[2].startswith("南京 ")  # input spaces always split


def test_segment_api_keeps_characters(seg_run: Path) -> None:
    model = load_tagger(seg_run, task="seg")
    (words,) = segment(model, ["市区除玄武湖外还有莫愁湖"])
    assert "".join(words) == "市区除玄武湖外还有莫愁湖"


def test_split_long_cuts_between_spans() -> None:
    tags = ["B-X", "I-X", "I-X", "O", "B-Y", "I-Y", "O", "O"]
    assert split_long(list("abcdefgh"), tags, 4, "BIO") == [(0, 4), (4, 8)]
    tags = ["O", "B-X", "I-X", "I-X", "I-X", "O"]  # the cut moves back to before B-X
    assert split_long(list("abcdef"), tags, 4, "BIO") == [(0, 1), (1, 5), (5, 6)]
    assert split_long(list("ab"), ["O", "O"], 0, "BIO") == [(0, 2)]
    # one span longer than max_len must be cut inside; the pieces are repaired
    bmes = ["B", "M", "M", "M", "E"]
    assert split_long(list("abcde"), bmes, 2, "BMES") == [(0, 2), (2, 4), (4, 5)]
    assert repair_piece(["B", "M"], "BMES") == ["B", "E"]
    assert repair_piece(["M", "M"], "BMES") == ["B", "E"]
    assert repair_piece(["E"], "BMES") == ["S"]
    assert repair_piece(["I-X", "I-X"], "BIO") == ["B-X", "I-X"]


def test_long_sentences_warn_or_fail_under_strict(tmp_path: Path, capsys) -> None:
    path = tmp_path / "long.txt"
    path.write_text("a O\nb O\n\n" + "".join(f"{c} O\n" for c in "cdefghij"), encoding="utf-8")
    opts = TaggerOptions(embedding_dim=8, hidden=8, max_len=5)
    cfg = TagTrainConfig(train=str(path), out=str(tmp_path / "run"), dev_fraction=0,
                         model=opts, optim=quick(epochs=1, early_stop_metric=""))  # fmt: skip
    metrics = train_tagger(cfg)
    assert metrics["train_sentences"] == 3  # the 8-token sentence became two pieces
    assert f"{path}:4: sequence of 8 tokens is longer than --max-len 5" in capsys.readouterr().err
    proc = run_danlu("tag", "train", "--train", str(path), "--out", str(tmp_path / "r2"),
                     "--max-len", "5", "--strict", "--dev-fraction", "0")  # fmt: skip
    assert proc.returncode == 2
    assert f"{path}:4: sequence of 8 tokens is longer than --max-len 5" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_bad_scheme_tag_exits_2_with_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.txt"
    path.write_text("a B-X\nb M-X\n", encoding="utf-8")
    proc = run_danlu("tag", "train", "--train", str(path), "--scheme", "bio",
                     "--out", str(tmp_path / "run"))  # fmt: skip
    assert proc.returncode == 2
    assert f"{path}:2: tag 'M-X' is not allowed in the BIO scheme" in proc.stderr
    with pytest.raises(DataError):
        read_conll(path, "bioes")


def test_softmax_head_is_token_cross_entropy() -> None:
    torch.manual_seed(0)
    emissions = torch.randn(2, 4, 3)
    tags = torch.tensor([[0, 1, 2, 0], [2, 2, 0, 0]])
    mask = torch.tensor([[True] * 4, [True, True, False, False]])
    head = SoftmaxHead(3)
    ce = torch.nn.functional.cross_entropy(emissions[mask], tags[mask], reduction="sum")
    assert head.nll(emissions, tags, mask, reduction="sum").item() == pytest.approx(ce.item())
    best, _ = head.decode(emissions, mask)
    assert best[1, 2:].tolist() == [-1, -1]
    assert best[0].tolist() == emissions[0].argmax(-1).tolist()


def test_batches_pad_to_the_longest_sentence() -> None:
    data = SequenceData([np.array([2, 3, 4]), np.array([5])], [np.array([0, 1, 0]), np.array([1])])
    batch = data.get(np.array([1, 0]))
    assert isinstance(batch, Batch) and batch.chars.tolist() == [[5, 0, 0], [2, 3, 4]]
    assert batch.mask.tolist() == [[True, False, False], [True, True, True]]


@pytest.mark.parametrize("head", ["softmax", "memm", "bimemm"])
def test_other_heads_and_word_features_train(head: str, tmp_path: Path) -> None:
    if head != "softmax":
        pytest.importorskip("danlu.nn.memm")
    opts = TaggerOptions(head=head, embedding_dim=16, hidden=16, word_features=head == "softmax")
    cfg = SegTrainConfig(train=str(SEG), out=str(tmp_path), dev_fraction=0.2, model=opts,
                         optim=quick(epochs=2))  # fmt: skip
    metrics = train_segmenter(cfg)
    assert metrics["val_f1"] > 0.3
    model = load_tagger(tmp_path)
    assert model.spec.head == head and model.spec.word_features == (head == "softmax")


@pytest.mark.slow
def test_resume_ner_short_training_reaches_a_modest_f1(shared_data: Path, tmp_path: Path) -> None:
    root = shared_data / "resume-ner"
    cfg = TagTrainConfig(
        train=str(root / "train.char.bmes"), dev=str(root / "dev.char.bmes"), out=str(tmp_path),
        model=TaggerOptions(embedding_dim=64, hidden=64),
        optim=quick(epochs=1, max_steps=50, batch_size=32, lr=1e-2),
    )  # fmt: skip
    metrics = train_tagger(cfg)
    assert metrics["scheme"] == "BMES" and metrics["tags"] == 33  # O + 8 types x B/M/E/S
    assert metrics["val_f1"] > 0.6, metrics
