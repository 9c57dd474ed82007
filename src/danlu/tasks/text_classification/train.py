"""Training the fastText classifier: read, build the dictionary, run the epochs.

Per example fastText does (``lr_t``: :func:`numpy_engine.decayed_lr`, a linear decay to 0
over ``epoch * ntokens`` tokens, updated every ``-lrUpdateRate`` tokens)::

    h = mean(W[rows]);  G = -lr_t * dloss/ds  (s = O h, see ``losses``)
    dh = O^T G;  O += G h^T;  W[r] += dh / |rows|  for r in rows

Two engines take that step (``-engine``):

- ``c`` (the default where a C compiler exists, :mod:`c_engine`): exactly that, one
  example at a time, in ``sgd_kernel.c``, compiled on first use;
- ``numpy`` (:mod:`numpy_engine`): a mini-batch of examples takes the step together
  (their updates summed, as Hogwild threads would apply them); with ``-batch 1`` it is
  exactly fastText's update. The automatic batch (:func:`numpy_engine.auto_batch`)
  shrinks at high ``-lr`` and when lines share much of their rows (short lines: ``</s>``
  is a large part of each), where summed updates would diverge.

The file is read by the compiled reader (:mod:`fast_reader`: tokens counted and numbered
in C) where it reads the same as :mod:`data`, else in Python.

``-thread N`` runs N Hogwild workers (:mod:`workers`: threads for ``c``, forked processes
for ``numpy``); each takes its share of every epoch's shuffled examples
(:class:`examples.Workload`). ``-thread 1`` is reproducible for a given ``-seed``; more
threads are not (as in fastText). The two engines are tested equal in float64.

With ``-validation FILE`` P@1 on that file is computed after each epoch; training stops
after ``-patience`` epochs without a gain and the best epoch's weights are kept
(:class:`danlu.train.early_stopping.EarlyStopping`, mode max).

No torch: importing it would take about as long as training on 45,000 titles.

Example:
    >>> model = train_fasttext(SupervisedConfig(input="train.txt", output="m"))  # doctest: +SKIP
    >>> model.save("m.safetensors")  # doctest: +SKIP
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

import numpy as np

from danlu.errors import TrainingDiverged, UsageError
from danlu.tasks.text_classification.c_engine import KernelEngine
from danlu.tasks.text_classification.config import SupervisedConfig
from danlu.tasks.text_classification.data import (
    copy_vectors,
    paused_gc,
    read_labeled_file,
    read_vec,
)
from danlu.tasks.text_classification.dictionary import Dictionary
from danlu.tasks.text_classification.examples import Examples, Workload
from danlu.tasks.text_classification.fast_reader import Corpus, build_dictionary, read_corpus
from danlu.tasks.text_classification.losses import OutputLoss
from danlu.tasks.text_classification.model import FastTextModel
from danlu.tasks.text_classification.numpy_engine import NumpyEngine, auto_batch
from danlu.tasks.text_classification.predict import evaluate
from danlu.tasks.text_classification.sgd_kernel import Kernel, load, unavailable_reason
from danlu.tasks.text_classification.workers import Hogwild, Threads, n_workers, shared_zeros
from danlu.train.early_stopping import EarlyStopping

__all__ = ["run_epoch", "train_fasttext", "train_supervised_corpus", "uniform_rows"]

Log = Callable[[str], None]
OnEpoch = Callable[[FastTextModel, int], bool]
MIN_WORKER_BATCH = 4  # examples a step that make a numpy worker process worth its cost


def train_fasttext(cfg: SupervisedConfig, log: Log | None = None) -> FastTextModel:
    """Read ``cfg.input``, train (with ``-validation``: keep the best epoch, stop early),
    and return the model (not yet saved)."""
    corpus = read_corpus(cfg.input, cfg.label, cfg.tokenizer, compiled=cfg.engine != "numpy")
    if log is None and cfg.verbose > 1:
        log = lambda msg: print(msg, file=sys.stderr, flush=True)  # noqa: E731
    if log is not None:
        log(
            f"Read {corpus.ntokens:,} tokens; {corpus.n_lines:,} labeled lines"
            + (f"; skipped {corpus.skipped:,} lines without a label" if corpus.skipped else "")
        )
    keep_best = _KeepBest(cfg, log) if cfg.validation else None
    model = train_supervised_corpus(cfg, corpus, log, keep_best)
    if keep_best is not None:
        keep_best.restore(model)
    return model


class _KeepBest:
    """After each epoch: P@1 on ``-validation``; keeps the best weights, says when to stop."""

    METRIC = "val_p@1"

    def __init__(self, cfg: SupervisedConfig, log: Log | None) -> None:
        self.corpus = read_labeled_file(cfg.validation, cfg.label, cfg.tokenizer)
        self.log = log
        self.early = EarlyStopping(self.METRIC, mode="max", patience=cfg.patience)
        self.best: tuple[np.ndarray, np.ndarray] | None = None  # (input, output)

    def __call__(self, model: FastTextModel, epoch: int) -> bool:
        _, p, _ = evaluate(model, self.corpus, 1)
        if self.log is not None:
            self.log(f"epoch {epoch + 1}: validation P@1 {p:.4f}")
        if self.early.update({self.METRIC: p}, step=epoch):
            self.best = (model.input.copy(), model.output.copy())
        return self.early.should_stop

    def restore(self, model: FastTextModel) -> None:
        """Put the best epoch's weights back into ``model``."""
        if self.best is not None:
            model.input[:] = self.best[0]
            model.output[:] = self.best[1]
            model.weights_changed()


def train_supervised_corpus(
    cfg: SupervisedConfig,
    corpus: Corpus,
    log: Log | None = None,
    on_epoch: OnEpoch | None = None,
    dtype: Any = np.float32,
    init: FastTextModel | None = None,
) -> FastTextModel:
    """Train on a corpus already read; ``on_epoch(model, epoch)`` returning True stops.

    ``dtype`` (float32; float64 for tests) is the precision of the weights while training.
    ``init``: continue training this model (its dictionary and rows; ``quantize -retrain``)
    instead of starting from a new dictionary and random weights.
    """
    with paused_gc():  # counting and encoding make no cycles; see data.paused_gc
        return _train(cfg, corpus, log, on_epoch, dtype, init)


def _train(
    cfg: SupervisedConfig,
    corpus: Corpus,
    log: Log | None,
    on_epoch: OnEpoch | None,
    dtype: Any,
    init: FastTextModel | None,
) -> FastTextModel:
    if not corpus.n_lines:
        raise UsageError(
            f"{cfg.input}: no line with a label (prefix {cfg.label!r}); fastText lines look "
            f"like '{cfg.label}sports the match ...'"
        )
    if init is not None:
        dictionary = init.dictionary
    else:
        dictionary = build_dictionary(
            corpus, cfg.min_count, cfg.min_count_label,
            word_ngrams=cfg.word_ngrams, bucket=cfg.bucket, minn=cfg.minn, maxn=cfg.maxn,
        )  # fmt: skip
    pretrained = None
    if cfg.pretrained_vectors and init is None:  # fastText adds the file's words
        pretrained = read_vec(cfg.pretrained_vectors, cfg.dim)
        dictionary = dictionary.with_words(pretrained[0])
    data = Examples(corpus, dictionary, init)
    if not len(data.kept):
        raise UsageError(f"{cfg.input}: no label occurs at least -minCountLabel "
                         f"{cfg.min_count_label} times")  # fmt: skip
    kernel = _kernel(cfg)
    workers = n_workers(cfg.thread, len(data.kept), processes=kernel is None)
    batch = 1 if kernel is not None else cfg.batch_size
    if not batch:  # automatic: it shrinks at high -lr and as lines share their rows
        total = auto_batch(len(data.kept), cfg.lr, 1, cfg.loss, data.max_share())
        # a worker process steps in Python: with fewer than MIN_WORKER_BATCH examples a
        # step, fewer workers taking larger steps go faster (half the time on THUCNews
        # titles left unsegmented: 1 worker with batches of 5 against 2 with 2)
        workers = max(1, min(workers, total // MIN_WORKER_BATCH))
        batch = max(1, total // workers)
    loss = OutputLoss(cfg.loss, dictionary.label_counts, cfg.neg)
    # forked workers share the weights only through a shared mapping made before the fork
    zeros = shared_zeros if workers > 1 and kernel is None else np.zeros
    table = zeros((data.n_rows, cfg.dim), dtype)  # W: (n_rows, d)
    out = zeros((loss.n_out, cfg.dim), dtype)  # O: (n_out, d)
    _initial_weights(cfg, table, out, dictionary, init, pretrained)
    args = asdict(cfg) if init is None else dict(init.args, retrained=True)
    model = FastTextModel(dictionary, table[:-1] if init is not None else table, data.buckets,
                          out, cfg.loss, args, cfg.tokenizer)  # fmt: skip
    # a model being retrained keeps its pruned buckets on the last row, held at zero
    void = len(table) - 1 if init is not None else None
    work = Workload(cfg, data, table, out, loss, workers, void)
    if kernel is not None:
        run: KernelEngine | NumpyEngine = KernelEngine(work, kernel)
        how = "compiled per-example steps"
    else:
        run, how = NumpyEngine(work, batch, with_loss=log is not None), f"numpy, batch {batch}"
    if log is not None:
        log(f"training: {how}, {workers} worker{'s' if workers > 1 else ''}")
    _epochs(cfg, model, run, work, kernel is not None, log, on_epoch)
    return model


def _initial_weights(
    cfg: SupervisedConfig,
    table: np.ndarray,
    out: np.ndarray,
    dictionary: Dictionary,
    init: FastTextModel | None,
    pretrained: tuple[list[str], np.ndarray] | None,
) -> None:
    """Fill ``W`` and ``O`` in place: ``init``'s weights, or fastText's initialisation
    ``W ~ uniform(-1/d, 1/d)``, ``O = 0``, then the word rows of ``-pretrainedVectors``
    (``pretrained``: its words and vectors)."""
    if init is not None:
        table[:-1] = init.input  # the last row is the void row, kept at zero
        out[:] = init.output
        return
    uniform_rows(table, cfg.dim, cfg.seed)
    if pretrained is not None:
        copy_vectors(*pretrained, dictionary.word_id, table)


def uniform_rows(table: np.ndarray, dim: int, seed: int) -> None:
    """Fill ``table`` in place with fastText's initial input rows, ``uniform(-1/dim, 1/dim)``
    (float32 draws of a generator seeded ``seed``, whatever the table's dtype)."""
    rng = np.random.default_rng(seed)
    if table.dtype == np.float32:
        rng.random(out=table, dtype=np.float32)  # in place: no second copy of a big table
    else:
        table[:] = rng.random(table.shape, dtype=np.float32)
    table *= 2.0 / dim
    table -= 1.0 / dim


def _epochs(
    cfg: SupervisedConfig,
    model: FastTextModel,
    run: Callable[[int, int], Any],
    work: Workload,
    threads: bool,
    log: Log | None,
    on_epoch: OnEpoch | None,
) -> None:
    """Run ``cfg.epoch`` epochs of ``run(epoch, w)`` on ``work.workers`` workers
    (``threads``: a thread each, else forked processes); log progress, check divergence."""
    pool: Threads | Hogwild | None = None
    if work.workers > 1:
        pool = Threads(work.workers, run) if threads else Hogwild(work.workers, run)
    t0 = time.perf_counter()
    try:
        for epoch in range(cfg.epoch):
            loss_sum, loss_n, lr = run_epoch(pool, run, epoch, work.out)
            if log is not None:
                speed = (epoch + 1) * work.data.total / max(time.perf_counter() - t0, 1e-9)
                log(f"epoch {epoch + 1}/{cfg.epoch}  avg.loss {loss_sum / max(loss_n, 1):.6f}  "
                    f"words/sec {speed:,.0f}  lr {lr:.6f}")  # fmt: skip
            model.weights_changed()
            if on_epoch is not None and on_epoch(model, epoch):
                break
    finally:
        if pool is not None:
            pool.close()


def run_epoch(
    pool: Threads | Hogwild | None, run: Callable[[int, int], Any], epoch: int, out: np.ndarray
) -> tuple[float, int, float]:
    """One epoch of ``run(epoch, w)`` on every worker of ``pool`` (None: one, here):
    (summed loss, examples, the lowest last learning rate).

    Raises:
        TrainingDiverged: the loss or the output weights ``out`` are no longer finite.
    """
    results = pool.epoch(epoch) if pool is not None else [run(epoch, 0)]
    loss_sum = sum(r[0] for r in results)
    if not (math.isfinite(loss_sum) and bool(np.isfinite(out).all())):
        raise TrainingDiverged(f"weights became NaN/inf in epoch {epoch + 1}; lower -lr")
    return loss_sum, sum(r[1] for r in results), min(r[2] for r in results)


def _kernel(cfg: SupervisedConfig) -> Kernel | None:
    """The compiled step if ``-engine`` and ``-batch`` allow it and it builds here."""
    if cfg.engine == "numpy" or cfg.batch_size > 1:
        return None
    kernel = load()
    if kernel is None and cfg.engine == "c":
        raise UsageError(f"-engine c: {unavailable_reason()}; use -engine numpy")
    return kernel
