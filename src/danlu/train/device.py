"""Choosing the device, the CPU threads and the autocast context (``--device``,
``--threads``, ``--amp``)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import torch

from danlu.errors import UsageError
from danlu.names import DEVICES

__all__ = ["autocast", "check_amp", "resolve_device", "use_threads"]


def resolve_device(name: str, *, local_rank: int | None = None) -> torch.device:
    """Map ``auto|cpu|cuda`` to a device; ``cuda`` without a GPU is a usage error.

    Under torchrun each process takes ``cuda:LOCAL_RANK``.
    """
    if name not in DEVICES:
        raise UsageError(f"invalid device {name!r}; valid: {', '.join(DEVICES)}")
    if name == "cpu" or (name == "auto" and not torch.cuda.is_available()):
        return torch.device("cpu")
    if not torch.cuda.is_available():
        raise UsageError("--device cuda was asked for but no CUDA GPU is visible; use --device cpu")
    index = local_rank if local_rank is not None else torch.cuda.current_device()
    return torch.device("cuda", index)


def check_amp(amp: bool, device: torch.device) -> None:
    """``--amp`` means bf16 autocast on CUDA; on CPU it is refused rather than ignored."""
    if amp and device.type != "cuda":
        raise UsageError(
            f"--amp (bf16 autocast) needs a CUDA device, but this run uses {device}; "
            "drop --amp or use --device cuda"
        )


@contextlib.contextmanager
def autocast(device: torch.device, enabled: bool) -> Iterator[None]:
    """bf16 autocast on CUDA when enabled, otherwise a no-op context."""
    if enabled and device.type == "cuda":
        with torch.autocast(device_type="cuda", dtype=torch.bfloat16):
            yield
    else:
        yield


def use_threads(threads: int) -> int:
    """Set how many threads torch's CPU operations use in this process (``--threads``).

    ``threads`` > 0 is used as given; 0 means ``$OMP_NUM_THREADS`` when it is set (its
    first number), else torch's own default (one per core), left as it is. On a 2-core
    machine shared with other heavy work, torch's threads spin against it: ``--threads 1``
    can make training many times faster there. Training commands call it through the
    ``Trainer``; inference commands call it with their own ``--threads``.

    Returns:
        The number of intra-op threads torch uses from now on.

    Raises:
        UsageError: ``threads`` < 0, or ``OMP_NUM_THREADS`` is not a positive number.

    Example:
        >>> use_threads(1)
        1
    """
    if threads < 0:
        raise UsageError(f"--threads must be >= 0 (0: $OMP_NUM_THREADS or one per core), "
                         f"got {threads}")  # fmt: skip
    if threads == 0:
        raw = os.environ.get("OMP_NUM_THREADS", "").strip()
        if not raw:
            return torch.get_num_threads()
        first = raw.split(",")[0].strip()
        if not first.isdigit() or int(first) < 1:
            raise UsageError(f"OMP_NUM_THREADS={raw!r} is not a positive number of threads; "
                             "set it to e.g. 2, unset it, or pass --threads N")  # fmt: skip
        threads = int(first)
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    return threads
