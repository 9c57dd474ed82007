"""Hogwild workers for ``-thread N``: threads or forked processes on shared weights.

fastText's Hogwild: ``N`` workers take their shares of every epoch and update the same
weights without locks. Two pools run an engine's ``run(epoch, w)`` on each worker:

- :class:`Threads` for the compiled step (``c_engine``), which releases the GIL;
- :class:`Hogwild`, forked processes, for the numpy step (which holds the GIL between
  its numpy calls); the weights live in an anonymous shared mapping
  (:func:`shared_zeros`) created before the fork, so every process sees the same memory.

Small corpora (under ``MIN_LINES_PER_WORKER`` lines per worker; word vectors: under
``MIN_TOKENS_PER_WORKER`` tokens) train on one worker, in the calling thread
(:func:`n_workers`).

Example:
    >>> pool = Threads(2, run)  # doctest: +SKIP
    >>> results = pool.epoch(0)  # [run(0, 0), run(0, 1)]  # doctest: +SKIP
    >>> pool.close()  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import mmap
import os
import sys
import traceback
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = [
    "MIN_LINES_PER_WORKER",
    "MIN_TOKENS_PER_WORKER",
    "Hogwild",
    "Threads",
    "n_workers",
    "shared_zeros",
]

MIN_LINES_PER_WORKER = 10_000
MIN_TOKENS_PER_WORKER = 100_000  # word vectors: below it a thread's share takes milliseconds


def shared_zeros(shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    """A zero array in an anonymous shared mapping: forked workers see the same memory."""
    count = int(np.prod(shape))
    buf = mmap.mmap(-1, max(count * np.dtype(dtype).itemsize, 1))
    return np.frombuffer(buf, dtype=dtype, count=count).reshape(shape)


def n_workers(
    threads: int, n_lines: int, processes: bool = True, per_worker: int = MIN_LINES_PER_WORKER
) -> int:
    """Workers for ``-thread threads`` on ``n_lines`` lines (1: in the calling thread),
    each with ``per_worker`` lines at least (word vectors count tokens instead).

    ``processes``: forked processes (the numpy step), Linux only; else threads.
    """
    if processes and sys.platform != "linux":  # forking: the only cheap way to share memory
        return 1
    cpus = len(os.sched_getaffinity(0))
    return max(1, min(threads, cpus, n_lines // per_worker))


class Hogwild:
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
        """``[run(epoch, w) for w in workers]``, run in parallel."""
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


class Threads:
    """``n`` threads that each run ``run(epoch, w)``: the compiled step drops the GIL."""

    def __init__(self, n: int, run: Callable[[int, int], Any]) -> None:
        self.n, self.run = n, run

    def epoch(self, epoch: int) -> list[Any]:
        """``[run(epoch, w) for w in workers]``, run in parallel."""
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
    """A forked worker's loop: an epoch number in, ``("ok", result)`` or the error out."""
    while True:
        epoch = conn.recv()
        if epoch is None:
            return
        try:
            conn.send(("ok", run(epoch, w)))
        except BaseException:  # report to the parent instead of dying silently
            conn.send(("error", traceback.format_exc()))
