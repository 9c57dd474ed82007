"""``-engine c``: fastText's per-example SGD step, run by the compiled kernel.

For each example of a worker's share, in order, ``sgd_kernel.c`` does what fastText does
(the step of :mod:`numpy_engine` with a batch of one)::

    h = mean(W[rows]);  G = -lr_t * dloss/ds;  dh = O^T G;  O += G h^T;  W[r] += dh / |rows|

with ``lr_t`` from the tokens all workers have processed (one shared counter per epoch,
updated atomically). This module fills the kernel's :class:`~sgd_kernel.Job` with
pointers to the shared arrays and calls it on chunks of the share: the call releases the
GIL, so ``-thread N`` runs N threads on the same arrays without locks (fastText's
Hogwild, ``workers.Threads``). :mod:`sgd_kernel` compiles and loads the kernel.

Example:
    >>> run = KernelEngine(workload, load())  # doctest: +SKIP
    >>> loss_sum, n, last_lr = run(epoch=0, w=0)  # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np

from danlu.tasks.text_classification.examples import Workload
from danlu.tasks.text_classification.sgd_kernel import LOSS_CODES, Job, Kernel, pointer

__all__ = ["KERNEL_CHUNK", "KernelEngine"]

KERNEL_CHUNK = 50_000  # lines per call of the compiled step


class KernelEngine:
    """Runs worker ``w``'s share of one epoch with the compiled step, one example a step."""

    def __init__(self, work: Workload, kernel: Kernel) -> None:
        self.work, self.kernel = work, kernel
        cfg, data, loss = work.cfg, work.data, work.loss
        # tokens seen by all workers, one counter per epoch (starts at epoch * total)
        self.seen = np.arange(cfg.epoch, dtype=np.int64) * data.total
        if loss.name == "hs":
            self.codes = loss.codes.astype(work.table.dtype)
            self.path_len = loss.mask.sum(axis=1).astype(np.int64)

    def __call__(self, epoch: int, w: int) -> tuple[float, int, float]:
        """(loss sum over the share, its number of examples, last learning rate)."""
        work = self.work
        order, rng, y = work.share(epoch, w)
        loss, dtype = work.loss, work.table.dtype
        negatives = loss.draw_negatives(rng, len(order)) if loss.name == "ns" else None
        n_out, dim = work.out.shape
        scratch = np.empty(2 * dim + 3 * n_out, dtype)  # this worker's own: h, grad, s, t, g
        job = self._job(epoch, scratch)
        loss_sum, lr = 0.0, work.cfg.lr
        # in chunks: Ctrl-C and the other threads get a turn between calls
        for c0 in range(0, len(order), KERNEL_CHUNK):
            c1 = min(c0 + KERNEL_CHUNK, len(order))
            job.order, job.target = pointer(order[c0:c1], np.int64), pointer(y[c0:c1], np.int64)
            job.n = c1 - c0
            if negatives is not None:
                job.negatives = pointer(negatives[c0:c1], np.int64)
            self.kernel.train_share(job, dtype)  # releases the GIL: workers run in parallel
            loss_sum, lr = loss_sum + job.loss_sum, job.last_lr
        return loss_sum, len(order), lr

    def _job(self, epoch: int, scratch: np.ndarray) -> Job:
        """The kernel's arguments for ``epoch`` but the lines to visit (set per chunk).

        The Job holds raw pointers: the caller keeps ``scratch`` alive while it runs.
        """
        work = self.work
        cfg, data, loss, table = work.cfg, work.data, work.loss, work.table
        dtype, i64 = table.dtype, np.int64
        hs = loss.name == "hs"
        n_out, dim = work.out.shape
        return Job(
            input=pointer(table, dtype), output=pointer(work.out, dtype), dim=dim,
            n_out=n_out,
            rows=pointer(data.rows, i64), offsets=pointer(data.offsets, i64),
            ntok=pointer(data.ntok, i64), label_off=pointer(data.label_off, i64),
            label_flat=pointer(data.label_flat, i64), neg=loss.neg,
            paths=pointer(loss.paths, i64) if hs else None,
            codes=pointer(self.codes, dtype) if hs else None,
            path_len=pointer(self.path_len, i64) if hs else None,
            depth=loss.paths.shape[1] if hs else 0,
            seen=pointer(self.seen[epoch : epoch + 1], i64),
            lr=cfg.lr, total_tokens=float(cfg.epoch * data.total),
            rate=cfg.lr_update_rate, void_row=-1 if work.void is None else work.void,
            loss=LOSS_CODES[loss.name], scratch=pointer(scratch, dtype),
        )  # fmt: skip
