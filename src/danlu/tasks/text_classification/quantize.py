"""Shrinking a fastText model: keep the input rows with the largest norms, store them in bytes.

1. Pruning: the hidden vector is a mean of rows, so rows with small norms move it least.
   The ``cutoff`` rows of largest L2 norm are kept (words and n-gram buckets alike); a
   pruned word becomes out of vocabulary (its n-grams still count), a pruned bucket
   falls back to the zero row.
2. ``-retrain`` (as fastText's): the pruned model trains again for ``-epoch`` epochs from
   ``-lr`` (:class:`config.QuantizeOptions`) on the training data, with its own other
   options, so the kept rows and the output layer adapt to the rows that are gone
   (pruned buckets stay zero).
3. Storing the kept rows (``-qtype``):

   - ``int8`` (the default): each row ``x`` is stored as ``q = round(127 x / max|x|)``
     plus its scale ``max|x| / 127`` (float32), so ``x ~ scale * q``: ``d + 4`` bytes
     (:mod:`packing`).
   - ``pq``: product quantization, as fastText's ``quantize`` does
     (:mod:`product_quantizer`): ``ceil(d / dsub)`` bytes a row (``-dsub``, default 2);
     ``-qnorm`` quantizes the norms apart, ``-qout`` the output layer too (it needs at
     least 256 rows). ``-qtype auto`` picks ``pq`` when one of ``-dsub -qnorm -qout`` is
     given, so a fastText command line does what it did there; otherwise ``int8``.

   On THUCNews (BENCHMARKS.md) int8 loses less accuracy; pq is about half its size.

The output layer is small and stays float32 unless ``-qout``. The result is a normal model
file: the loader decodes it (:func:`packing.unpack`).

``-saveFormat ftz`` writes fastText's own quantized file instead
(:func:`fasttext_bin_write.write_ftz`), which the official package loads: the rows must be
product-quantized (``-qtype auto`` picks pq; int8 is refused), and the pruned model follows
fastText's rule for a pruned bucket, no row at all, left out of a line's mean as well
(``args["absent_buckets"] = "skip"``, set right after pruning), so that what danlu predicts
with the model is what both packages predict from the file. ``-retrain`` still trains with
a pruned bucket as a zero row in the mean (danlu's trainer); fastText's skips it there too.

Example:
    >>> options = QuantizeOptions(cutoff=100_000, qtype="pq", qnorm=True)
    >>> small = quantize_model(model, options)  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from danlu.errors import UsageError
from danlu.io import check_output_file
from danlu.tasks.text_classification.config import (
    QuantizeConfig,
    QuantizeOptions,
    SupervisedConfig,
    resolve_qtype,
)
from danlu.tasks.text_classification.data import read_labeled_file, require_file
from danlu.tasks.text_classification.dictionary import Dictionary
from danlu.tasks.text_classification.fasttext_bin_write import write_ftz
from danlu.tasks.text_classification.load import load_model
from danlu.tasks.text_classification.model import FastTextModel
from danlu.tasks.text_classification.packing import quantize_rows, unpack
from danlu.tasks.text_classification.product_quantizer import KSUB, QuantizedRows
from danlu.tasks.text_classification.train import train_supervised_corpus

__all__ = ["pack_model", "prune_model", "quantize_file", "quantize_model", "retrain"]


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


def pack_model(model: FastTextModel, options: QuantizeOptions) -> FastTextModel:
    """Store ``model``'s input rows (and with ``qout`` its output rows) in bytes.

    Returns a copy whose ``packed`` arrays are written to the file and whose ``input`` /
    ``output`` hold the decoded values, so it predicts as it will after loading.
    """
    o = options
    qtype = resolve_qtype(o.qtype, o.dsub, o.qnorm, o.qout, o.save_format)
    args = dict(model.args, quantized=qtype)
    packed: dict[str, np.ndarray] = {}
    weights = {"input": model.input, "output": model.output}
    if qtype == "int8":
        packed["input_q"], packed["input_scale"] = quantize_rows(model.input)
    else:
        args.update(dsub=o.dsub or 2, qnorm=o.qnorm, qout=o.qout)
        # the output first: it is small, so a -qout that cannot work fails at once
        for i, name in enumerate(("output", "input") if o.qout else ("input",)):
            try:
                rows = QuantizedRows.fit(weights[name], args["dsub"], o.qnorm, seed=2 * i)
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


def quantize_model(model: FastTextModel, options: QuantizeOptions) -> FastTextModel:
    """Prune (:func:`prune_model`), with ``options.retrain`` train the kept rows again
    (:func:`retrain`), then store them in bytes (:func:`pack_model`).

    ``options.train`` is the training file of ``-retrain``; empty: the file the model was
    trained on (its ``args["input"]``). With ``options.save_format == "ftz"`` the pruned
    model skips its absent buckets, as fastText's file does (see the module docstring).
    """
    small = prune_model(model, options.cutoff)
    if options.save_format == "ftz":
        small.args["absent_buckets"] = "skip"  # small.args is prune_model's own copy
    if options.retrain:
        train = options.train or str(model.args.get("input", ""))
        if not train or not Path(train).is_file():
            raise UsageError(f"-retrain needs the training data: pass -train FILE (the model "
                             f"was trained on {train!r}, which is not a file here)")  # fmt: skip
        small = retrain(small, train, options)
    return pack_model(small, options)


def retrain(model: FastTextModel, train: str, options: QuantizeOptions) -> FastTextModel:
    """Train a (pruned) model again on ``train``: ``options.epoch`` epochs from
    ``options.lr`` (decaying to 0) on ``options.thread`` workers, with the model's other
    settings (its :class:`SupervisedConfig`, rebuilt from ``model.args``)."""
    known = {f.name for f in dataclasses.fields(SupervisedConfig)}
    own = SupervisedConfig(**{k: v for k, v in model.args.items() if k in known})
    cfg = dataclasses.replace(
        own, input=train, output="", epoch=options.epoch, lr=options.lr,
        thread=options.thread, verbose=0, pretrained_vectors="", validation="",
        autotune_validation="",
    )  # fmt: skip
    corpus = read_labeled_file(train, cfg.label, cfg.tokenizer)
    return train_supervised_corpus(cfg, corpus, init=model)


def quantize_file(cfg: QuantizeConfig) -> tuple[Path, Path, int, int]:
    """Quantize ``cfg.input`` into ``cfg.output`` (``.safetensors``, or with ``-saveFormat
    ftz`` ``.ftz``, appended unless present).

    Returns:
        (input path, written path, size before, size after) in bytes.
    """
    src, dst, suffix = Path(cfg.input), cfg.output, "." + cfg.options.save_format
    out = Path(dst if dst.endswith(suffix) else dst + suffix)
    # before the model is read: a bad path is one line, not a traceback after the work
    require_file(src, "model file", "give a PREFIX.safetensors written by danlu supervised")
    check_output_file(out, "-output")
    model = load_model(src)
    if not isinstance(model, FastTextModel):
        raise UsageError(f"{src} holds a -model {model.args.get('model')} network: danlu "
                         "quantize shrinks the fastText model (-model fasttext)")  # fmt: skip
    small = quantize_model(model, cfg.options)
    if cfg.options.save_format == "ftz":
        write_ftz(small, out)
    else:
        small.save(out)
    return src, out, src.stat().st_size, out.stat().st_size
