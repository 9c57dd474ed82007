"""The compiled per-example SGD step of the fastText classifier (``sgd_kernel.c``).

fastText trains one example at a time. In numpy a step costs tens of microseconds of
call overhead whatever its size, so the numpy trainer (``train._EpochRunner``) groups
examples into mini-batches. This module builds the same step, one example at a time as
fastText does, from a C file: on first use it is compiled with the system C compiler
(``$CC``, else ``cc``) into a cache directory (``$DANLU_CACHE``, else
``$XDG_CACHE_HOME/danlu`` or ``~/.cache/danlu``) and loaded with ctypes. A later run
loads the cached library (about a millisecond). Without a compiler, :func:`load`
returns None and training uses numpy; ``-engine numpy`` asks for that explicitly. The
same library reads a training file (``read_tokens``, :class:`ReadJob`: :mod:`fast_reader`;
without it the file is read in Python).

ctypes releases the GIL during the call, so ``-thread N`` runs N Python threads on the
same arrays without locks: fastText's Hogwild (``c_engine`` fills the :class:`Job`).

The loss codes of the C file (``enum Loss``) are :data:`LOSS_CODES`, the positions of the
losses in :data:`config.LOSSES` (a test parses the C enum and compares).

Example:
    >>> lib = load()  # doctest: +SKIP
    >>> if lib is not None: lib.train_share(job, np.float32)  # doctest: +SKIP
"""

from __future__ import annotations

import ctypes
import os
import sys
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from danlu.tasks.text_classification.config import LOSSES

__all__ = [
    "LOSS_CODES",
    "Job",
    "Kernel",
    "ReadJob",
    "WordJob",
    "load",
    "pointer",
    "unavailable_reason",
]

SOURCE = Path(__file__).with_name("sgd_kernel.c")
LOSS_CODES = {name: i for i, name in enumerate(LOSSES)}  # enum Loss in sgd_kernel.c
# -fopenmp-simd: the `omp simd` reductions vectorize without -ffast-math elsewhere
FLAG_SETS = (
    ["-O3", "-march=native", "-fopenmp-simd", "-fPIC", "-shared"],
    ["-O3", "-fPIC", "-shared"],
)

_i64 = ctypes.POINTER(ctypes.c_int64)


class Job(ctypes.Structure):
    """Mirror of ``Job`` in ``sgd_kernel.c`` (field order matters)."""

    _fields_ = [
        ("input", ctypes.c_void_p),
        ("output", ctypes.c_void_p),
        ("dim", ctypes.c_int64),
        ("n_out", ctypes.c_int64),
        ("rows", _i64),
        ("offsets", _i64),
        ("order", _i64),
        ("n", ctypes.c_int64),
        ("ntok", _i64),
        ("target", _i64),
        ("label_off", _i64),
        ("label_flat", _i64),
        ("negatives", _i64),
        ("neg", ctypes.c_int64),
        ("paths", _i64),
        ("codes", ctypes.c_void_p),
        ("path_len", _i64),
        ("depth", ctypes.c_int64),
        ("seen", _i64),
        ("lr", ctypes.c_double),
        ("total_tokens", ctypes.c_double),
        ("rate", ctypes.c_int64),
        ("void_row", ctypes.c_int64),
        ("loss", ctypes.c_int64),
        ("scratch", ctypes.c_void_p),
        ("loss_sum", ctypes.c_double),
        ("last_lr", ctypes.c_double),
    ]


class WordJob(ctypes.Structure):
    """Mirror of ``WordJob`` in ``sgd_kernel.c``: one worker's lines of cbow or skipgram."""

    _fields_ = [
        ("input", ctypes.c_void_p),
        ("output", ctypes.c_void_p),
        ("dim", ctypes.c_int64),
        ("n_out", ctypes.c_int64),
        ("tokens", _i64),
        ("line_off", _i64),
        ("n_lines", ctypes.c_int64),
        ("sub_off", _i64),
        ("sub_rows", _i64),
        ("pdiscard", ctypes.c_void_p),
        ("negatives", ctypes.c_void_p),
        ("n_table", ctypes.c_int64),
        ("neg", ctypes.c_int64),
        ("paths", _i64),
        ("codes", ctypes.c_void_p),
        ("path_len", _i64),
        ("depth", ctypes.c_int64),
        ("ws", ctypes.c_int64),
        ("cbow", ctypes.c_int64),
        ("loss", ctypes.c_int64),
        ("rng", ctypes.c_uint64),
        ("seen", _i64),
        ("local", ctypes.c_int64),
        ("lr", ctypes.c_double),
        ("total_tokens", ctypes.c_double),
        ("rate", ctypes.c_int64),
        ("scratch", ctypes.c_void_p),
        ("kept", _i64),
        ("flush", ctypes.c_int64),
        ("loss_sum", ctypes.c_double),
        ("n_examples", ctypes.c_int64),
        ("last_lr", ctypes.c_double),
    ]


class ReadJob(ctypes.Structure):
    """Mirror of ``ReadJob`` in ``sgd_kernel.c``: a training file to tokenise and count
    (``words_only``: a word-vector corpus, no labels, every line kept)."""

    _fields_ = [
        ("text", ctypes.c_void_p),
        ("n", ctypes.c_int64),
        ("prefix", ctypes.c_char_p),
        ("prefix_len", ctypes.c_int64),
        ("words_only", ctypes.c_int64),
        ("word_tok", ctypes.c_void_p),
        ("label_tok", ctypes.c_void_p),
        ("word_off", _i64),
        ("label_off", _i64),
        ("count", _i64),
        ("hash", ctypes.c_void_p),
        ("is_label", ctypes.c_void_p),
        ("strings", ctypes.c_void_p),
        ("first", _i64),
        ("n_lines", ctypes.c_int64),
        ("n_words", ctypes.c_int64),
        ("n_labels", ctypes.c_int64),
        ("n_distinct", ctypes.c_int64),
        ("strings_len", ctypes.c_int64),
        ("skipped", ctypes.c_int64),
        ("ntokens", ctypes.c_int64),
    ]


def pointer(array: np.ndarray | None, dtype: Any) -> Any:
    """The data pointer of a C-contiguous ``array`` of ``dtype`` (None: NULL)."""
    if array is None:
        return None
    if array.dtype != dtype or not array.flags.c_contiguous:
        raise ValueError(f"kernel arrays must be C-contiguous {np.dtype(dtype)}, got "
                         f"{array.dtype}")  # fmt: skip
    if dtype == np.int64:
        return array.ctypes.data_as(_i64)
    return ctypes.c_void_p(array.ctypes.data)


class Kernel:
    """The loaded library: ``train_share(job, dtype)`` runs one worker's share of the
    classifier, ``train_words(job, dtype)`` of a word-vector model, ``read_tokens(job)``
    reads a training file (:mod:`fast_reader`); ``decayed_lr`` is the C copy of
    :func:`numpy_engine.decayed_lr` (for the tests)."""

    def __init__(self, lib: ctypes.CDLL) -> None:
        self.decayed_lr = lib.decayed_lr
        self.decayed_lr.argtypes = [ctypes.c_double, ctypes.c_int64, ctypes.c_int64,
                                    ctypes.c_double]  # fmt: skip
        self.decayed_lr.restype = ctypes.c_double
        self._fns = {}
        for name, struct in (("train_share", Job), ("train_words", WordJob)):
            for suffix, dtype in (("f32", np.float32), ("f64", np.float64)):
                fn = getattr(lib, f"{name}_{suffix}")
                fn.argtypes = [ctypes.POINTER(struct)]
                fn.restype = ctypes.c_int64
                self._fns[name, np.dtype(dtype)] = fn
        self._read = lib.read_tokens
        self._read.argtypes = [ctypes.POINTER(ReadJob)]
        self._read.restype = ctypes.c_int64
        self._scores = {}  # line_scores: the classifier's forward pass, per weight dtype
        for suffix, dtype in (("f32", np.float32), ("f64", np.float64)):
            fn = getattr(lib, f"line_scores_{suffix}")
            fn.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64, ctypes.c_int64, _i64,
                           ctypes.c_void_p, _i64, ctypes.c_int64, ctypes.c_void_p]  # fmt: skip
            fn.restype = ctypes.c_int64
            self._scores[np.dtype(dtype)] = fn
        # plain_text.py calls these two: a vocabulary's hash table, lines looked up in it
        self.vocab_table = lib.vocab_table
        self.vocab_table.argtypes = [ctypes.c_void_p, _i64, ctypes.c_int64, ctypes.c_void_p,
                                     ctypes.c_void_p, ctypes.c_int64]  # fmt: skip
        self.vocab_table.restype = None
        self.line_tokens = lib.line_tokens
        self.line_tokens.argtypes = [ctypes.c_char_p, ctypes.c_int64, ctypes.c_int64,
                                     ctypes.c_void_p, _i64, ctypes.c_void_p, ctypes.c_void_p,
                                     ctypes.c_int64, _i64, ctypes.c_void_p, _i64]  # fmt: skip
        self.line_tokens.restype = ctypes.c_int64
        self.pq_decode = lib.pq_decode  # product_quantizer.py: rows from their codes
        self.pq_decode.argtypes = [ctypes.c_void_p, ctypes.c_int64, ctypes.c_int64,
                                   ctypes.c_void_p, ctypes.c_int64, ctypes.c_int64,
                                   ctypes.c_void_p, ctypes.c_void_p]  # fmt: skip
        self.pq_decode.restype = None

    def _call(self, name: str, job: Any, dtype: Any) -> None:
        fn = self._fns.get((name, np.dtype(dtype)))
        if fn is None:
            raise ValueError(f"the kernel trains float32 or float64 weights, not {dtype}")
        fn(ctypes.byref(job))

    def train_share(self, job: Job, dtype: Any) -> None:
        self._call("train_share", job, dtype)

    def train_words(self, job: WordJob, dtype: Any) -> None:
        self._call("train_words", job, dtype)

    def read_tokens(self, job: ReadJob) -> None:
        """Fill ``job`` (counts only while ``job.word_off`` is NULL); see ``sgd_kernel.c``.

        Raises:
            MemoryError: its table of distinct tokens did not fit in memory.
        """
        if self._read(ctypes.byref(job)) != 0:
            raise MemoryError("out of memory reading the tokens of a training file")

    def line_scores(
        self, table: np.ndarray, output: np.ndarray | None, rows: np.ndarray,
        weight: np.ndarray, offsets: np.ndarray,
    ) -> np.ndarray:  # fmt: skip
        """``line_scores`` of ``sgd_kernel.c``: per line ``i``, ``h_i = sum_j weight[j]
        table[rows[j]]`` over ``j`` in ``offsets[i]:offsets[i+1]`` (in order), then
        ``output @ h_i``, or ``h_i`` itself when ``output`` is None.

        Args:
            table: (N, d) float32 or float64, C-contiguous.
            output: (n_out, d) of the same dtype, or None.
            rows: int64 (R,), each in ``[0, N)``.
            weight: (R,) of the table's dtype.
            offsets: int64 (L + 1,), from 0 to R, non-decreasing.

        Returns:
            (L, n_out), or (L, d) without ``output``, of the table's dtype.
        """
        dtype = table.dtype
        fn = self._scores.get(dtype)
        if fn is None or table.ndim != 2:
            raise ValueError(f"line_scores takes a 2-d float32 or float64 table, not "
                             f"{table.ndim}-d {dtype}")  # fmt: skip
        n_rows, dim = table.shape
        width = dim if output is None else output.shape[0]
        if output is not None and output.shape != (width, dim):
            raise ValueError(f"output {output.shape} does not fit a table of width {dim}")
        n = len(rows)
        if len(weight) != n or offsets[0] != 0 or offsets[-1] != n or (np.diff(offsets) < 0).any():
            raise ValueError("weight must have one value per row and offsets go from 0 to "
                             f"{n}, non-decreasing")  # fmt: skip
        if n and (rows.min() < 0 or rows.max() >= n_rows):
            raise ValueError(f"rows must lie in [0, {n_rows})")
        out = np.empty((len(offsets) - 1, width), dtype)
        status = fn(pointer(table, dtype), pointer(output, dtype), dim, width,
                    pointer(rows, np.int64), pointer(weight, dtype),
                    pointer(offsets, np.int64), len(offsets) - 1, pointer(out, dtype))  # fmt: skip
        if status != 0:
            raise MemoryError("out of memory scoring lines")
        return out


_loaded: Kernel | None = None
_reason: str | None = None


def unavailable_reason() -> str | None:
    """Why :func:`load` returned None (None if it loaded or was not tried)."""
    return _reason


def _cache_dir() -> Path:
    if os.environ.get("DANLU_CACHE"):
        return Path(os.environ["DANLU_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "danlu"


def _cpu_signature() -> bytes:
    """What -march=native depends on: a cached library is rebuilt on another CPU."""
    machine = (
        os.uname().machine if hasattr(os, "uname") else os.environ.get("PROCESSOR_IDENTIFIER", "")
    )
    sig = [machine, sys.platform]
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith(("flags", "Features", "model name")):
                    sig.append(line)
                if len(sig) >= 5:
                    break
    except OSError:
        pass
    return "\n".join(sig).encode()


def _compile(target: Path) -> str | None:
    """Build ``target``; None on success, else why not."""
    import shutil  # only here: these imports cost more than loading a cached build
    import subprocess
    import tempfile

    cc = os.environ.get("CC") or "cc"
    if shutil.which(cc) is None:
        return f"no C compiler ({cc!r} not on PATH)"
    target.parent.mkdir(parents=True, exist_ok=True)
    error = ""
    for flags in FLAG_SETS:
        fd, tmp = tempfile.mkstemp(suffix=".so", dir=target.parent)
        os.close(fd)
        try:
            try:
                proc = subprocess.run([cc, *flags, "-o", tmp, str(SOURCE), "-lm"],
                                      capture_output=True, text=True, timeout=300)  # fmt: skip
            except subprocess.TimeoutExpired:
                return f"{cc} did not finish in 300 s"
            if proc.returncode == 0:
                os.replace(tmp, target)  # atomic: a concurrent build never sees half a file
                return None
            last = (proc.stderr.strip().splitlines() or ["failed"])[-1]
            error = f"{cc} {' '.join(flags)} failed: {last}"
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    return error


def load() -> Kernel | None:
    """The compiled kernel, built on first use; None (see :func:`unavailable_reason`)."""
    global _loaded, _reason
    if _loaded is not None or _reason is not None:
        return _loaded
    try:
        src = SOURCE.read_bytes()
        key = zlib.crc32(src + b"\0" + repr(FLAG_SETS).encode() + _cpu_signature())
        target = _cache_dir() / f"sgd_kernel-{key:08x}.so"
        if not target.exists():
            _reason = _compile(target)
            if _reason is not None:
                return None
        _loaded = Kernel(ctypes.CDLL(str(target)))
    except OSError as err:  # unwritable cache, a library that does not load
        _reason = f"could not build or load the kernel: {err}"
    return _loaded
