"""Shrinking a fastText model: keep the input rows with the largest norms, store int8.

1. Pruning: the hidden vector is a mean of rows, so rows with small norms move it least.
   The ``cutoff`` rows of largest L2 norm are kept (words and n-gram buckets alike); a
   pruned word becomes out of vocabulary (its n-grams still count), a pruned bucket
   falls back to the zero row.
2. Quantization: each kept row ``x`` is stored as ``q = round(127 x / max|x|)`` (int8)
   plus its scale ``max|x| / 127`` (float32), so ``x ~ scale * q``.

3. ``-retrain`` (as fastText's): the pruned model trains again for ``-epoch`` epochs from
   ``-lr`` (default 0.1, fastText's) on the training data, so the kept rows and the
   output layer adapt to the rows that are gone (pruned buckets stay zero), before the
   int8 step.

The output layer is small and stays float32. The result is a normal model file: the
loader dequantizes it.

Example:
    >>> small = quantize_model(model, cutoff=100_000)  # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from danlu.errors import UsageError
from danlu.tasks.text_classification.dictionary import Dictionary
from danlu.tasks.text_classification.model import FastTextModel, load_model

__all__ = ["dequantize_rows", "quantize_file", "quantize_model", "quantize_rows"]


def quantize_rows(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row-wise symmetric int8: returns (q int8 (R, d), scale float32 (R,))."""
    scale = np.maximum(np.abs(x).max(axis=1, initial=0.0), 1e-12) / 127.0
    q = np.clip(np.round(x / scale[:, None]), -127, 127).astype(np.int8)
    return q, scale.astype(np.float32)


def dequantize_rows(q: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Inverse of :func:`quantize_rows` (up to rounding): ``scale * q``, float32 (R, d)."""
    return q.astype(np.float32) * scale[:, None].astype(np.float32)


def quantize_model(model: FastTextModel, cutoff: int = 0) -> FastTextModel:
    """A pruned copy of ``model`` (``cutoff`` rows kept; 0: 30% of them), marked int8."""
    n_rows = model.input.shape[0]
    keep_n = cutoff if cutoff > 0 else max(1, int(0.3 * n_rows))
    keep_n = min(keep_n, n_rows)
    norms = np.linalg.norm(model.input, axis=1)
    kept = np.zeros(n_rows, dtype=bool)
    kept[np.argpartition(-norms, keep_n - 1)[:keep_n]] = True
    d = model.dictionary
    nwords = d.nwords
    word_keep = kept[:nwords]
    idx = np.flatnonzero(word_keep).tolist()
    new_dict = Dictionary(
        [d.words[i] for i in idx], [d.word_counts[i] for i in idx], list(d.labels),
        list(d.label_counts), d.word_ngrams, d.bucket, d.minn, d.maxn,
    )  # fmt: skip
    gram_keep = kept[nwords:]
    rows = np.concatenate([model.input[:nwords][word_keep], model.input[nwords:][gram_keep]])
    args = dict(model.args, quantized="int8")
    return FastTextModel(
        new_dict, rows, model.ngram_buckets[gram_keep].copy(), model.output.copy(),
        model.loss, args, model.tokenizer,
    )  # fmt: skip


def retrain(
    model: FastTextModel, train: str, epoch: int = 1, lr: float = 0.1, thread: int = 1
) -> FastTextModel:
    """Train a (pruned) model again on ``train``: ``epoch`` epochs from ``lr`` (decaying to
    0), with the model's other settings."""
    import dataclasses

    from danlu.tasks.text_classification.config import SupervisedConfig
    from danlu.tasks.text_classification.data import read_labeled_file
    from danlu.tasks.text_classification.train import train_supervised_corpus

    known = {f.name for f in dataclasses.fields(SupervisedConfig)}
    args = {k: v for k, v in model.args.items() if k in known}
    cfg = SupervisedConfig(**{**args, "input": train, "output": "", "epoch": epoch, "lr": lr,
                              "thread": thread, "verbose": 0, "pretrained_vectors": "",
                              "validation": "", "autotune_validation": ""})  # fmt: skip
    corpus = read_labeled_file(train, cfg.label, cfg.tokenizer)
    return train_supervised_corpus(cfg, corpus, init=model)


def quantize_file(
    src: str, dst: str, cutoff: int = 0, retrain_on: str | None = None, epoch: int = 1,
    lr: float = 0.1, thread: int = 1,
) -> tuple[Path, Path, int, int]:  # fmt: skip
    """Quantize ``src`` into ``dst`` (``.safetensors`` appended unless present).

    ``retrain_on``: a training file to retrain the pruned model on (``""``: the file the
    model was trained on; ``None``: no retraining).

    Returns:
        (src path, written path, size before, size after) in bytes.
    """
    out = Path(dst if dst.endswith(".safetensors") else dst + ".safetensors")
    small = quantize_model(load_model(src), cutoff)
    if retrain_on is not None:
        train = retrain_on or str(small.args.get("input", ""))
        if not train or not Path(train).is_file():
            raise UsageError(f"-retrain needs the training data: pass -train FILE (the model "
                             f"was trained on {train!r}, which is not a file here)")  # fmt: skip
        small = retrain(small, train, epoch, lr, thread)
    small.save(out)
    return Path(src), out, Path(src).stat().st_size, out.stat().st_size
