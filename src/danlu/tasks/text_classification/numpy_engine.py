"""``-engine numpy``: fastText's SGD step on mini-batches of examples, in numpy.

Per example fastText does::

    h = mean(W[rows]);  G = -lr_t * dloss/ds  (s = O h, see ``losses``)
    dh = O^T G;  O += G h^T;  W[r] += dh / |rows|  for r in rows

with the learning rate of :func:`decayed_lr`. Here a mini-batch of examples takes that
step together: each is differentiated at the weights of the batch start and their updates
are summed, as Hogwild threads would apply them; with ``-batch 1`` it is exactly
fastText's update (tested in float64 against the equations and the C step). The rows of a
batch are gathered with one fancy index and averaged with one ``np.add.reduceat``; the
updates are scattered with one ``np.add.at`` (duplicates add up). Only rows that occur are
touched: the 2M-bucket matrix is never a dense gradient.

Under ``-thread N`` the workers are forked processes (``workers.Hogwild``) sharing the
weights; each follows the global progress as ``N`` times its own tokens.

Example:
    >>> run = NumpyEngine(workload, batch=64, with_loss=True)  # doctest: +SKIP
    >>> loss_sum, n, last_lr = run(epoch=0, w=0)  # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np

from danlu.tasks.text_classification.examples import Workload

__all__ = ["REFERENCE_SHARE", "NumpyEngine", "auto_batch", "decayed_lr"]


def decayed_lr(lr: float, seen: int, rate: int, total_tokens: float) -> float:
    """fastText's learning rate after ``seen`` tokens (of all workers)::

        lr_t = lr * max(0, 1 - (seen - seen % rate) / total_tokens)

    a linear decay to 0 over ``total_tokens = epoch * ntokens``, updated every ``rate``
    tokens (``-lrUpdateRate``). ``sgd_kernel.c`` keeps the same function (``decayed_lr``,
    tested equal in float64).

    Example:
        >>> decayed_lr(0.5, seen=250, rate=100, total_tokens=1000.0)
        0.4
    """
    return lr * max(0.0, 1.0 - (seen - seen % rate) / total_tokens)


# The share of the most shared input row in a hidden vector that auto_batch's budgets were
# measured at: THUCNews titles segmented with jieba, -wordNgrams 2 (about 20 rows a line,
# </s> one of them).
REFERENCE_SHARE = 0.05


def auto_batch(
    n_examples: int, lr: float, workers: int = 1, loss: str = "softmax",
    share: float = REFERENCE_SHARE,
) -> int:  # fmt: skip
    """Examples per step of each worker when ``-batch`` is 0.

    Small data wants per-example steps (fastText's); large data gains speed from batching.
    A batch sums its examples' updates, each computed at the weights of the batch start,
    so a parameter that ``B`` examples share takes ``B`` steps at once, none of which saw
    the others (the delay of Hogwild with ``B`` workers). For the output rows that step
    grows with ``lr x B``: at fastText's larger learning rates (1 to 2 on THUCNews)
    batches of 64 diverge where per-example steps do not, so the batch shrinks as
    ``32 / lr`` (64 at ``-lr 0.5``, 16 at 2). ``ova`` moves every label's output on every
    example (its gradient has up to C entries of size ~1, where softmax's sums to at most
    2), so it gets half that: on THUCNews ``-loss ova -lr 0.5`` diverged with batches of 64
    and trains with 32. Workers apply their steps concurrently: the total is split between
    them.

    The input rows are shared too: ``</s>`` is in every line. Row ``r`` weighs
    ``n_r(line) / |rows(line)|`` in a line's hidden vector (:meth:`Examples.max_share`)::

        share = max_r mean_lines n_r(line) / |rows(line)|

    so a batch moves the most shared row by ``B x share`` per-example steps at once, and
    the more of each hidden vector that row is, the more alike the hidden vectors are, and
    the more the output rows' summed steps add up too. The budgets above hold up to
    ``share = REFERENCE_SHARE`` (THUCNews titles cut by jieba: about 20 rows a line);
    beyond it the batch shrinks as ``(REFERENCE_SHARE / share) ** 1.5``. Measured on lines
    of 1, 2, 4 and 8 words (``share`` 0.33, 0.2, 0.11, 0.06) at ``-lr`` 0.5, 1 and 2: the
    largest batch that trains as per-example steps do falls between ``1 / share`` and
    ``1 / share ** 2``; at ``-lr`` 0.5 and 1 this rule gives half of it or less (or 1, the
    per-example step, where that is the largest). THUCNews titles left
    unsegmented are one token a line (about 3 rows with ``-wordNgrams 2``, ``share``
    0.274): with batches of 64 at ``-lr 0.5`` the ``</s>`` row and the output rows grew
    together, several-fold a step, to NaN within the first epoch; they train with batches
    of 16 and this rule gives 4.

    Example:
        >>> auto_batch(45_000, 0.5), auto_batch(45_000, 0.5, workers=2), auto_batch(100, 0.1)
        (64, 32, 1)
        >>> auto_batch(45_000, 0.5, share=0.274)
        4
    """
    budget = 16 if loss == "ova" else 32
    shared = max(1.0, share / REFERENCE_SHARE) ** 1.5
    total = min(64, n_examples // 700, int(budget / lr / shared))
    return int(max(1, total // workers))


class NumpyEngine:
    """Runs worker ``w``'s share of one epoch in mini-batches of ``batch`` examples.

    ``with_loss``: compute the loss for the progress line (on every 8th batch).
    """

    def __init__(self, work: Workload, batch: int, with_loss: bool) -> None:
        self.work, self.batch, self.with_loss = work, batch, with_loss
        self.multi = work.cfg.loss in ("ova", "zlpr")
        self.cols = np.arange(work.table.shape[1])
        self.mark = np.zeros(len(work.table), np.int64)  # scratch: a position per table row

    def __call__(self, epoch: int, w: int) -> tuple[float, int, float]:
        """(loss sum over the sampled examples, their number, last learning rate)."""
        # overflow on the way to NaN is not reported per step: divergence is checked and
        # reported (TrainingDiverged) once per epoch
        with np.errstate(over="ignore", invalid="ignore"):
            return self._epoch(epoch, w)

    def _epoch(self, epoch: int, w: int) -> tuple[float, int, float]:
        work, batch = self.work, self.batch
        cfg, data = work.cfg, work.data
        order, rng, y_all = work.share(epoch, w)
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
        inv_len = (1.0 / lens).astype(work.table.dtype)[:, None]
        # global progress: every worker is assumed to be as far as this one
        total_tokens = float(cfg.epoch * data.total)
        seen_after = (np.cumsum(data.ntok[order]) * work.workers + epoch * data.total).tolist()
        bounds = ex_off.tolist()
        seen = epoch * data.total
        loss_sum, loss_n, lr = 0.0, 0, cfg.lr
        for i, b0 in enumerate(range(0, n, batch)):
            b1 = min(b0 + batch, n)
            lr = decayed_lr(cfg.lr, seen, cfg.lr_update_rate, total_tokens)
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
        table, out = self.work.table, self.work.out
        rows = table[idx]  # (R, d)
        # per-bag sums, reduced along the transposed view: faster than axis 0 in numpy
        h = np.add.reduceat(rows.T, bags, axis=1).T  # (B, d)
        h *= inv_len
        loss, g = self.work.loss(h, out, y, multi, lr, rng, with_loss)
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
        if self.work.void is not None:
            table[self.work.void] = 0.0
        return loss

    def _multi_hot(self, lines: np.ndarray) -> np.ndarray:
        """0/1 targets (B, C) of ``lines`` (every label of a multi-label line)."""
        data = self.work.data
        counts = data.n_labels[lines]
        starts = np.repeat(data.label_off[lines], counts)
        within = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        owner = np.repeat(np.arange(len(lines)), counts)
        y = np.zeros((len(lines), self.work.loss.n_labels), self.work.table.dtype)
        y[owner, data.label_flat[starts + within]] = 1.0
        return y
