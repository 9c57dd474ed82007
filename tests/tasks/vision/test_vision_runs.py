"""``danlu vision train|eval|predict`` on the shipped Fashion-MNIST sample and on small image
folders: the model learns, the commands around it behave, runs are reproducible."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from tests.conftest import run_danlu

from danlu.cli import main
from danlu.data import read_idx_images_labels
from danlu.errors import UsageError
from danlu.tasks.vision.config import VisionEvalConfig, VisionTrainConfig
from danlu.tasks.vision.demo import FASHION_CLASSES, sample_files
from danlu.tasks.vision.evaluate import evaluate_images
from danlu.tasks.vision.model import batched_logits, load_model
from danlu.tasks.vision.train import train_vision
from danlu.train.checkpoint import load_safetensors, save_safetensors
from danlu.train.config import TrainConfig

Image = pytest.importorskip("PIL.Image", reason="Pillow is not installed (pip install Pillow)")

TRAIN, TRAIN_LABELS = sample_files("train")
DEV, DEV_LABELS = sample_files("dev")
RUN_FILES = ("config.json", "metrics.jsonl", "metrics.json", "model.safetensors", "curves.png")
QUICK = TrainConfig(batch_size=64, lr=3e-3, device="cpu", quiet=True, log_every=5)


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    """A modern LeNet-5 trained for four epochs on 1,800 images via the CLI (a few seconds)."""
    out = tmp_path_factory.mktemp("vision") / "run"
    proc = run_danlu("vision", "train", "--train", TRAIN, "--labels", TRAIN_LABELS, "--dev", DEV,
                     "--dev-labels", DEV_LABELS, "--model", "lenet5_modern", "--class-names",
                     ",".join(FASHION_CLASSES), "--augment", "crop:2", "--epochs", "4",
                     "--batch-size", "64", "--lr", "3e-3", "--warmup", "20", "--threads", "1",
                     "--device", "cpu", "--quiet", "--out", str(out))  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "dev accuracy" in proc.stdout and f"(run folder: {out})" in proc.stdout
    return out


def test_training_writes_the_run_files_and_the_model_learns(run) -> None:
    for name in RUN_FILES:
        assert (run / name).is_file(), name
    events = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    evals = [e for e in events if e["event"] == "eval"]
    assert len(evals) == 4 and all("val_accuracy" in e and "val_loss" in e for e in evals)
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["val_accuracy"] == max(e["val_accuracy"] for e in evals)  # the best is kept
    assert metrics["val_accuracy"] > 0.6  # chance: 0.1
    assert metrics["train_images"] == 1800 and metrics["dev_images"] == 450
    assert metrics["image_shape"] == [1, 28, 28] and metrics["classes"] == 10
    _, spec = load_model(run)
    assert spec.classes == FASHION_CLASSES and spec.model == "lenet5_modern" and not spec.stn
    pixels, _ = read_idx_images_labels(TRAIN, TRAIN_LABELS)
    assert spec.mean[0] == pytest.approx(pixels.mean() / 255)  # measured on the training set
    assert spec.std[0] == pytest.approx(pixels.std() / 255)


def test_eval_prints_the_table_writes_the_pictures_and_the_recomputed_accuracy(
    run, tmp_path
) -> None:
    out = tmp_path / "scores" / "dev.json"
    proc = run_danlu("vision", "eval", "--model", str(run), "--data", DEV, "--labels",
                     DEV_LABELS, "--out", str(out), "--threads", "1")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    scores = json.loads(out.read_text())
    for picture in ("confusion.png", "errors.png"):  # beside --out
        assert (out.parent / picture).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    model, _ = load_model(run)
    pixels, labels = read_idx_images_labels(DEV, DEV_LABELS)
    logits = batched_logits(model, torch.from_numpy(pixels)[:, None], torch.device("cpu"))
    pred = logits.argmax(-1)
    assert scores["accuracy"] == pytest.approx(float((pred == torch.from_numpy(labels).long())
                                                     .double().mean()))  # fmt: skip
    assert scores["images"] == 450 and len(scores["confusion"]) == 10
    assert sum(c["support"] for c in scores["per_class"].values()) == 450
    lines = proc.stdout.splitlines()
    assert lines[0] == f"accuracy {scores['accuracy']:.4f} ({scores['correct']} of 450 images)"
    assert lines[1].split() == ["class", "precision", "recall", "f1", "support"]
    assert lines[2].startswith("T-shirt/top") and lines[-1].startswith("macro avg")


def test_eval_without_out_draws_into_the_run_folder_and_refuses_stn_png(run, tmp_path) -> None:
    scores = evaluate_images(VisionEvalConfig(model=str(run), data=DEV, labels=DEV_LABELS,
                                              errors=4, threads=1))  # fmt: skip
    assert Path(scores["confusion_png"]) == run / "confusion.png"
    assert Path(scores["errors_png"]).is_file()
    with pytest.raises(UsageError, match=r"--stn-png draws a spatial transformer, but the model "
                       r".* has none \(trained without --stn\)"):  # fmt: skip
        evaluate_images(VisionEvalConfig(model=str(run), data=DEV, labels=DEV_LABELS,
                                         stn_png=str(tmp_path / "stn.png")))  # fmt: skip


def test_predict_prints_one_json_line_per_image_in_order(run, tmp_path) -> None:
    pixels, _ = read_idx_images_labels(DEV, DEV_LABELS)
    Image.fromarray(pixels[0]).save(tmp_path / "b.png")
    Image.fromarray(pixels[1]).save(tmp_path / "a.png")
    folder = tmp_path / "more"
    folder.mkdir()
    rgb = Image.fromarray(pixels[2]).convert("RGB").resize((40, 40))  # converted and resized
    rgb.save(folder / "z.jpg")
    Image.fromarray(pixels[3]).save(folder / "y.png")
    proc = run_danlu("vision", "predict", "--model", str(run), "--top-k", "2", "--threads", "1",
                     str(tmp_path / "b.png"), str(tmp_path / "a.png"), str(folder))  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [Path(r["file"]).name for r in rows] == ["b.png", "a.png", "y.png", "z.jpg"]
    model, spec = load_model(run)
    expected = batched_logits(model, torch.from_numpy(pixels[:2])[:, None], torch.device("cpu"))
    for row, logits in zip(rows, expected, strict=False):
        assert row["labels"][0] == spec.classes[int(logits.argmax())]
    for row in rows:
        assert len(row["labels"]) == 2 and set(row["labels"]) <= set(FASHION_CLASSES)
        assert row["probs"][0] >= row["probs"][1] and sum(row["probs"]) <= 1 + 1e-6


def test_a_model_of_another_task_is_refused_by_name(tmp_path) -> None:
    save_safetensors(tmp_path / "model.safetensors", {"w": torch.zeros(2)},
                     {"danlu_task": "tabular"})  # fmt: skip
    with pytest.raises(UsageError, match="this is a danlu 'tabular' model, not a vision model"):
        load_model(tmp_path)
    with pytest.raises(UsageError, match="no model found"):
        load_model(tmp_path / "nothing")


def error_of(argv: list[str], capsys) -> str:
    """The one line of a refused command (status 2)."""
    assert main(argv) == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def test_bad_input_is_one_line_and_status_2(run, tmp_path, capsys) -> None:
    out = ["--out", str(tmp_path / "bad"), "--device", "cpu", "--quiet"]
    line = error_of(["vision", "train", "--train", TRAIN, "--labels", DEV_LABELS, *out], capsys)
    assert "450 labels, but" in line and "holds 1800 images" in line
    line = error_of(["vision", "train", "--train", TRAIN, "--labels", TRAIN, *out], capsys)
    assert "expected labels (N,), got a 3-dimensional array" in line
    line = error_of(["vision", "train", "--train", TRAIN, "--labels", TRAIN_LABELS,
                     "--model", "resnet19", *out], capsys)  # fmt: skip
    assert "invalid choice 'resnet19' for --model; valid: lenet5," in line
    (tmp_path / "broken" / "a").mkdir(parents=True)
    (tmp_path / "broken" / "a" / "x.png").write_bytes(b"not a png")
    line = error_of(["vision", "eval", "--model", str(run), "--data", str(tmp_path / "broken")],
                    capsys)  # fmt: skip
    assert "x.png: not a readable image" in line
    line = error_of(["vision", "predict", "--model", str(run), str(tmp_path / "none.png")], capsys)
    assert line == f"danlu vision predict: error: image not found: {tmp_path / 'none.png'}"


def make_folder(root: Path, side: int, per_class: int = 16) -> Path:
    """Three classes told apart by where a bright square sits (left, middle, right)."""
    rng = np.random.default_rng(0)
    for k, name in enumerate(("left", "middle", "right")):
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            pixels = rng.integers(0, 60, (side, side), dtype=np.uint8)
            top, left = rng.integers(4, side - 12), 2 + k * (side - 12) // 2
            pixels[top : top + 8, left : left + 8] = 255
            Image.fromarray(pixels).save(root / name / f"{i:02d}.png")
    return root


def test_an_image_folder_trains_and_is_resized(tmp_path) -> None:
    folder = make_folder(tmp_path / "images", side=32)
    engine = dataclasses.replace(QUICK, epochs=15, batch_size=12, early_stop_metric="val_accuracy")
    cfg = VisionTrainConfig(train=str(folder), size=28, model="lenet5_modern", dev_fraction=0.25,
                            out=str(tmp_path / "run"), optim=engine)  # fmt: skip
    metrics = train_vision(cfg)
    assert metrics["train_images"] == 36 and metrics["dev_images"] == 12
    assert metrics["image_shape"] == [1, 28, 28]
    assert metrics["val_accuracy"] >= 0.75  # chance: 1/3
    _, spec = load_model(tmp_path / "run")
    assert spec.classes == ("left", "middle", "right") and spec.size == 28


def test_the_spatial_transformer_trains_and_is_drawn(tmp_path) -> None:
    cfg = VisionTrainConfig(train=TRAIN, labels=TRAIN_LABELS, dev_fraction=0.1, stn=True,
                            model="lenet5_modern", out=str(tmp_path / "run"),
                            optim=dataclasses.replace(QUICK, max_steps=10))  # fmt: skip
    metrics = train_vision(cfg)
    assert metrics["steps"] == 10
    model, spec = load_model(tmp_path / "run")
    assert spec.stn and any(k.startswith("stn.") for k in model.state_dict())
    png = tmp_path / "stn.png"
    scores = evaluate_images(VisionEvalConfig(model=str(tmp_path / "run"), data=DEV,
                                              labels=DEV_LABELS, stn_png=str(png),
                                              errors=2))  # fmt: skip
    assert scores["stn_png"] == str(png) and png.read_bytes()[:4] == b"\x89PNG"


def weights(run: Path) -> dict[str, torch.Tensor]:
    return load_safetensors(run / "model.safetensors")


def test_same_seed_same_weights_and_a_resumed_run_augments_alike(tmp_path) -> None:
    """Augmented batches (crop, flip, erase) drawn from (seed, step): two runs agree, and a
    run stopped at step 4 and resumed to step 8 ends with the uninterrupted run's weights."""
    engine = dataclasses.replace(QUICK, epochs=1, max_steps=8, checkpoint_every=4, seed=3)

    def train(name: str, **changes) -> Path:
        cfg = VisionTrainConfig(train=TRAIN, labels=TRAIN_LABELS, dev_fraction=0,
                                model="lenet5_modern", augment="crop:2,flip,erase:0.5",
                                out=str(tmp_path / name),
                                optim=dataclasses.replace(engine, **changes))  # fmt: skip
        train_vision(cfg)
        return tmp_path / name

    first, second = weights(train("a")), weights(train("b"))
    assert first.keys() == second.keys()
    assert all(torch.equal(first[k], second[k]) for k in first)
    train("c", max_steps=4)
    resumed = weights(train("c", resume=True))
    assert all(torch.equal(first[k], resumed[k]) for k in first)
    other = weights(train("d", seed=4))
    assert not all(torch.equal(first[k], other[k]) for k in first)
