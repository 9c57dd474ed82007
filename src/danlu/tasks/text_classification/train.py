"""Training the fastText classifier: sparse SGD on mini-batches, fastText's schedule.

Per example fastText does (``lr_t = lr * (1 - tokens_seen / (epoch * ntokens))``, with
``tokens_seen`` advanced every ``-lrUpdateRate`` tokens)::

    h = mean(W[rows]);  G = -lr_t * dloss/ds  (s = O h, see ``losses``)
    dh = O^T G;  O += G h^T;  W[r] += dh / |rows|  for r in rows

Two engines take that step (``-engine``):

- ``c`` (the default where a C compiler exists): exactly that, one example at a time, in
  ``sgd_kernel.c``, compiled on first use. ``-thread N`` runs N threads on the same
  arrays without locks (fastText's Hogwild; the call releases the GIL), sharing one
  token counter for the learning rate.
- ``numpy``: a mini-batch of examples takes the step together (their updates summed, as
  Hogwild threads would apply them); with ``-batch 1`` it is exactly fastText's update.
  The rows of a batch are gathered with one fancy index and averaged with one
  ``np.add.reduceat``; the updates are scattered with one ``np.add.at`` (duplicates add
  up). ``-thread N`` forks N worker processes after the data is read; they share the
  weights through an anonymous shared mapping, and follow the global progress as ``N``
  times their own tokens.

Only rows that occur are touched: the 2M-bucket matrix is never a dense gradient. Each
worker takes its share of every epoch's shuffled examples. ``-thread 1`` is reproducible
for a given ``-seed``; more threads are not (as in fastText). Small corpora (under 10,000
lines per worker) train on one worker. The two engines are tested equal in float64.

No torch: importing it would take about as long as training on 45,000 titles.
"""

from __future__ import annotations

import contextlib
import math
import mmap
import os
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict
from itertools import chain, repeat
from typing import Any

import numpy as np

from danlu.errors import UsageError
from danlu.tasks.text_classification.config import SupervisedConfig
from danlu.tasks.text_classification.data import (
    LabeledCorpus,
    load_vectors,
    paused_gc,
    read_labeled_file,
)
from danlu.tasks.text_classification.dictionary import Dictionary
from danlu.tasks.text_classification.losses import OutputLoss
from danlu.tasks.text_classification.model import FastTextModel
from danlu.tasks.text_classification.sgd_kernel import (
    LOSS_CODES,
    Job,
    Kernel,
    load,
    pointer,
    unavailable_reason,
)

__all__ = ["train_fasttext", "train_supervised_corpus"]

MIN_LINES_PER_WORKER = 10_000
KERNEL_CHUNK = 50_000  # lines per call of the compiled step


def _shared_zeros(shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    """A zero array in an anonymous shared mapping: forked workers see the same memory."""
    count = int(np.prod(shape))
    buf = mmap.mmap(-1, max(count * np.dtype(dtype).itemsize, 1))
    return np.frombuffer(buf, dtype=dtype, count=count).reshape(shape)


def n_workers(threads: int, n_lines: int, processes: bool = True) -> int:
    """Workers for ``-thread threads`` on ``n_lines`` lines (1: in the calling thread).

    ``processes``: forked processes (the numpy step), Linux only; else threads.
    """
    if processes and sys.platform != "linux":  # forking: the only cheap way to share memory
        return 1
    cpus = len(os.sched_getaffinity(0))
    return max(1, min(threads, cpus, n_lines // MIN_LINES_PER_WORKER))


class _Examples:
    """The encoded corpus: input rows of every line, token counts and label ids."""

    def __init__(
        self, corpus: LabeledCorpus, dictionary: Dictionary, init: FastTextModel | None = None
    ) -> None:
        n = len(corpus.labels)
        given = np.fromiter(map(len, corpus.labels), np.int64, n)
        index = {label: i for i, label in enumerate(dictionary.labels)}
        ids = np.fromiter(map(index.get, chain.from_iterable(corpus.labels), repeat(-1)),
                          np.int64, int(given.sum()))  # fmt: skip
        known = ids >= 0  # labels below -minCountLabel are dropped
        self.label_flat = ids[known]
        sizes = np.bincount(np.repeat(np.arange(n), given)[known], minlength=n)
        self.label_off = np.zeros(n + 1, np.int64)
        np.cumsum(sizes, out=self.label_off[1:])
        self.n_labels = sizes
        self.kept = np.flatnonzero(sizes > 0)  # lines with a known label
        rows, self.offsets = dictionary.encode(corpus.words)
        if init is not None:  # continue a model: its rows; absent buckets -> a void row
            self.rows = init.compact_rows(rows).astype(np.int64)
            self.buckets = init.ngram_buckets
            self.n_rows = len(init.input) + 1
        else:  # compact table: words, then only the n-gram buckets that occur in training
            nwords = dictionary.nwords
            gram = rows >= nwords
            self.buckets, inverse = np.unique(rows[gram] - nwords, return_inverse=True)
            self.rows = rows.copy()
            self.rows[gram] = nwords + inverse
            self.n_rows = nwords + self.buckets.size
        self.lengths = np.diff(self.offsets)
        # tokens fastText counts per line: words, labels and </s>
        self.ntok = np.fromiter(map(len, corpus.words), np.int64, n) + given + 1
        self.total = int(corpus.ntokens)


class _EpochRunner:
    """Runs worker ``w``'s share of one epoch on the shared weights.

    With ``kernel`` (the compiled step, ``sgd_kernel``) every example is one step, as in
    fastText; without it, numpy steps on mini-batches of ``batch`` examples.
    """

    def __init__(self, cfg: SupervisedConfig, data: _Examples, table: np.ndarray,
                 out: np.ndarray, loss: OutputLoss, batch: int, workers: int,
                 with_loss: bool, void: int | None = None,
                 kernel: Kernel | None = None) -> None:  # fmt: skip
        self.void = void  # a row kept at zero (buckets pruned from a model being retrained)
        self.cfg, self.data, self.table, self.out, self.loss = cfg, data, table, out, loss
        self.batch, self.workers, self.with_loss = batch, workers, with_loss
        self.multi = cfg.loss in ("ova", "zlpr")
        self.kernel = kernel
        if kernel is not None:
            # tokens seen by all workers, one counter per epoch (starts at epoch * total)
            self.seen = np.arange(cfg.epoch, dtype=np.int64) * data.total
            if loss.name == "hs":
                self.codes = loss.codes.astype(table.dtype)
                self.path_len = loss.mask.sum(axis=1).astype(np.int64)
        else:
            self.cols = np.arange(table.shape[1])
            self.mark = np.zeros(len(table), np.int64)  # scratch: a position per table row

    def __call__(self, epoch: int, w: int) -> tuple[float, int, float]:
        """(loss sum over the sampled examples, their number, last learning rate)."""
        if self.kernel is not None:
            return self._kernel_epoch(epoch, w)
        # overflow on the way to NaN is not reported per step: divergence is checked and
        # reported (TrainingDiverged) once per epoch
        with np.errstate(over="ignore", invalid="ignore"):
            return self._epoch(epoch, w)

    def _share(self, epoch: int, w: int) -> tuple[np.ndarray, np.random.Generator, np.ndarray]:
        """Worker ``w``'s lines of ``epoch`` in visiting order, its generator, and one
        label per line (softmax, ns and hs draw one of a multi-label line's labels)."""
        cfg, data = self.cfg, self.data
        order = data.kept[np.random.default_rng([cfg.seed, epoch]).permutation(len(data.kept))]
        order = np.ascontiguousarray(order[w :: self.workers])
        rng = np.random.default_rng([cfg.seed, epoch, w, 1])  # label draws and negatives
        pick = data.label_off[order] + (rng.random(len(order)) * data.n_labels[order]).astype(
            np.int64
        )
        return order, rng, data.label_flat[pick]

    def _kernel_epoch(self, epoch: int, w: int) -> tuple[float, int, float]:
        data, loss, table = self.data, self.loss, self.table
        order, rng, y = self._share(epoch, w)
        dtype = table.dtype
        i64 = np.int64
        negatives = loss.draw_negatives(rng, len(order)) if loss.name == "ns" else None
        hs = loss.name == "hs"
        dim, n_out = table.shape[1], self.out.shape[0]
        scratch = np.empty(2 * dim + 3 * n_out, dtype)
        job = Job(
            input=pointer(table, dtype), output=pointer(self.out, dtype), dim=dim,
            n_out=n_out,
            rows=pointer(data.rows, i64), offsets=pointer(data.offsets, i64),
            ntok=pointer(data.ntok, i64), label_off=pointer(data.label_off, i64),
            label_flat=pointer(data.label_flat, i64), neg=loss.neg,
            paths=pointer(loss.paths, i64) if hs else None,
            codes=pointer(self.codes, dtype) if hs else None,
            path_len=pointer(self.path_len, i64) if hs else None,
            depth=loss.paths.shape[1] if hs else 0,
            seen=pointer(self.seen[epoch : epoch + 1], i64),
            lr=self.cfg.lr, total_tokens=float(self.cfg.epoch * data.total),
            rate=self.cfg.lr_update_rate, void_row=-1 if self.void is None else self.void,
            loss=LOSS_CODES[loss.name], scratch=pointer(scratch, dtype),
        )  # fmt: skip
        loss_sum, lr = 0.0, self.cfg.lr
        # in chunks: Ctrl-C and the other threads get a turn between calls
        for c0 in range(0, len(order), KERNEL_CHUNK):
            c1 = min(c0 + KERNEL_CHUNK, len(order))
            job.order, job.target = pointer(order[c0:c1], i64), pointer(y[c0:c1], i64)
            job.n = c1 - c0
            if negatives is not None:
                job.negatives = pointer(negatives[c0:c1], i64)
            self.kernel.train_share(job, dtype)  # releases the GIL: workers run in parallel
            loss_sum, lr = loss_sum + job.loss_sum, job.last_lr
        return loss_sum, len(order), lr

    def _epoch(self, epoch: int, w: int) -> tuple[float, int, float]:
        cfg, data, batch = self.cfg, self.data, self.batch
        order, rng, y_all = self._share(epoch, w)
        n = len(order)
        # this epoch's rows in example order, gathered once; a batch is a slice of it
        lens = data.lengths[order]
        ex_off = np.zeros(n + 1, np.int64)
        np.cumsum(lens, out=ex_off[1:])
        pos = np.repeat(data.offsets[order] - ex_off[:-1], lens) + np.arange(ex_off[-1])
        epoch_rows = data.rows[pos]
        # example of each row, counted from the first example of its batch
        first_ex = (np.arange(n) // batch) * batch
        row_example = np.repeat(np.arange(n) - first_ex, lens)
        rel_off = ex_off[:-1] - ex_off[first_ex]  # bag offsets within the batch's rows
        inv_len = (1.0 / lens).astype(self.table.dtype)[:, None]
        # global progress: every worker is assumed to be as far as this one
        total_tokens = float(cfg.epoch * data.total)
        seen_after = (np.cumsum(data.ntok[order]) * self.workers + epoch * data.total).tolist()
        bounds = ex_off.tolist()
        rate = cfg.lr_update_rate
        seen = float(epoch * data.total)
        loss_sum, loss_n, lr = 0.0, 0, cfg.lr
        for i, b0 in enumerate(range(0, n, batch)):
            b1 = min(b0 + batch, n)
            lr = cfg.lr * max(0.0, 1.0 - (seen - seen % rate) / total_tokens)
            r0, r1 = bounds[b0], bounds[b1]
            multi = self._multi_hot(order[b0:b1]) if self.multi else None
            # the loss is only for the progress line: computed on every 8th batch
            with_loss = self.with_loss and i % 8 == 0
            loss = self._step(epoch_rows[r0:r1], row_example[r0:r1], rel_off[b0:b1],
                              inv_len[b0:b1], y_all[b0:b1], multi, lr, rng, with_loss)  # fmt: skip
            if with_loss:
                loss_sum, loss_n = loss_sum + loss, loss_n + b1 - b0
            seen = seen_after[b1 - 1]
        return loss_sum, loss_n, lr

    def _step(self, idx: np.ndarray, example: np.ndarray, bags: np.ndarray,
              inv_len: np.ndarray, y: np.ndarray, multi: np.ndarray | None, lr: float,
              rng: np.random.Generator, with_loss: bool) -> float:  # fmt: skip
        """One SGD step on a batch: rows ``idx`` (R,), each of example ``example`` (R,);
        example ``b``'s rows start at ``bags[b]``; ``inv_len`` (B, 1) is 1 / its length."""
        table, out = self.table, self.out
        rows = table[idx]  # (R, d)
        # per-bag sums, reduced along the transposed view: faster than axis 0 in numpy
        h = np.add.reduceat(rows.T, bags, axis=1).T  # (B, d)
        h *= inv_len
        loss, g = self.loss(h, out, y, multi, lr, rng, with_loss)
        step = g @ out  # (B, d): -lr * dloss/dh, before O moves
        out += g.T @ h
        step *= inv_len
        # W[r] += step of its example, for every occurrence r (duplicates add up). One
        # occurrence of each row (whichever position survives in ``mark``: exactly one
        # per distinct row, whatever the write order) goes in with one fancy +=; the
        # others (</s>, frequent words) with np.add.at on the flat table, numpy's fast path.
        positions = np.arange(len(idx))
        self.mark[idx] = positions
        once = self.mark[idx] == positions
        # += reads the rows again rather than writing (rows read above) + step: under
        # Hogwild the other workers' updates since that read would be overwritten
        table[idx[once]] += step[example[once]]
        rest = np.flatnonzero(~once)
        if rest.size:
            dim = table.shape[1]
            np.add.at(table.reshape(-1), (idx[rest, None] * dim + self.cols).ravel(),
                      step[example[rest]].ravel())  # fmt: skip
        if self.void is not None:
            table[self.void] = 0.0
        return loss

    def _multi_hot(self, lines: np.ndarray) -> np.ndarray:
        """0/1 targets (B, C) of ``lines`` (every label of a multi-label line)."""
        data = self.data
        counts = data.n_labels[lines]
        starts = np.repeat(data.label_off[lines], counts)
        within = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        owner = np.repeat(np.arange(len(lines)), counts)
        y = np.zeros((len(lines), self.loss.n_labels), self.table.dtype)
        y[owner, data.label_flat[starts + within]] = 1.0
        return y


class _Hogwild:
    """``n`` forked workers that each run ``run(epoch, w)`` when told, on shared memory."""

    def __init__(self, n: int, run: Callable[[int, int], Any]) -> None:
        import multiprocessing as mp

        ctx = mp.get_context("fork")
        self.conns, self.procs = [], []
        for w in range(n):
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=_serve, args=(child, run, w), daemon=True)
            proc.start()
            child.close()
            self.conns.append(parent)
            self.procs.append(proc)

    def epoch(self, epoch: int) -> list[Any]:
        for conn in self.conns:
            conn.send(epoch)
        results = []
        for conn in self.conns:
            try:
                status, value = conn.recv()
            except EOFError:
                raise RuntimeError("a training worker process died (out of memory?)") from None
            if status != "ok":
                raise RuntimeError(f"a training worker failed:\n{value}")
            results.append(value)
        return results

    def close(self) -> None:
        for conn in self.conns:
            with contextlib.suppress(OSError):
                conn.send(None)
        for proc in self.procs:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.terminate()


class _Threads:
    """``n`` threads that each run ``run(epoch, w)``: the compiled step drops the GIL."""

    def __init__(self, n: int, run: Callable[[int, int], Any]) -> None:
        self.n, self.run = n, run

    def epoch(self, epoch: int) -> list[Any]:
        import threading

        results: list[Any] = [None] * self.n
        errors: list[BaseException] = []

        def work(w: int) -> None:
            try:
                results[w] = self.run(epoch, w)
            except BaseException as err:  # re-raised in the calling thread
                errors.append(err)

        threads = [threading.Thread(target=work, args=(w,), daemon=True) for w in range(self.n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            raise errors[0]
        return results

    def close(self) -> None:
        pass


def _serve(conn: Any, run: Callable[[int, int], Any], w: int) -> None:
    while True:
        epoch = conn.recv()
        if epoch is None:
            return
        try:
            conn.send(("ok", run(epoch, w)))
        except BaseException:  # report to the parent instead of dying silently
            conn.send(("error", traceback.format_exc()))


def train_supervised_corpus(
    cfg: SupervisedConfig,
    corpus: LabeledCorpus,
    log: Callable[[str], None] | None = None,
    on_epoch: Callable[[FastTextModel, int], bool] | None = None,
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
    corpus: LabeledCorpus,
    log: Callable[[str], None] | None,
    on_epoch: Callable[[FastTextModel, int], bool] | None,
    dtype: Any,
    init: FastTextModel | None,
) -> FastTextModel:
    if not corpus.words:
        raise UsageError(
            f"{cfg.input}: no line with a label (prefix {cfg.label!r}); fastText lines look "
            f"like '{cfg.label}sports the match ...'"
        )
    rng = np.random.default_rng(cfg.seed)
    if init is not None:
        dictionary = init.dictionary
    else:
        dictionary = Dictionary.build(
            corpus.words, corpus.labels, cfg.min_count, cfg.min_count_label,
            word_ngrams=cfg.word_ngrams, bucket=cfg.bucket, minn=cfg.minn, maxn=cfg.maxn,
        )  # fmt: skip
    data = _Examples(corpus, dictionary, init)
    if not len(data.kept):
        raise UsageError(f"{cfg.input}: no label occurs at least -minCountLabel "
                         f"{cfg.min_count_label} times")  # fmt: skip
    kernel = _kernel(cfg)
    workers = n_workers(cfg.thread, len(data.kept), processes=kernel is None)
    zeros = _shared_zeros if workers > 1 and kernel is None else np.zeros
    dim = cfg.dim
    loss = OutputLoss(cfg.loss, dictionary.label_counts, cfg.neg)
    table = zeros((data.n_rows, dim), dtype)
    out = zeros((loss.n_out, dim), dtype)
    if init is not None:
        table[:-1] = init.input  # the last row is the void row, kept at zero
        out[:] = init.output
    else:
        # fastText's init: uniform(-1/dim, 1/dim)
        if table.dtype == np.float32:
            rng.random(out=table, dtype=np.float32)  # in place: no second copy of a big table
        else:
            table[:] = rng.random((data.n_rows, dim), dtype=np.float32)
        table *= 2.0 / dim
        table -= 1.0 / dim
        if cfg.pretrained_vectors:
            load_vectors(cfg.pretrained_vectors, dictionary.word_id, table)
    args = _args(cfg) if init is None else dict(init.args, retrained=True)
    model = FastTextModel(dictionary, table[:-1] if init is not None else table, data.buckets,
                          out, cfg.loss, args, cfg.tokenizer)  # fmt: skip
    if kernel is not None:
        batch = 1
    else:
        batch = cfg.batch_size or auto_batch(len(data.kept), cfg.lr, workers, cfg.loss)
    if log is not None:
        how = "compiled per-example steps" if kernel is not None else f"numpy, batch {batch}"
        log(f"training: {how}, {workers} worker{'s' if workers > 1 else ''}")
    run = _EpochRunner(cfg, data, table, out, loss, batch, workers, log is not None,
                       void=len(table) - 1 if init is not None else None,
                       kernel=kernel)  # fmt: skip
    pool: _Threads | _Hogwild | None = None
    if workers > 1:
        pool = _Threads(workers, run) if kernel is not None else _Hogwild(workers, run)
    t0 = time.perf_counter()
    try:
        for epoch in range(cfg.epoch):
            results = pool.epoch(epoch) if pool is not None else [run(epoch, 0)]
            loss_sum = sum(r[0] for r in results)
            loss_n = sum(r[1] for r in results)
            if not (math.isfinite(loss_sum) and bool(np.isfinite(out).all())):
                from danlu.errors import TrainingDiverged

                raise TrainingDiverged(f"weights became NaN/inf in epoch {epoch + 1}; lower -lr")
            if log is not None:
                speed = (epoch + 1) * data.total / max(time.perf_counter() - t0, 1e-9)
                log(f"epoch {epoch + 1}/{cfg.epoch}  avg.loss {loss_sum / max(loss_n, 1):.6f}  "
                    f"words/sec {speed:,.0f}  lr {min(r[2] for r in results):.6f}")  # fmt: skip
            model.weights_changed()
            if on_epoch is not None and on_epoch(model, epoch):
                break
    finally:
        if pool is not None:
            pool.close()
    return model


def _kernel(cfg: SupervisedConfig) -> Kernel | None:
    """The compiled step if ``-engine`` and ``-batch`` allow it and it builds here."""
    if cfg.engine == "numpy" or cfg.batch_size > 1:
        return None
    kernel = load()
    if kernel is None and cfg.engine == "c":
        raise UsageError(f"-engine c: {unavailable_reason()}; use -engine numpy")
    return kernel


def auto_batch(n_examples: int, lr: float, workers: int = 1, loss: str = "softmax") -> int:
    """Examples per step of each worker when ``-batch`` is 0.

    Small data wants per-example steps (fastText's); large data gains speed from batching.
    A batch sums its examples' updates, so its step grows with ``lr x batch``: at
    fastText's larger learning rates (1 to 2 on THUCNews) batches of 64 diverge where
    per-example steps do not, so the batch shrinks as ``32 / lr`` (64 at ``-lr 0.5``, 16
    at 2). ``ova`` moves every label's output on every example (its gradient has up to C
    entries of size ~1, where softmax's sums to at most 2), so it gets half that: on
    THUCNews ``-loss ova -lr 0.5`` diverged with batches of 64 and trains with 32.
    Workers apply their steps concurrently: the total is split between them.
    """
    budget = 16 if loss == "ova" else 32
    total = min(64, n_examples // 700, int(budget / lr))
    return int(max(1, total // workers))


def _args(cfg: SupervisedConfig) -> dict:
    return asdict(cfg)


def train_fasttext(
    cfg: SupervisedConfig, log: Callable[[str], None] | None = None
) -> FastTextModel:
    """Read ``cfg.input``, train, and return the model (not yet saved)."""
    corpus = read_labeled_file(cfg.input, cfg.label, cfg.tokenizer)
    if log is None and cfg.verbose > 1:
        log = lambda msg: print(msg, file=sys.stderr, flush=True)  # noqa: E731
    if log is not None:
        log(
            f"Read {corpus.ntokens:,} tokens; {len(corpus.words):,} labeled lines"
            + (f"; skipped {corpus.skipped:,} lines without a label" if corpus.skipped else "")
        )
    on_epoch = None
    if cfg.validation:
        on_epoch = _EarlyStopper(cfg, log)
    model = train_supervised_corpus(cfg, corpus, log, on_epoch)
    if on_epoch is not None:
        on_epoch.restore(model)
    return model


class _EarlyStopper:
    """Evaluates P@1 on ``-validation`` after each epoch; keeps the best weights."""

    def __init__(self, cfg: SupervisedConfig, log: Callable[[str], None] | None) -> None:
        self.corpus = read_labeled_file(cfg.validation, cfg.label, cfg.tokenizer)
        self.patience = cfg.patience
        self.log = log
        self.best = -1.0
        self.best_state: tuple[np.ndarray, np.ndarray] | None = None
        self.bad = 0

    def __call__(self, model: FastTextModel, epoch: int) -> bool:
        from danlu.tasks.text_classification.predict import evaluate

        _, p, _ = evaluate(model, self.corpus, 1)
        if self.log is not None:
            self.log(f"epoch {epoch + 1}: validation P@1 {p:.4f}")
        if p > self.best:
            self.best, self.bad = p, 0
            self.best_state = (model.input.copy(), model.output.copy())
        else:
            self.bad += 1
        return self.bad >= self.patience

    def restore(self, model: FastTextModel) -> None:
        if self.best_state is not None:
            model.input[:] = self.best_state[0]
            model.output[:] = self.best_state[1]
            model.weights_changed()
