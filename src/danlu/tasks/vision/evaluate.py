"""``danlu vision eval``: a trained classifier on labelled images.

Scores: accuracy, macro F1 and each class's precision, recall, F1 and support
(:func:`danlu.metrics.precision_recall_f1` of the confusion matrix), printed as a table
and written as JSON with ``--out``. Pictures: ``confusion.png`` (the labelled confusion
matrix) and ``errors.png`` (up to ``--errors`` misclassified images, in data order, with
their true and predicted classes), both in the folder of ``--out``, else in the model's
run folder; with ``--stn-png``, the first eight images beside what the spatial transformer
made of them.

Example:
    >>> scores = evaluate_images(VisionEvalConfig(model="runs/mnist", data="t10k.gz",
    ...                          labels="t10k-labels.gz"))  # doctest: +SKIP
    >>> print(format_scores(scores))  # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from danlu.errors import UsageError
from danlu.io import check_output_file, write_json
from danlu.metrics import confusion_matrix, precision_recall_f1
from danlu.tasks.vision.config import VisionEvalConfig
from danlu.tasks.vision.data import read_for_model
from danlu.tasks.vision.model import batched_logits, load_model
from danlu.tasks.vision.plots import draw_confusion, draw_errors, draw_warps
from danlu.train.device import resolve_device, use_threads

__all__ = ["STN_IMAGES", "evaluate_images", "format_scores", "picture_folder"]

STN_IMAGES = 8  # images drawn by --stn-png


def picture_folder(cfg: VisionEvalConfig) -> Path:
    """Where ``confusion.png`` and ``errors.png`` go: beside ``--out``, else the run folder."""
    if cfg.out:
        return Path(cfg.out).parent
    model = Path(cfg.model)
    return model.parent if model.name.endswith(".safetensors") else model


def evaluate_images(cfg: VisionEvalConfig) -> dict[str, Any]:
    """Scores and pictures of the model on ``cfg.data`` (see the module docstring)."""
    folder = picture_folder(cfg)
    for flag, path in (("--out", cfg.out), ("--stn-png", cfg.stn_png)):
        if path:  # checked before the work, not after it
            check_output_file(path, flag)
    model, spec = load_model(cfg.model)
    if cfg.stn_png and not spec.stn:
        raise UsageError(f"--stn-png draws a spatial transformer, but the model in {cfg.model} "
                         "has none (trained without --stn): drop --stn-png")  # fmt: skip
    use_threads(cfg.threads)
    device = resolve_device(cfg.device)
    model.to(device)
    data = read_for_model(cfg.data, cfg.labels, spec.classes, spec.shape)
    logits = batched_logits(model, data.pixels, device, cfg.batch_size)
    probs = logits.softmax(-1)
    pred = logits.argmax(-1)
    k = len(spec.classes)
    confusion = confusion_matrix(pred, data.labels, k)
    precision, recall, f1 = precision_recall_f1(confusion)
    correct = int((pred == data.labels).sum())
    scores: dict[str, Any] = {
        "accuracy": correct / len(data), "macro_f1": float(f1.mean()), "images": len(data),
        "correct": correct,
        "per_class": {name: {"precision": float(precision[i]), "recall": float(recall[i]),
                             "f1": float(f1[i]), "support": int(confusion[i].sum())}
                      for i, name in enumerate(spec.classes)},
        "confusion": confusion.tolist(),
    }  # fmt: skip
    title = f"{spec.model} on {Path(cfg.data).name}: accuracy {scores['accuracy']:.4f}"
    scores["confusion_png"] = str(draw_confusion(confusion, spec.classes,
                                                 folder / "confusion.png", title))  # fmt: skip
    wrong = (pred != data.labels).nonzero().flatten()[: cfg.errors]  # data order
    scores["errors_png"] = str(draw_errors(
        data.pixels[wrong], data.labels[wrong], pred[wrong], probs[wrong, pred[wrong]],
        spec.classes, folder / "errors.png",
        f"{len(data) - correct} of {len(data)} images misclassified; {len(wrong)} shown",
    ))  # fmt: skip
    if cfg.stn_png:
        inputs = data.pixels[:STN_IMAGES]
        with torch.no_grad():
            warped = model.warped(inputs.to(device)).float().cpu()
        scores["stn_png"] = str(draw_warps(inputs, warped, cfg.stn_png))
    if cfg.out:
        write_json(cfg.out, scores)
    return scores


def format_scores(scores: dict[str, Any]) -> str:
    """The accuracy line and the per-class table (percentages), as ``eval`` prints them."""
    per_class = scores["per_class"]
    width = max(len("class"), len("macro avg"), *(len(name) for name in per_class))
    lines = [f"accuracy {scores['accuracy']:.4f} ({scores['correct']} of {scores['images']} "
             "images)", f"{'class':<{width}}  precision  recall     f1  support"]  # fmt: skip
    for name, s in per_class.items():
        lines.append(f"{name:<{width}}  {100 * s['precision']:9.2f}  {100 * s['recall']:6.2f}"
                     f"  {100 * s['f1']:5.2f}  {s['support']:7d}")  # fmt: skip
    lines.append("-" * len(lines[1]))
    mean = {key: sum(s[key] for s in per_class.values()) / len(per_class)
            for key in ("precision", "recall", "f1")}  # fmt: skip
    lines.append(f"{'macro avg':<{width}}  {100 * mean['precision']:9.2f}  "
                 f"{100 * mean['recall']:6.2f}  {100 * mean['f1']:5.2f}  "
                 f"{scores['images']:7d}")  # fmt: skip
    return "\n".join(lines)
