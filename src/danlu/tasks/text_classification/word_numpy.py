"""cbow and skipgram without a C compiler: the compiled step's updates, one at a time, in numpy.

The readable path of :mod:`word_engine` (whose kernel is the fast one): the same lines,
the same minstd random numbers in the same order, the same updates (tested equal in
float64), at a few microseconds of Python per update instead of a fraction of one, so
about a hundred times slower. ``train_word_vectors`` uses it where the kernel does not
build, on one worker. Per update (fastText's ``Model::update``, not normalised)::

    h = mean(W[rows]);  for each output c (softmax: all; hs: the path of y; ns: y, then
    the negatives): alpha = lr ([c is positive] - sigma(O[c] . h)) (softmax: - p_c)
    grad += alpha O[c];  O[c] += alpha h;           then W[r] += grad for r in rows

Example:
    >>> run = NumpyWordEngine(cfg, data, table, out, None, 1, counts)  # doctest: +SKIP
    >>> loss_sum, n, lr = run(epoch=0, w=0)  # doctest: +SKIP
"""

from __future__ import annotations

import math

import numpy as np

from danlu.tasks.text_classification.word_engine import MINSTD_M, WordEngine

__all__ = ["NumpyWordEngine"]


class NumpyWordEngine(WordEngine):
    """:class:`WordEngine`'s work in numpy (``kernel`` unused): worker ``w``'s lines."""

    def __call__(self, epoch: int, w: int) -> tuple[float, int, float]:
        """(loss sum, number of updates, last learning rate) of worker ``w``'s lines."""
        cfg, data = self.cfg, self.data
        self._x, self._loss, self._n = self.rng[w], 0.0, 0
        off, tokens, keep = data.line_off, data.tokens, data.keep
        lr = cfg.lr * max(0.0, 1.0 - float(self.seen[0]) / self.total)
        local = self.local[w]
        for i in range(self.bounds[w], self.bounds[w + 1]):
            if self.seen[0] >= self.total:  # fastText stops once epoch * ntokens were read
                break
            lr = cfg.lr * max(0.0, 1.0 - float(self.seen[0]) / self.total)
            raw = tokens[off[i] : off[i + 1]].tolist()
            line = [t for t in raw if self._next() / MINSTD_M <= keep[t]]
            for pos in range(len(line)):
                b = 1 + self._next() % cfg.ws
                context = range(max(pos - b, 0), min(pos + b, len(line) - 1) + 1)
                if cfg.model == "cbow":
                    rows = [r for c in context if c != pos for r in self._rows(line[c])]
                    if rows:
                        self._update(rows, line[pos], lr)
                else:
                    for c in context:
                        if c != pos:
                            self._update(self._rows(line[pos]), line[c], lr)
            local += len(raw)
            if local > cfg.lr_update_rate:
                self.seen[0] += local
                local = 0
        self.seen[0] += local  # the end of the share, as the kernel's last call
        self.rng[w], self.local[w] = self._x, 0
        return self._loss, self._n, lr

    def _next(self) -> int:
        self._x = self._x * 48271 % MINSTD_M
        return self._x

    def _rows(self, word: int) -> list[int]:
        return self.data.sub_rows[self.data.sub_off[word] : self.data.sub_off[word + 1]].tolist()

    def _update(self, rows: list[int], y: int, lr: float) -> None:
        table, out, loss = self.table, self.out, self.cfg.loss
        h = table[rows].mean(axis=0)
        grad = np.zeros_like(h)
        if loss == "softmax":
            s = out @ h
            p = np.exp(s - s.max())
            p /= p.sum()
            alpha = -lr * p
            alpha[y] += lr
            grad += alpha @ out
            out += np.outer(alpha, h)
            self._loss -= math.log(float(p[y]) + 1e-5)
        else:
            if loss == "hs":
                depth = int(self.path_len[y])
                pairs = zip(self.paths[y, :depth].tolist(), self.codes[y, :depth].tolist(),
                            strict=True)  # fmt: skip
            else:
                pairs = [(y, 1.0), *((self._negative(y), 0.0) for _ in range(self.cfg.neg))]
            for c, label in pairs:  # in order: a row drawn twice has moved
                s = float(out[c] @ h)
                alpha = lr * (label - 1.0 / (1.0 + math.exp(-s)))
                grad += alpha * out[c]
                out[c] += alpha * h
                self._loss += max(s, 0.0) + math.log1p(math.exp(-abs(s))) - s * label
        for r in rows:  # every occurrence gets the whole gradient
            table[r] += grad
        self._n += 1

    def _negative(self, y: int) -> int:
        neg = self.negatives
        assert neg is not None
        while True:
            c = int(neg[self._next() % len(neg)])
            if c != y:
                return c
