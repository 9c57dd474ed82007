"""Shrinking a fastText model: keep the input rows with the largest norms, store them in bytes.

1. Pruning: the hidden vector is a mean of rows, so rows with small norms move it least.
   The ``cutoff`` rows of largest L2 norm are kept (words and n-gram buckets alike); a
   pruned word becomes out of vocabulary (its n-grams still count), a pruned bucket
   falls back to the zero row.
2. ``-retrain`` (as fastText's): the pruned model trains again for ``-epoch`` epochs from
   ``-lr`` (default 0.1, fastText's) on the training data, so the kept rows and the
   output layer adapt to the rows that are gone (pruned buckets stay zero).
3. Storing the kept rows (``-qtype``):

   - ``int8`` (the default): each row ``x`` is stored as ``q = round(127 x / max|x|)``
     plus its scale ``max|x| / 127`` (float32), so ``x ~ scale * q``: ``d + 4`` bytes.
   - ``pq``: product quantization, as fastText's ``quantize`` does
     (:mod:`product_quantizer`): ``ceil(d / dsub)`` bytes a row (``-dsub``, default 2);
     ``-qnorm`` quantizes the norms apart, ``-qout`` the output layer too (it needs at
     least 256 rows). ``-qtype auto`` picks ``pq`` when one of ``-dsub -qnorm -qout`` is
     given, so a fastText command line does what it did there; otherwise ``int8``.

   On THUCNews (BENCHMARKS.md) int8 loses less accuracy; pq is about half its size.

The output layer is small and stays float32 unless ``-qout``. The result is a normal model
file: the loader decodes it.

Example:
    >>> small = quantize_model(model, cutoff=100_000, qtype="pq", qnorm=True)  # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from danlu.errors import UsageError
from danlu.tasks.text_classification.dictionary import Dictionary
from danlu.tasks.text_classification.model import FastTextModel, load_model
from danlu.tasks.text_classification.product_quantizer import KSUB, QuantizedRows

__all__ = [
    "dequantize_rows", "pack_model", "prune_model", "quantize_file", "quantize_model",
    "quantize_rows", "unpack",
]  # fmt: skip

QTYPES = ("auto", "int8", "pq")


def quantize_rows(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row-wise symmetric int8: returns (q int8 (R, d), scale float32 (R,))."""
    scale = np.maximum(np.abs(x).max(axis=1, initial=0.0), 1e-12) / 127.0
    q = np.clip(np.round(x / scale[:, None]), -127, 127).astype(np.int8)
    return q, scale.astype(np.float32)


def dequantize_rows(q: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Inverse of :func:`quantize_rows` (up to rounding): ``scale * q``, float32 (R, d)."""
    return q.astype(np.float32) * scale[:, None].astype(np.float32)


def prune_model(model: FastTextModel, cutoff: int = 0) -> FastTextModel:
    """A copy of ``model`` with the ``cutoff`` input rows of largest norm (0: 30% of them)."""
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
    return FastTextModel(
        new_dict, rows, model.ngram_buckets[gram_keep].copy(), model.output.copy(),
        model.loss, dict(model.args), model.tokenizer,
    )  # fmt: skip


def resolve_qtype(qtype: str, dsub: int = 0, qnorm: bool = False, qout: bool = False) -> str:
    """``auto`` -> ``pq`` if a product-quantization option is set, else ``int8``."""
    if qtype not in QTYPES:
        raise UsageError(f"-qtype must be one of {', '.join(QTYPES)}, got {qtype!r}")
    if qtype == "auto":
        return "pq" if (dsub or qnorm or qout) else "int8"
    if qtype == "int8" and (dsub or qnorm or qout):
        raise UsageError("-dsub, -qnorm and -qout are options of product quantization: "
                         "use -qtype pq (or auto), or drop them for int8")  # fmt: skip
    return qtype


def pack_model(
    model: FastTextModel, qtype: str = "auto", dsub: int = 0, qnorm: bool = False,
    qout: bool = False, seed: int = 0,
) -> FastTextModel:  # fmt: skip
    """Store ``model``'s input rows (and with ``qout`` its output rows) in bytes.

    Returns a copy whose ``packed`` arrays are written to the file and whose ``input`` /
    ``output`` hold the decoded values, so it predicts as it will after loading.
    """
    qtype = resolve_qtype(qtype, dsub, qnorm, qout)
    args = dict(model.args, quantized=qtype)
    packed: dict[str, np.ndarray] = {}
    weights = {"input": model.input, "output": model.output}
    if qtype == "int8":
        packed["input_q"], packed["input_scale"] = quantize_rows(model.input)
    else:
        args.update(dsub=dsub or 2, qnorm=qnorm, qout=qout)
        # the output first: it is small, so a -qout that cannot work fails at once
        for i, name in enumerate(("output", "input") if qout else ("input",)):
            try:
                rows = QuantizedRows.fit(weights[name], args["dsub"], qnorm, seed=seed + 2 * i)
            except UsageError as exc:  # too few rows for the codebooks, or a bad -dsub
                hint = ""
                if len(weights[name]) < KSUB:
                    hint = " (use -qtype int8)" if name == "input" else " (drop -qout)"
                raise UsageError(f"-qtype pq on the {name} matrix: {exc}{hint}") from None
            packed.update(rows.arrays(name))
    weights.update(unpack(packed, args))
    return FastTextModel(
        model.dictionary, weights["input"], model.ngram_buckets, weights["output"],
        model.loss, args, model.tokenizer, packed=packed,
    )  # fmt: skip


def unpack(packed: dict[str, np.ndarray], args: dict) -> dict[str, np.ndarray]:
    """Decoded ``input`` / ``output`` matrices of the packed arrays present."""
    out = {}
    if "input_q" in packed:
        out["input"] = dequantize_rows(packed["input_q"], packed["input_scale"])
    for name in ("input", "output"):
        if f"{name}_codes" in packed:
            dsub = int(args.get("dsub", 2))
            out[name] = QuantizedRows.from_arrays(packed, name, dsub).decode()
    return out


def quantize_model(
    model: FastTextModel, cutoff: int = 0, qtype: str = "auto", dsub: int = 0,
    qnorm: bool = False, qout: bool = False, retrain_on: str | None = None, epoch: int = 1,
    lr: float = 0.1, thread: int = 1,
) -> FastTextModel:  # fmt: skip
    """Prune (:func:`prune_model`), with ``retrain_on`` (a training file) train the kept rows
    again (:func:`retrain`), then store them in bytes (:func:`pack_model`)."""
    resolve_qtype(qtype, dsub, qnorm, qout)  # a bad combination fails before any work
    small = prune_model(model, cutoff)
    if retrain_on is not None:
        small = retrain(small, retrain_on, epoch, lr, thread)
    return pack_model(small, qtype, dsub, qnorm, qout)


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
    lr: float = 0.1, thread: int = 1, qtype: str = "auto", dsub: int = 0, qnorm: bool = False,
    qout: bool = False,
) -> tuple[Path, Path, int, int]:  # fmt: skip
    """Quantize ``src`` into ``dst`` (``.safetensors`` appended unless present).

    ``retrain_on``: a training file to retrain the pruned model on (``""``: the file the
    model was trained on; ``None``: no retraining), before the rows are stored in bytes.

    Returns:
        (src path, written path, size before, size after) in bytes.
    """
    out = Path(dst if dst.endswith(".safetensors") else dst + ".safetensors")
    model = load_model(src)
    train = None
    if retrain_on is not None:
        train = retrain_on or str(model.args.get("input", ""))
        if not train or not Path(train).is_file():
            raise UsageError(f"-retrain needs the training data: pass -train FILE (the model "
                             f"was trained on {train!r}, which is not a file here)")  # fmt: skip
    small = quantize_model(model, cutoff, qtype, dsub, qnorm, qout, train, epoch, lr, thread)
    small.save(out)
    return Path(src), out, Path(src).stat().st_size, out.stat().st_size
